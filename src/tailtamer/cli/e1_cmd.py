"""``tailtamer e1``: an alias of ``tailtamer study e1`` (E1 of docs/e1.md: tuning grid, 5 seeds × 3 noises
× 5 methods, scaling sweeps)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ..experiments.studies import gt_nsgdm_heavy_tails as e1
from ..experiments.study import run_study
from ..rundir.tensorboard import require_tensorboard
from ..validation import check_int
from .render import print_markdown


def main(args: argparse.Namespace) -> int:
    if args.write_configs:
        for path in e1.write_configs(Path(args.write_configs)):
            print(path)
        return 0
    if args.tensorboard:
        require_tensorboard()
    check_int("--seeds", args.seeds, 1)
    study = e1.STUDY
    if args.seeds != 5:
        study = dataclasses.replace(study, runs=lambda root, tuned: e1.main_jobs(root, tuned, args.seeds))
    root = Path(args.out)
    print_markdown(run_study(study, root, tune=args.tune, workers=args.workers, tensorboard=args.tensorboard))
    print(f"\nreport: {root / study.report_file}   plots: {root}/e1-*.png")
    return 0
