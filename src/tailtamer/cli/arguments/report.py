"""``tailtamer report RUN_DIR [RUN_DIR ...] [--metric M] [--rows F] [--cols F] [--e2] [--plot PNG --x KEY]``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", help="run folders, or folders holding them (searched recursively)")
    p.add_argument("--metric", help="summary metric (default: the runs' headline metric)")
    p.add_argument("--rows", default="algorithm", help="summary field for rows (default algorithm)")
    p.add_argument("--cols", default="topology.name", help="summary field for columns (default topology.name)")
    p.add_argument("--digits", type=int, default=3, help="decimal places of the table's numbers (≥ 0)")
    p.add_argument(
        "--plot",
        metavar="PNG",
        help="also draw the metric's curves, one per row × column of the table (mean over seeds, min–max band)",
    )
    p.add_argument(
        "--x",
        default="step",
        help="the plot's horizontal axis: step (default), sim_time (simulated seconds on each run's cluster: "
        "every family on one clock), bytes_per_node or wall_time_s",
    )
    p.add_argument(
        "--e2",
        action="store_true",
        help="Table 1 of arXiv 2505.03736: its row order and labels, "
        "columns ring / exp / complete, and the published value beside each cell",
    )
