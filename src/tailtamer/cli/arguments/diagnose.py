"""``tailtamer diagnose RUN_DIR`` or ``tailtamer diagnose --run CONFIG --out DIR [--every K]``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", nargs="?", help="run folder holding noise.jsonl")
    p.add_argument("--plot", help="PNG to write (default RUN_DIR/noise.png)")
    p.add_argument(
        "--run",
        metavar="CONFIG",
        help="first run this TOML config (a model problem) into --out, measuring gradient noise during training",
    )
    p.add_argument("--out", help="run folder for --run")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="config override for --run (repeatable)",
    )
    p.add_argument("--every", type=int, default=0, help="measure after every K-th step (default: 8 times a run)")
    p.add_argument("--draws", type=int, default=4, help="minibatch gradients per node and measurement")
    p.add_argument("--large-batch", type=int, default=0, help="samples of the reference gradient (default 16·B)")
