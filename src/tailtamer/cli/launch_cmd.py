"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse

from .run_cmd import add_run_arguments, load_config, out_folder, report, resume_hint

NAME = "launch"
HELP = "run one config as N processes over torch.distributed (same run folder as `run`)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    p.add_argument("--nproc", type=int, required=True, metavar="N",
                   help="number of processes on this machine (each hosts a block of ≥ 1 nodes)")
    p.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                   help="how long any receive or collective may wait before the run stops (default 300)")
    p.add_argument("--backend", choices=("gloo", "nccl"), default=None,
                   help="torch.distributed backend (default: gloo for [run] device = 'cpu', nccl for 'cuda'; "
                        "NCCL takes one process per GPU)")
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="torch threads per process (default 0: chosen from the problem size and --nproc)")


def main(args: argparse.Namespace) -> int:
    from .. import threads
    from ..distributed.run import check_launch, launch
    from ..engine.resume import folder_complete

    check_launch(args.nproc, args.timeout, max(1, args.threads))
    cfg = load_config(args)
    threads.fix(args.threads)
    per_process = threads.for_config(cfg, sharing=args.nproc)
    out = out_folder(args)
    resumed = args.resume or args.resume_previous
    complete = resumed and folder_complete(out)
    try:
        summary = launch(cfg, out, args.nproc, resume="strict" if args.resume else False, previous=args.resume_previous,
                         timeout=args.timeout, backend=args.backend, plot=not args.no_plot, progress=True,
                         threads=per_process)
    except KeyboardInterrupt:
        if out.exists():
            resume_hint(args, out, NAME)
        raise
    report(out, {**summary, "_complete": complete}, resumed)
    return 0
