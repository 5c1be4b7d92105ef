"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""

from __future__ import annotations

import argparse

from .run import add_run_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p, tensorboard=False)
    p.add_argument(
        "--nproc",
        type=int,
        default=None,
        metavar="N",
        help="number of processes on this machine (each hosts a block of ≥ 1 nodes); on --resume RUN_DIR "
        "the count the run was launched with, unless given",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long any receive or collective may wait before the run stops (default 300)",
    )
    p.add_argument(
        "--backend",
        choices=("gloo", "nccl"),
        default=None,
        help="torch.distributed backend (default: gloo for [run] device = 'cpu', nccl for 'cuda'; "
        "NCCL takes one process per GPU)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=0,
        metavar="N",
        help="torch threads per process (default 0: chosen from the problem size and --nproc)",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        metavar="SECONDS",
        help="asynchronous configs (rank 0 serves, ranks 1..N-1 work): seconds of real time per unit "
        "of the [timing] model, slept by each job (default 0.01)",
    )
