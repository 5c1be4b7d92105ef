"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse

from .run_cmd import add_run_arguments, execute, load_config, out_folder

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
    p.add_argument("--time-scale", type=float, default=None, metavar="SECONDS",
                   help="asynchronous configs (rank 0 serves, ranks 1..N-1 work): seconds of real time per unit "
                        "of the [timing] model, slept by each job (default 0.01)")


def main(args: argparse.Namespace) -> int:
    from .. import threads
    from ..distributed.run import check_launch, launch

    check_launch(args.nproc, args.timeout, max(1, args.threads))
    cfg = load_config(args)
    threads.fix(args.threads)
    per_process = threads.for_sharing(args.nproc, lambda: problem_size(cfg))
    out = out_folder(args)
    return execute(args, out, NAME, lambda **kw: launch(cfg, out, args.nproc, timeout=args.timeout,
                                                        backend=args.backend, progress=True, threads=per_process,
                                                        time_scale=args.time_scale, **kw))
