"""``tailtamer demo``: the main job (E1 under α-stable noise, GT-NSGDm against four baselines, 3 seeds); the
declared study ``demo`` (``tailtamer study demo``)."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ..experiments.executors import check_workers
from ..experiments.studies import gt_nsgdm_heavy_tails as e1
from ..experiments.study import run_study
from ..validation import check_int
from .render import print_markdown


def main(args: argparse.Namespace) -> int:
    check_int("--seeds", args.seeds, 1)
    check_workers(args.workers)
    root = Path(args.out)
    study = dataclasses.replace(e1.DEMO, runs=lambda root, tuned: e1.demo_jobs(root, args.seeds))
    print(
        f"E1 demo: {len(e1.METHODS)} methods x {args.seeds} seeds, alpha-stable noise (alpha 1.5, skew 0.5, "
        f"scale {e1.NOISE_SCALE}), ring n=20 k=2 (rho 0.904), T={e1.STEPS}"
    )
    print_markdown(run_study(study, root, workers=args.workers))
    print(f"plot: {root / 'comparison.png'}   run folders: {root}/<method>/seed<k>")
    return 0
