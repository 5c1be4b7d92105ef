"""``tailtamer run CONFIG.toml [--set section.key=value ...] [--unset section.key ...] [--out DIR] [--resume]``,
and the arguments ``launch`` shares."""

from __future__ import annotations

import argparse

from .plugin import add_plugin


def add_run_arguments(p: argparse.ArgumentParser, tensorboard: bool = True) -> None:
    """The arguments ``run`` and ``launch`` share: config, overrides, folder and resuming (and ``--tensorboard``
    where the command writes TensorBoard files: not ``launch``, whose ranks write none)."""
    p.add_argument(
        "config",
        nargs="?",
        help="TOML config with [problem] [algorithm] [topology] [noise] [run] "
        "(left out with --resume RUN_DIR: the folder's own config.toml is used)",
    )
    add_plugin(p)
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one config value (repeatable); changing a section's name drops the old entry's keys",
    )
    p.add_argument(
        "--unset",
        dest="unsets",
        action="append",
        default=[],
        metavar="SECTION.KEY",
        help="remove one config key, so its default applies (repeatable)",
    )
    p.add_argument("--out", help="run folder (default runs/<config name>-<time>)")
    p.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=False,
        metavar="RUN_DIR",
        help="continue a run folder from its latest checkpoint (a finished run is left as it is): "
        "--resume RUN_DIR alone uses the folder's own config.toml (no CONFIG, no --set needed); "
        "with CONFIG and --out DIR, a bare --resume continues DIR",
    )
    p.add_argument(
        "--resume-previous",
        action="store_true",
        help="continue from the previous checkpoint (checkpoint.prev.pt), when the latest is unreadable",
    )
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
    if tensorboard:
        p.add_argument(
            "--tensorboard",
            action="store_true",
            help="also write TensorBoard event files into the run "
            "folder (needs tailtamer[tensorboard]; view with tensorboard --logdir RUN_FOLDER)",
        )


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        metavar="N",
        help="torch threads (default 0: chosen from the problem size, 1 for small problems)",
    )
    p.add_argument(
        "--replay",
        metavar="RUN_DIR",
        default=None,
        help="asynchronous methods: replay the arrival order of a real run (tailtamer launch) from "
        "RUN_DIR/arrivals.jsonl in the simulator (same config); a log the real run did not "
        "finish is refused",
    )
    p.add_argument(
        "--partial-replay",
        action="store_true",
        help="with --replay: replay the complete events of an unfinished or cut arrival log (the "
        "summary records where it ended)",
    )
