"""``python -m tailtamer.experiments.studies.decentralized_gpt``: the E2 runs with ad-hoc reductions (the
declared studies are ``tailtamer study e2 | e2-tuned | e2-leaky | e2-smoke``)."""

from __future__ import annotations

import argparse
import time

from ....memory import keep_heap_memory
from ...sweep import run_sweep
from . import METHODS, TOPOLOGIES, jobs


def main(argv: list[str] | None = None) -> int:
    """Run the chosen methods × topologies × seeds into ``--out`` (``--smoke``: 1 seed, ring, 30 steps)."""
    ap = argparse.ArgumentParser(
        prog="python -m tailtamer.experiments.studies.decentralized_gpt", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", default="runs/e2")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--methods", nargs="*", choices=list(METHODS))
    ap.add_argument("--topologies", nargs="*", choices=list(TOPOLOGIES))
    ap.add_argument("--steps", type=int, help="override the number of steps")
    ap.add_argument(
        "--paper-faithful", action="store_true", help="the LEAKY published model (for comparison with Table 1 only)"
    )
    ap.add_argument("--smoke", action="store_true", help="1 seed, ring only, 30 steps (checks the recipe runs)")
    args = ap.parse_args(argv)
    if args.smoke:
        args.seeds, args.topologies, args.steps = 1, args.topologies or ["ring"], args.steps or 30
    keep_heap_memory()
    todo = jobs(args.out, args.seeds, args.methods, args.topologies, args.steps, args.paper_faithful)
    t0 = time.time()
    run_sweep(todo, workers=args.workers, label="e2")
    print(f"finished {len(todo)} runs in {time.time() - t0:.0f} s; table: tailtamer report {args.out} --e2")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
