"""``tailtamer e1 [--seeds K] [--tune] [--tensorboard]``: the options of ``tailtamer study e1``'s alias."""

from __future__ import annotations

import argparse

from .study import add_alias_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_alias_arguments(p, "e1", workers=None)
    p.add_argument("--seeds", type=int, default=5, help="seeds of each main run (default 5)")
    p.add_argument(
        "--tune",
        action="store_true",
        help="rerun the tuning grid (growing past edges that hold a "
        "winner) and use its winners instead of the recorded ones",
    )
    p.add_argument("--tensorboard", action="store_true", help="TensorBoard event files in every run folder")
