"""``tailtamer study NAME [--tune] [--workers K] [--out DIR] [--executor ray [--ray-address ADDR]]``: run a
declared study (``--list`` lists them)."""
from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError

NAME = "study"
HELP = "run a declared study (E1, E2, TailOPT, ...): tuning grid, runs, tables and plots; --list lists them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="the study (see --list)")
    p.add_argument("--list", action="store_true", help="list the studies with their runs and rough cost")
    p.add_argument("--out", help="root folder of the study (default runs/NAME); finished runs are skipped")
    p.add_argument("--tune", action="store_true",
                   help="first run the study's tuning grid (growing past edges that hold a winner) and use its "
                        "winners; without it the recorded winners are used")
    p.add_argument("--tune-seeds", type=int, metavar="K", help="tune on only the first K tuning seeds (reduced)")
    p.add_argument("--tune-only", action="store_true", help="stop after tuning (with --tune)")
    p.add_argument("--workers", type=int, default=None,
                   help="runs at once (default: CPU count, at most 8; with --executor ray the cluster's CPUs)")
    p.add_argument("--executor", default="process",
                   help="where the runs execute: process (worker processes here, the default) or ray "
                        "(a Ray cluster; needs tailtamer[ray])")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --executor ray: the cluster, 'auto' (started here by `ray start`) or "
                        "ray://HOST:10001 (default: a Ray instance started on this machine for the study)")
    p.add_argument("--tensorboard", action="store_true",
                   help="every run also writes TensorBoard event files into its folder (needs tailtamer[tensorboard])")
    p.add_argument("--no-plot", action="store_true",
                   help="no metrics.png in each run folder (the report's figures are still drawn); drawing them is "
                        "about half of a stacked tuning grid's time")
    p.add_argument("--report-only", action="store_true", help="only rebuild the report from the run folders")


def add_alias_arguments(p: argparse.ArgumentParser, study: str, workers: int | None) -> None:
    """The options every study alias (``tailtamer e1``, ``tailtamer tailopt``) shares."""
    p.add_argument("--out", default=f"runs/{study}", help="root folder of the study")
    p.add_argument("--workers", type=int, default=workers, help="parallel processes")
    p.add_argument("--write-configs", metavar="DIR", help="only write the study's example configs to DIR")


def list_studies() -> str:
    from ..experiments.studies import studies
    from ..experiments.study import estimate

    lines = ["| study | runs (without --tune) | tuning grid (first round) | about |", "|---|---|---|---|"]
    root = Path("runs")
    for name, s in studies().items():
        runs = s.runs(root / name, s.tuned)
        first = f"{len(s.grid(root / name).first_round(root / name))} runs" if s.grid else "—"
        lines.append(f"| {name} | {estimate(s, runs, 1)} | {first} | {s.about} |")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from ..experiments.executors import make
    from ..experiments.studies import get
    from ..experiments.study import run_study
    from .render import print_markdown

    if args.list:
        print_markdown(list_studies())
        return 0
    if not args.name:
        raise ConfigError("give a study NAME, or --list to see them")
    study = get(args.name)
    if args.tensorboard:
        from ..rundir.tensorboard import require_tensorboard

        require_tensorboard()
    if (args.tune_seeds or args.tune_only) and not args.tune:
        raise ConfigError("--tune-seeds and --tune-only go with --tune")
    if args.tune_seeds is not None and args.tune_seeds < 1:
        raise ConfigError(f"--tune-seeds must be ≥ 1, got {args.tune_seeds}")
    if args.ray_address is not None and args.executor != "ray":
        raise ConfigError("--ray-address goes with --executor ray")
    executor = make(args.executor, args.ray_address)   # a missing Ray is named here, before anything runs
    root = Path(args.out or f"runs/{study.name}")
    if args.report_only:
        text = study.report(root)
    else:
        if study.name.startswith("e2"):
            from ..memory import keep_heap_memory

            keep_heap_memory()
        try:
            text = run_study(study, root, tune=args.tune, workers=args.workers, tensorboard=args.tensorboard,
                             tune_seeds=args.tune_seeds, tune_only=args.tune_only, executor=executor,
                             plot=False if args.no_plot else None)
        finally:
            executor.close()
    print_markdown(text)
    return 0
