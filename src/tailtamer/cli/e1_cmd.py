"""``tailtamer e1``: rerun experiments.md E1 (tuning grid, 5 seeds × 3 noises × 5 methods, scaling sweeps)."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .demo_cmd import progress

NAME = "e1"
HELP = ("reproduce E1: 5 seeds x 3 noises x 5 methods on the ring of 20, the complete graph, the node-scaling "
        "sweep n in {2,5,10,20,40} and a noise-scale sweep; writes tables (e1-report.md) and plots")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/e1", help="root folder of the reproduction")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--tune", action="store_true", help="rerun the tuning grid and use its winners")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--write-configs", metavar="DIR", help="only write one example config per E1 variant to DIR")


def main(args: argparse.Namespace) -> int:
    from ..experiments import e1
    from ..experiments.sweep import run_sweep

    if args.write_configs:
        for path in e1.write_configs(Path(args.write_configs)):
            print(path)
        return 0
    root = Path(args.out)
    t0 = time.perf_counter()
    tuned = e1.TUNED
    if args.tune:
        print(f"tuning grid: {len(e1.tune_jobs(root))} runs to start, growing past edges that hold a winner")
        tuned = e1.tune(root, workers=args.workers, log=print)
        e1.save_tuned(root, tuned)
        print("tuned settings:", json.dumps(tuned))
    jobs = e1.main_jobs(root, tuned, args.seeds)
    print(f"E1: {len(jobs)} runs")
    run_sweep(jobs, workers=args.workers, on_done=progress)
    print(e1.report(root))
    print(f"\nreport: {root / 'e1-report.md'}   plots: {root}/e1-*.png   ({time.perf_counter() - t0:.1f} s)")
    return 0
