"""``tailtamer report RUN_DIRS... [--metric M] [--e2]`` — a Table-1 style markdown table (mean ± std over
seeds) from run folders; reports only read run folders."""
from __future__ import annotations

import argparse

NAME = "report"
HELP = "markdown table (mean ± std over seeds) of a metric across run folders, e.g. E2's Table 1"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders, or folders holding them (searched recursively)")
    p.add_argument("--metric", help="summary metric (default: the runs' headline metric)")
    p.add_argument("--rows", default="algorithm", help="summary field for rows (default algorithm)")
    p.add_argument("--cols", default="topology.name", help="summary field for columns (default topology.name)")
    p.add_argument("--digits", type=int, default=3)
    p.add_argument("--e2", action="store_true", help="Table 1 of arXiv 2505.03736: its row order and labels, "
                   "columns ring / exp / complete, and the published value beside each cell")


def headline(runs) -> str:
    for run in runs:
        metrics = run.summary.get("metrics") or run.summary.get("last_metrics") or {}
        if metrics:
            return next(iter(metrics))
    return "val_loss"


def main(args: argparse.Namespace) -> int:
    from ..experiments.report import load_runs, pivot_table

    runs = load_runs(args.runs)
    metric = args.metric or headline(runs)
    kw = {}
    if args.e2:
        from ..experiments.e2 import METHODS, PUBLISHED, TOPOLOGIES

        cols = list(TOPOLOGIES)
        present = {r.get(args.rows) for r in runs}
        kw = {"row_order": [m for m in METHODS if m in present] + sorted(present - set(METHODS), key=str),
              "col_order": cols, "labels": {**METHODS, **TOPOLOGIES},
              "extra": lambda r, c: (f" (paper {PUBLISHED[r][cols.index(c)]})"
                                     if r in PUBLISHED and c in cols else "")}
    seeds = len({r.summary.get("seed") for r in runs})
    print(f"{metric}: mean ± std over seeds ({len(runs)} runs, {seeds} seed(s))\n")
    print(pivot_table(runs, metric, args.rows, args.cols, args.digits, **kw))
    return 0
