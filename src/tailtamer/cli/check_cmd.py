"""``tailtamer check NAME [--kind KIND] [--set key=value ...] [--distributed] [--plugin ...]``: the contract
suite on one component (an algorithm or scheme, noise model, compressor, timing model or problem), one line per
property, PASS / FAIL / SKIP with the reason (:mod:`tailtamer.contract`); exit code 1 when a property fails."""

from __future__ import annotations

import argparse
import time

from ..config import parse_value
from ..contract import check
from ..errors import ConfigError


def _params(items: list[str]) -> dict:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = parse_value(value)
    return out


def main(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    kind, results = check(args.name, args.kind, _params(args.params), distributed=args.distributed)
    print(f"{kind} '{args.name}':")
    for r in results:
        print(f"  {r.line()}")
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    print(
        f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped "
        f"in {time.perf_counter() - t0:.2f} s"
    )
    return 1 if counts["FAIL"] else 0
