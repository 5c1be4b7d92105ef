"""``tailtamer topology NAME --n N [--set key=value ...] [--json]``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="topology name (see `tailtamer list topology`)")
    p.add_argument("--n", type=int, default=0, help="number of nodes (0 for a user matrix: from the file)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a topology parameter (repeatable), e.g. k=2 or self_weight=0.4",
    )
    p.add_argument("--json", action="store_true", help="print a JSON object instead of the summary")
