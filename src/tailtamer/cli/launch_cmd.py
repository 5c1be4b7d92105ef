"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

NAME = "launch"
HELP = "run one config as N processes over torch.distributed (same run folder as `run`)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="TOML config with [problem] [algorithm] [topology] [noise] [run]")
    p.add_argument("--nproc", type=int, required=True, metavar="N",
                   help="number of processes on this machine (each hosts a block of ≥ 1 nodes)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value (repeatable)")
    p.add_argument("--out", help="run folder (default runs/<config name>-<time>)")
    p.add_argument("--resume", action="store_true", help="continue the run folder from its checkpoint")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="how long any receive or collective may wait before the run stops (default 300)")
    p.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                   help="torch.distributed backend (default: gloo for [run] device = 'cpu', nccl for 'cuda'; "
                        "NCCL takes one process per GPU)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads per process (default 0: chosen from the problem size and --nproc)")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plot")


def main(args: argparse.Namespace) -> int:
    from .. import threads
    from ..config import apply_overrides, load_toml
    from ..distributed.run import launch

    cfg = apply_overrides(load_toml(args.config), args.overrides)
    threads.fix(args.threads)
    per_process = threads.for_config(cfg, sharing=max(1, args.nproc))
    out = Path(args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    summary = launch(cfg, out, args.nproc, resume=args.resume, timeout=args.timeout, backend=args.backend,
                     plot=not args.no_plot, progress=True, threads=per_process)
    print(f"run folder: {out}")
    print(json.dumps({"metrics": summary["metrics"], "steps": summary["steps"],
                      "wall_time_s": round(summary["wall_time_s"], 3)}, indent=None))
    return 0
