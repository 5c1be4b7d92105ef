"""``tailtamer tailopt``: an alias of ``tailtamer study tailopt --tune`` (and ``tailopt-models`` with
``--models``): the TailOPT study (docs/tailopt.md), tuning grid, tuned methods on 3 seeds, table."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from .study_cmd import add_alias_arguments

NAME = "tailopt"
HELP = ("E3 at CPU scale (alias of 'tailtamer study tailopt --tune'): Bi2Clip vs Adam2, DiLoCo, FedAvg, Avg-L2Clip, "
        "Adam-SGD under injected Student-t and alpha-stable noise (tuning grid + 3 seeds); table of final quality, "
        "state bytes and comm bytes")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_alias_arguments(p, NAME, workers=1)
    p.add_argument("--models", action="store_true", help="also run the sst2 and gpt-multi30k tasks (small budget)")


def main(args: argparse.Namespace) -> int:
    import json

    from ..experiments import tailopt
    from .render import print_markdown

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
