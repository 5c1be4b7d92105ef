"""``tailtamer study NAME [--tune] [--workers K] [--out DIR] [--executor ray [--ray-address ADDR]]``, and the
options its aliases (``tailtamer e1``, ``tailtamer tailopt``) share."""

from __future__ import annotations

import argparse

from .plugin import add_plugin


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="the study (see --list)")
    p.add_argument("--list", action="store_true", help="list the studies with their runs and rough cost")
    add_plugin(p)
    p.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="ENTRY",
        help="add a method's rows beside the study's (repeatable): NAME, NAME:key=value,... or a TOML "
        "file's [algorithm]; its family must fit the study",
    )
    p.add_argument("--out", help="root folder of the study (default runs/NAME); finished runs are skipped")
    p.add_argument(
        "--tune",
        action="store_true",
        help="first run the study's tuning grid (growing past edges that hold a winner) and use its "
        "winners; without it the recorded winners are used",
    )
    p.add_argument("--tune-seeds", type=int, metavar="K", help="tune on only the first K tuning seeds (reduced)")
    p.add_argument("--tune-only", action="store_true", help="stop after tuning (with --tune)")
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="runs at once (default: CPU count, at most 8; with --executor ray the cluster's CPUs)",
    )
    p.add_argument(
        "--executor",
        default="process",
        help="where the runs execute: process (worker processes here, the default) or ray "
        "(a Ray cluster; needs tailtamer[ray])",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --executor ray: the cluster, 'auto' (started here by `ray start`) or "
        "ray://HOST:10001 (default: a Ray instance started on this machine for the study)",
    )
    p.add_argument(
        "--tensorboard",
        action="store_true",
        help="every run also writes TensorBoard event files into its folder (needs tailtamer[tensorboard])",
    )
    p.add_argument(
        "--no-plot",
        action="store_true",
        help="no metrics.png in each run folder (the report's figures are still drawn); drawing them is "
        "about half of a batched tuning grid's time",
    )
    p.add_argument("--report-only", action="store_true", help="only rebuild the report from the run folders")


def add_alias_arguments(p: argparse.ArgumentParser, study: str, workers: int | None) -> None:
    """The options every study alias (``tailtamer e1``, ``tailtamer tailopt``) shares."""
    p.add_argument("--out", default=f"runs/{study}", help="root folder of the study")
    p.add_argument("--workers", type=int, default=workers, help="parallel processes")
    p.add_argument("--write-configs", metavar="DIR", help="only write the study's example configs to DIR")
