"""``tailtamer study NAME [--tune] [--workers K] [--out DIR] [--executor ray [--ray-address ADDR]]``: run a
declared study (``--list`` lists them)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError
from ..experiments.added import parse_entry, with_added
from ..experiments.executors import make
from ..experiments.studies import get, studies
from ..experiments.study import estimate, run_study
from ..memory import keep_heap_memory
from ..rundir.tensorboard import require_tensorboard
from .render import print_markdown


def list_studies() -> str:
    lines = ["| study | runs (without --tune) | tuning grid (first round) | about |", "|---|---|---|---|"]
    root = Path("runs")
    for name, s in studies().items():
        runs = s.runs(root / name, s.tuned)
        first = f"{len(s.grid(root / name).first_round(root / name))} runs" if s.grid else "—"
        lines.append(f"| {name} | {estimate(s, runs, 1)} | {first} | {s.about} |")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    if args.list:
        print_markdown(list_studies())
        return 0
    if not args.name:
        raise ConfigError("give a study NAME, or --list to see them")
    study = get(args.name)
    if args.add:
        study = with_added(study, [parse_entry(e) for e in args.add], studies())
    if args.tensorboard:
        require_tensorboard()
    if (args.tune_seeds or args.tune_only) and not args.tune:
        raise ConfigError("--tune-seeds and --tune-only go with --tune")
    if args.tune_seeds is not None and args.tune_seeds < 1:
        raise ConfigError(f"--tune-seeds must be ≥ 1, got {args.tune_seeds}")
    if args.ray_address is not None and args.executor != "ray":
        raise ConfigError("--ray-address goes with --executor ray")
    executor = make(args.executor, args.ray_address)  # a missing Ray is named here, before anything runs
    root = Path(args.out or f"runs/{study.name}")
    if args.report_only:
        text = study.report(root)
    else:
        if study.name.startswith("e2"):
            keep_heap_memory()
        try:
            text = run_study(
                study,
                root,
                tune=args.tune,
                workers=args.workers,
                tensorboard=args.tensorboard,
                tune_seeds=args.tune_seeds,
                tune_only=args.tune_only,
                executor=executor,
                plot=False if args.no_plot else None,
            )
        finally:
            executor.close()
    print_markdown(text)
    return 0
