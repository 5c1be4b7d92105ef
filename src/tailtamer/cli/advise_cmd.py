"""``tailtamer advise CONFIG --cluster PRESET|FILE``: a short cross-family study on the user's own problem, its
cost stated up front, resumable from its folder; prints the methods ranked by simulated time to target
(:mod:`tailtamer.experiments.studies.crossfamily.advise`, docs/crossfamily.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import load_toml
from ..experiments.executors import make
from ..experiments.studies.crossfamily.advise import advise, cluster_section, cost
from ..experiments.study import run_study
from .render import print_markdown


def main(args: argparse.Namespace) -> int:
    cfg = load_toml(args.config)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] if args.methods else None
    cluster = cluster_section(args.cluster) if args.cluster else None
    advice = advise(cfg, cluster, args.horizon, args.target, args.fraction, methods)
    executor = make("process", None)
    try:
        workers = executor.slots(args.workers)
        print(cost(advice, workers), flush=True)
        if args.dry_run:
            return 0
        root = Path(args.out or f"runs/advise-{Path(args.config).stem}-{advice.cluster}")
        text = run_study(advice.study, root, tune=True, workers=workers, executor=executor, plot=False)
    finally:
        executor.close()
    print_markdown(text)
    return 0
