"""``tailtamer run CONFIG.toml [--set section.key=value ...] [--unset section.key ...] [--out DIR] [--resume]``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import threads
from ..config import apply_overrides, apply_unsets, load_toml
from ..experiments.runner import run_config
from ..memory import keep_heap_memory

NAME = "run"
HELP = "run one config in the simulator and write its run folder"


def add_run_arguments(p: argparse.ArgumentParser, tensorboard: bool = True) -> None:
    """The arguments ``run`` and ``launch`` share: config, overrides, folder and resuming (and ``--tensorboard``
    where the command writes TensorBoard files: not ``launch``, whose ranks write none)."""
    p.add_argument("config", help="TOML config with [problem] [algorithm] [topology] [noise] [run]")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value (repeatable); changing a section's name drops the old "
                        "entry's keys")
    p.add_argument("--unset", dest="unsets", action="append", default=[], metavar="SECTION.KEY",
                   help="remove one config key, so its default applies (repeatable)")
    p.add_argument("--out", help="run folder (default runs/<config name>-<time>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run folder from its latest checkpoint (a finished run is left as it is)")
    p.add_argument("--resume-previous", action="store_true",
                   help="continue from the previous checkpoint (checkpoint.prev.pt), when the latest is unreadable")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG plot")
    if tensorboard:
        p.add_argument("--tensorboard", action="store_true", help="also write TensorBoard event files into the run "
                       "folder (needs tailtamer[tensorboard]; view with tensorboard --logdir RUN_FOLDER)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    p.add_argument("--threads", type=int, default=0, metavar="N",
                   help="torch threads (default 0: chosen from the problem size, 1 for small problems)")
    p.add_argument("--replay", metavar="RUN_DIR", default=None,
                   help="asynchronous methods: replay the arrival order of a real run (tailtamer launch) from "
                        "RUN_DIR/arrivals.jsonl in the simulator (same config); a log the real run did not "
                        "finish is refused")
    p.add_argument("--partial-replay", action="store_true",
                   help="with --replay: replay the complete events of an unfinished or cut arrival log (the "
                        "summary records where it ended)")


def load_config(args: argparse.Namespace) -> dict:
    """The config file with ``--unset`` then ``--set`` applied (relative paths against the file's folder)."""
    return apply_overrides(apply_unsets(load_toml(args.config), args.unsets), args.overrides)


def out_folder(args: argparse.Namespace) -> Path:
    return Path(args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")


def report(out: Path, summary: dict, resumed: bool) -> None:
    """Print the folder and the final metrics (or that a resumed run was already complete)."""
    if resumed and summary.get("_complete"):
        print(f"run folder: {out}: already complete ({summary.get('steps')} steps); nothing to resume, "
              "summary.json and metrics.jsonl left as they are")
        return
    print(f"run folder: {out}")
    print(json.dumps({"metrics": summary["metrics"], "steps": summary["steps"],
                      "wall_time_s": round(summary["wall_time_s"], 3)}, indent=None))


def tensorboard_callbacks(args: argparse.Namespace) -> list:
    """``--tensorboard``: a writer of TensorBoard event files into the run folder (checked before the run)."""
    if not getattr(args, "tensorboard", False):
        return []
    from ..rundir.tensorboard import TensorBoardWriter, require_tensorboard

    require_tensorboard()
    return [TensorBoardWriter]


def resume_hint(args: argparse.Namespace, out: Path, command: str) -> None:
    """After Ctrl-C: how to continue."""
    print(f"\ntailtamer {command}: stopped; continue from the last checkpoint with: "
          f"tailtamer {command} {args.config} --out {out} --resume", file=sys.stderr)


def execute(args: argparse.Namespace, out: Path, command: str, start) -> int:
    """Run ``start(resume=..., previous=..., plot=...)`` (a simulated or a real run of ``args``' config into
    ``out``), print the hint to continue after Ctrl-C, and report the folder and its final metrics."""
    from ..rundir.resume import folder_complete

    resumed = args.resume or args.resume_previous
    complete = resumed and folder_complete(out)
    try:
        summary = start(resume="strict" if args.resume else False, previous=args.resume_previous,
                        plot=not args.no_plot)
    except KeyboardInterrupt:
        if out.exists():
            resume_hint(args, out, command)
        raise
    report(out, {**summary, "_complete": complete}, resumed)
    return 0


def main(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    threads.fix(args.threads)
    keep_heap_memory()      # this process runs one simulation: reuse its freed [n, d] buffers, no page faults
    out = out_folder(args)
    callbacks = tensorboard_callbacks(args)
    return execute(args, out, NAME, lambda **kw: run_config(cfg, out, callbacks=callbacks, replay=args.replay,
                                                            partial_replay=args.partial_replay, **kw))
