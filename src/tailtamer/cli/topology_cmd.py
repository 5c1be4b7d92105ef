"""Mixing matrix summary and ρ: ``tailtamer topology NAME --n N [--set key=value ...] [--json]``."""
from __future__ import annotations

import argparse
import json

from ..config import parse_value
from ..errors import ConfigError

NAME = "topology"
HELP = "build a topology and print its mixing-matrix summary and spectral gap rho = ||W - 11^T/n||_2"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="topology name (see `tailtamer list topology`)")
    p.add_argument("--n", type=int, default=0, help="number of nodes (0 for a user matrix: from the file)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a topology parameter (repeatable), e.g. k=2 or self_weight=0.4")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of the summary")


def main(args: argparse.Namespace) -> int:
    from ..topology import build_topology

    params = {}
    for item in args.overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = parse_value(value.strip())
    topo = build_topology(args.name, args.n, params)
    print(json.dumps(topo.to_json()) if args.json else topo.summary())
    return 0
