"""The E1 tuning grid as today's sweep (one run per job) and as stacked sweeps (stacked runs), side by side.

Both sweeps run the same jobs (the first round of ``tailtamer study e1 --tune``: every grid point on both
tuning seeds; with ``--grid tailopt`` the first round of ``tailtamer study tailopt``'s tuning, local-update
methods) into fresh folders, with the same number of worker processes, one torch thread each, float64.
Each repeat times one sweep of each kind (alternating which goes first); the figure gives the medians, and
the last line is JSON with ``sweep_speedup`` (median time of the plain sweep / median time of the stacked
sweep), the thread count and the dtype. Both sweeps' workers fork from one forkserver that has imported torch
and tailtamer (:func:`tailtamer.experiments.executors.warm`); it starts once per process, before the timings
(``forkserver_start_s``), as it does once per study. The stacked folders' final metrics are checked against
the plain ones (equal within 1e-12), and so are their files (``same_files``: the same names in every run folder, and
checkpoints of the same size: each member's file holds its own state only).

    python benchmarks/sweep.py                               # the full grid, T = 3000 (idle machine)
    python benchmarks/sweep.py --quick                       # T ≤ 300, one repeat, for development
    python benchmarks/sweep.py --no-plots                    # neither sweep draws a metrics.png per run
    python benchmarks/sweep.py --seeds 96 --no-plots         # 96 seeds of one config: two 48-member stacked runs
    python benchmarks/sweep.py --seeds 48 --no-plots --problem logistic   # the same jobs on logistic regression
    python benchmarks/sweep.py --grid tailopt                # TailOPT's tuning grid: 272 local-update runs

``--problem logistic`` swaps E1's tokenized regression for logistic regression (n = 20 as E1, 2,000 samples,
d = 20, regulariser 0.01) in every job: a problem whose gradient, not the per-step overhead, is most of a run.

``--grid tailopt`` times the TailOPT study's tuning grid instead (Bi²Clip, Adam², DiLoCo, FedAvg, Avg-L2Clip,
Adam-SGD on a quadratic and a logistic task under Student-t and α-stable noise: 272 runs of T = 200 rounds of
5 local steps, 4 of 8 clients sampled per round), whose members are stacked with one server row each
(:mod:`tailtamer.comm.server`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tailtamer.experiments.executors import warm
from tailtamer.experiments.stacked import StackedRun, plan
from tailtamer.experiments.studies import gt_nsgdm_heavy_tails as e1
from tailtamer.experiments.studies import tailopt_local_updates as tailopt
from tailtamer.experiments.sweep import run_sweep
from tailtamer.rundir.folder import read_summary

#: ``--problem``: E1's own problem (None), or one put in its place in every job.
PROBLEMS: dict[str, dict | None] = {
    "e1": None,
    "logistic": {"name": "logistic", "samples": 2000, "dim": 20, "reg": 0.01},
}


#: ``--grid``: the first tuning round of a study.
GRIDS = {"e1": e1.tune_jobs, "tailopt": tailopt.tune_jobs}


def jobs(root: Path, args: argparse.Namespace) -> list[tuple[Path, dict]]:
    """The ``--grid``'s first tuning round (its first ``--limit`` jobs), or with ``--seeds R`` R seeds of the
    grid's first config (E1: GT-NSGDm; one stacked run per worker of R / workers members: the large-stack case)."""
    grid = GRIDS[args.grid](root)
    if args.seeds:
        base = grid[0][1]
        grid = [
            (root / "seeds" / f"seed{s}", {**copy.deepcopy(base), "run": {**base["run"], "seed": s}})
            for s in range(1000, 1000 + args.seeds)
        ]
    out = []
    for folder, cfg in grid[: args.limit]:
        steps = args.steps or cfg["run"]["steps"]
        cfg["run"]["steps"] = min(steps, 300) if args.quick else steps
        if PROBLEMS[args.problem] is not None:
            cfg["problem"] = copy.deepcopy(PROBLEMS[args.problem])
        out.append((folder, cfg))
    return out


def timed(root: Path, args: argparse.Namespace, stack: bool) -> float:
    shutil.rmtree(root, ignore_errors=True)
    todo = jobs(root, args)
    t0 = time.perf_counter()
    run_sweep(todo, workers=args.workers, progress=False, stack=stack, plot=not args.no_plots)
    return time.perf_counter() - t0


def finals(root: Path, args: argparse.Namespace) -> list[dict]:
    return [(read_summary(Path(f)) or {}).get("metrics", {}) for f, _ in jobs(root, args)]


def files(root: Path, args: argparse.Namespace) -> list[dict[str, int]]:
    """Each run folder's files: name → size for checkpoints (their contents are one member's state, so the
    same size as a standalone run's), name → 0 for the others (their sizes hold timings)."""
    return [
        {p.name: (p.stat().st_size if p.suffix == ".pt" else 0) for p in Path(f).iterdir()} for f, _ in jobs(root, args)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", choices=sorted(GRIDS), default="e1", help="whose tuning grid (default E1's)")
    ap.add_argument("--steps", type=int, default=0, help="steps per run (default: the grid's, E1 3000, TailOPT 200)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes of both sweeps")
    ap.add_argument("--repeats", type=int, default=3, help="timed sweeps of each kind (medians reported)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N jobs of the grid")
    ap.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="instead of the grid: R seeds of its first GT-NSGDm config (the large-stack case)",
    )
    ap.add_argument(
        "--problem",
        choices=sorted(PROBLEMS),
        default="e1",
        help="E1's problem, or logistic regression in its place in every job",
    )
    ap.add_argument(
        "--no-plots",
        action="store_true",
        help="no metrics.png per run in either sweep (today's sweeps draw one per run)",
    )
    ap.add_argument("--quick", action="store_true", help="T ≤ 300, one repeat (for development)")
    args = ap.parse_args()
    if args.problem != "e1" and args.grid != "e1":
        ap.error("--problem replaces E1's problem: use it with --grid e1")
    if args.quick:
        args.repeats = 1
    torch.set_num_threads(1)
    start = warm()  # the workers' forkserver (imports torch and tailtamer once per process): not in the timings
    tmp = Path(tempfile.mkdtemp(prefix="tailtamer-sweep-bench-"))
    todo = jobs(tmp / "plan", args)
    units = plan([(str(f), c) for f, c in todo], args.workers)
    sizes = sorted((len(u.jobs) for u in units if isinstance(u, StackedRun)), reverse=True)
    plain_t, stacked_t = [], []
    try:
        for i in range(args.repeats):
            order = (False, True) if i % 2 == 0 else (True, False)
            for stack in order:
                t = timed(tmp / ("stacked" if stack else "plain"), args, stack)
                (stacked_t if stack else plain_t).append(t)
        a, b = finals(tmp / "plain", args), finals(tmp / "stacked", args)
        same_files = files(tmp / "plain", args) == files(tmp / "stacked", args)
        worst = max(
            (
                abs(x[k] - y[k])
                for x, y in zip(a, b)
                for k in x
                if x[k] == x[k] and y.get(k) == y.get(k) and abs(x[k]) != float("inf")
            ),
            default=0.0,
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mp, mb = statistics.median(plain_t), statistics.median(stacked_t)
    runs, steps = len(todo), todo[0][1]["run"]["steps"]
    name = {"e1": "E1", "tailopt": "TailOPT"}[args.grid]
    what = f"{args.seeds} seeds of one {name} config" if args.seeds else f"{name} tuning grid, first round"
    what += f", on {args.problem}" if PROBLEMS[args.problem] is not None else ""
    print(
        f"{what}: {runs} runs × {steps} steps, {args.workers} workers × 1 thread, "
        f"float64, {'no plots' if args.no_plots else 'a metrics.png per run'}; stacked runs of {sizes} members; "
        f"workers forked from a preloaded forkserver (started once, {start:.1f} s, before the timings)"
    )
    width = 40
    for label, t in (("plain sweep (one run per job)", mp), ("stacked sweep (stacked runs)", mb)):
        bar = "█" * max(1, round(width * t / max(mp, mb)))
        print(f"  {label:<32} {bar:<{width}} {t:7.2f} s  ({runs * steps / t:9.0f} run-steps/s)")
    print(
        f"  speedup {mp / mb:.1f}×; largest metric difference stacked vs plain: {worst:.1e}; "
        f"same files (names, checkpoint sizes): {same_files}"
    )
    print(
        json.dumps(
            {
                "benchmark": "sweep",
                "jobs": f"seeds:{args.seeds}" if args.seeds else f"{args.grid}-tune-grid",
                "runs": runs,
                "grid": args.grid,
                "problem": args.problem,
                "steps": steps,
                "workers": args.workers,
                "threads": 1,
                "dtype": "float64",
                "plots": not args.no_plots,
                "repeats": args.repeats,
                "plain_s": plain_t,
                "stacked_s": stacked_t,
                "plain_median_s": mp,
                "stacked_median_s": mb,
                "stack_sizes": sizes,
                "forkserver_start_s": start,
                "max_metric_diff": worst,
                "same_files": same_files,
                "sweep_speedup": mp / mb,
            }
        )
    )


if __name__ == "__main__":
    main()
