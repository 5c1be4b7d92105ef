"""``python -m tailtamer.experiments.studies.asynchronous_methods``: the former ad-hoc E4 driver, now
``tailtamer study e4-cpu --tune`` (``--quick``: ``e4-smoke``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...study import run_study
from . import CPU_STUDY, SMOKE_STUDY


def main(argv: list[str] | None = None) -> int:
    """Run ``e4-cpu`` (``--quick``: ``e4-smoke``) with ``--tune`` into ``--out``."""
    ap = argparse.ArgumentParser(
        prog="python -m tailtamer.experiments.studies.asynchronous_methods", description=__doc__
    )
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    run_study(SMOKE_STUDY if args.quick else CPU_STUDY, Path(args.out), tune=True, workers=args.workers)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
