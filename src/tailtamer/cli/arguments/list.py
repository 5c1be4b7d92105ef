"""``tailtamer list [KIND]``."""

from __future__ import annotations

import argparse

from .plugin import add_plugin


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "kind",
        nargs="?",
        help="only this registry (algorithm, problem, topology, noise, compression, timing, schedule, delay, "
        "compensation, transform)",
    )
    add_plugin(p)
