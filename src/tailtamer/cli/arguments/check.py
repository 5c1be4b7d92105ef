"""``tailtamer check NAME [--kind KIND] [--set key=value ...] [--distributed] [--plugin ...]``."""

from __future__ import annotations

import argparse

from .plugin import add_plugin

#: The kinds of component the contract suite checks (:data:`tailtamer.contract.KINDS`, kept equal by a test).
KINDS = ("algorithm", "noise", "compression", "timing", "problem")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="a registered name (see `tailtamer list`)")
    p.add_argument("--kind", choices=list(KINDS), help="the kind, when the name is registered in several")
    p.add_argument(
        "--set",
        dest="params",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the component (repeatable), e.g. --set path=times.csv",
    )
    p.add_argument(
        "--distributed",
        action="store_true",
        help="also check that 2 gloo processes equal the simulator (algorithms; slow)",
    )
    add_plugin(p)
