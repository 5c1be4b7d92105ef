"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse

from .. import threads
from ..api import problem_size
from ..distributed.run import check_launch, launch
from .run_cmd import execute, load_config, out_folder


def main(args: argparse.Namespace) -> int:
    check_launch(args.nproc, args.timeout, max(1, args.threads))
    cfg = load_config(args)
    threads.fix(args.threads)
    per_process = threads.for_sharing(args.nproc, lambda: problem_size(cfg))
    out = out_folder(args)
    return execute(args, out, args.command, lambda **kw: launch(cfg, out, args.nproc, timeout=args.timeout,
                                                                backend=args.backend, progress=True,
                                                                threads=per_process, time_scale=args.time_scale,
                                                                **kw))
