"""``tailtamer sde CONFIG [--out DIR] [--set section.key=value ...] [--no-sde]``."""

from __future__ import annotations

import argparse

from .plugin import add_plugin


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="lab config: [problem], [method], [noise], [sde] (see tailtamer.sde.lab)")
    p.add_argument("--out", default=None, help="output folder (default runs/sde/<config name>)")
    add_plugin(p)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value (repeatable), e.g. method.lr=0.005",
    )
    p.add_argument("--no-sde", action="store_true", help="the discrete method only (e.g. for ν ≤ 2)")
