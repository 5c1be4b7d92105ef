"""``tailtamer tailopt``: an alias of ``tailtamer study tailopt --tune`` (and ``tailopt-models`` with
``--models``): the TailOPT study (docs/tailopt.md), tuning grid, tuned methods on 3 seeds, table."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ..experiments.studies import tailopt_local_updates as tailopt
from .render import print_markdown


def main(args: argparse.Namespace) -> int:
    if args.write_configs:
        root = Path(args.out)
        tuned = json.loads((root / "tuned.json").read_text()) if (root / "tuned.json").exists() else None
        for path in tailopt.write_configs(Path(args.write_configs), tuned):
            print(path)
        return 0
    t0 = time.perf_counter()
    print_markdown(tailopt.run_all(Path(args.out), workers=args.workers, models=args.models))
    print(f"\nreport: {Path(args.out) / 'tailopt-report.md'}   ({time.perf_counter() - t0:.1f} s)")
    return 0
