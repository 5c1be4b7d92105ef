"""Mixing matrix summary and ρ: ``tailtamer topology NAME --n N [--set key=value ...] [--json]``."""

from __future__ import annotations

import argparse
import json

from ..config import parse_value
from ..errors import ConfigError
from ..topology import build_topology


def main(args: argparse.Namespace) -> int:
    params = {}
    for item in args.overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        params[key.strip()] = parse_value(value.strip())
    topo = build_topology(args.name, args.n, params)
    print(json.dumps(topo.to_json()) if args.json else topo.summary())
    return 0
