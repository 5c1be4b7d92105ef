"""``tailtamer e1``: an alias of ``tailtamer study e1`` (E1 of docs/e1.md: tuning grid, 5 seeds × 3 noises
× 5 methods, scaling sweeps)."""
from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from .study_cmd import add_alias_arguments

NAME = "e1"
HELP = ("reproduce E1 (alias of 'tailtamer study e1'): 5 seeds x 3 noises x 5 methods on the ring of 20, the "
        "complete graph, the node-scaling sweep n in {2,5,10,20,40} and a noise-scale sweep; writes tables "
        "(e1-report.md) and plots")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_alias_arguments(p, NAME, workers=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--tune", action="store_true", help="rerun the tuning grid (growing past edges that hold a "
                   "winner) and use its winners instead of the recorded ones")
    p.add_argument("--tensorboard", action="store_true", help="TensorBoard event files in every run folder")


def main(args: argparse.Namespace) -> int:
    from ..experiments.studies import gt_nsgdm_heavy_tails as e1
    from ..experiments.study import run_study
    from .render import print_markdown

    if args.write_configs:
        for path in e1.write_configs(Path(args.write_configs)):
            print(path)
        return 0
    if args.tensorboard:
        from ..rundir.tensorboard import require_tensorboard

        require_tensorboard()
    study = e1.STUDY
    if args.seeds != 5:
        study = dataclasses.replace(study, runs=lambda root, tuned: e1.main_jobs(root, tuned, args.seeds))
    root = Path(args.out)
    print_markdown(run_study(study, root, tune=args.tune, workers=args.workers, tensorboard=args.tensorboard))
    print(f"\nreport: {root / study.report_file}   plots: {root}/e1-*.png")
    return 0
