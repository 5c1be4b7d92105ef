"""``tailtamer demo [--out DIR] [--seeds K] [--workers K]``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="runs/demo", help="folder for the run folders and the plot")
    p.add_argument("--seeds", type=int, default=3, help="seeds per method (default 3; each seed is one run per method)")
    p.add_argument("--workers", type=int, default=None, help="parallel processes (default: CPU count)")
