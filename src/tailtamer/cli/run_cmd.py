"""``tailtamer run CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from .. import threads
from ..config import apply_overrides, load_toml
from ..experiments.runner import run_config

NAME = "run"
HELP = "run one config in the simulator and write its run folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="TOML config with [problem] [algorithm] [topology] [noise] [run]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value (repeatable)")
    p.add_argument("--out", help="run folder (default runs/<config name>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run folder from its checkpoint")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="torch threads (default 0: chosen from the problem size, 1 for small problems)")


def main(args: argparse.Namespace) -> int:
    cfg = apply_overrides(load_toml(args.config), args.overrides)
    threads.fix(args.threads)
    out = Path(args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    summary = run_config(cfg, out, resume=args.resume, plot=not args.no_plot)
    print(f"run folder: {out}")
    print(json.dumps({"metrics": summary["metrics"], "steps": summary["steps"],
                      "wall_time_s": round(summary["wall_time_s"], 3)}, indent=None))
    return 0
