"""``tailtamer launch --nproc N CONFIG.toml [--set section.key=value ...] [--out DIR] [--resume]``."""

from __future__ import annotations

import argparse

from .. import threads
from ..api import problem_size
from ..distributed.run import check_launch, launch, launched_nproc
from .run_cmd import execute, load_config, out_folder, sized_config


def main(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    out = out_folder(args)
    nproc = args.nproc if args.nproc is not None else launched_nproc(out, bool(args.resume))
    check_launch(nproc, args.timeout, max(1, args.threads))
    threads.fix(args.threads)
    per_process = threads.for_sharing(nproc, lambda: problem_size(sized_config(cfg, out)))
    return execute(
        args,
        out,
        args.command,
        lambda **kw: launch(
            cfg,
            out,
            nproc,
            timeout=args.timeout,
            backend=args.backend,
            progress=True,
            threads=per_process,
            time_scale=args.time_scale,
            **kw,
        ),
    )
