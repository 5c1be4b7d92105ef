"""``tailtamer advise CONFIG --cluster PRESET|FILE [--out DIR] [--workers K] [--horizon S] [--target V |
--fraction F] [--methods A,B] [--dry-run]``: which method of the four families reaches the target first on your
problem and cluster (docs/crossfamily.md)."""

from __future__ import annotations

import argparse

from .plugin import add_plugin


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "config", help="TOML config: its [problem], [noise], [run] dtype and seed, and [topology] n are used"
    )
    p.add_argument(
        "--cluster",
        metavar="PRESET|FILE",
        help="a cluster preset (datacenter, cross-region, edge, ideal) or a TOML file with a [cluster] table "
        "(default: the config's [cluster])",
    )
    add_plugin(p)
    p.add_argument("--out", help="folder of the advise runs (default runs/advise-<config>-<cluster>); rerun to resume")
    p.add_argument("--workers", type=int, default=None, help="runs at once (default: CPU count, at most 8)")
    p.add_argument(
        "--horizon",
        type=float,
        metavar="SECONDS",
        help="simulated seconds every method gets (default: the config's [run] time, else the time its [run] "
        "steps of minibatch SGD take on the cluster)",
    )
    goal = p.add_mutually_exclusive_group()
    goal.add_argument("--target", type=float, metavar="VALUE", help="the headline metric's target value")
    goal.add_argument(
        "--fraction",
        type=float,
        metavar="F",
        help="target: the headline metric's distance to its ideal (0; 1 for an accuracy) shrunk to F of its "
        "initial value (default 0.2)",
    )
    p.add_argument("--methods", metavar="A,B,...", help="only these methods (the crossfamily study's row names)")
    p.add_argument("--dry-run", action="store_true", help="state the cost and stop")
