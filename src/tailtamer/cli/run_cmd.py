"""``tailtamer run CONFIG.toml [--set section.key=value ...] [--unset section.key ...] [--out DIR] [--resume]``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import threads
from ..config import apply_overrides, apply_unsets, load_toml, resolve
from ..distributed.asynchronous.run import RESUME_ASYNC, is_event_driven
from ..errors import ConfigError
from ..experiments.runner import run_config
from ..memory import keep_heap_memory
from ..prepare import saved_config
from ..rundir.folder import CONFIG
from ..rundir.resume import folder_complete
from ..rundir.tensorboard import TensorBoardWriter, require_tensorboard


def load_config(args: argparse.Namespace) -> dict | None:
    """The config file with ``--unset`` then ``--set`` applied (relative paths against the file's folder), or
    None for ``--resume RUN_DIR`` alone (the folder's own ``config.toml`` is the source of truth)."""
    if args.config is None:
        if not isinstance(args.resume, str):
            raise ConfigError("give a CONFIG file, or --resume RUN_DIR to continue a run from its folder")
        if args.overrides or args.unsets:
            raise ConfigError(
                f"--resume {args.resume} continues the run with the config of its folder "
                f"({args.resume}/config.toml): --set and --unset cannot change it; start a new run "
                "with CONFIG --set ... --out NEW_DIR instead"
            )
        return None
    return apply_overrides(apply_unsets(load_toml(args.config), args.unsets), args.overrides)


def out_folder(args: argparse.Namespace) -> Path:
    """The run folder: ``--resume RUN_DIR``'s, else ``--out``, else one named after the config and the time."""
    if isinstance(args.resume, str):
        if args.out and Path(args.out) != Path(args.resume):
            raise ConfigError(f"--resume {args.resume} and --out {args.out} name two folders: give one")
        return Path(args.resume)
    return Path(args.out or f"runs/{Path(args.config).stem}-{time.strftime('%Y%m%d-%H%M%S')}")


def sized_config(cfg: dict | None, out: Path) -> dict:
    """The config a run's size is read from: ``cfg``, or the folder's own when resuming from the folder alone."""
    return cfg if cfg is not None else saved_config(out)


def report(out: Path, summary: dict, resumed: bool) -> None:
    """Print the folder and the final metrics (or that a resumed run was already complete)."""
    if resumed and summary.get("_complete"):
        print(
            f"run folder: {out}: already complete ({summary.get('steps')} steps); nothing to resume, "
            "summary.json and metrics.jsonl left as they are"
        )
        return
    print(f"run folder: {out}")
    print(
        json.dumps(
            {"metrics": summary["metrics"], "steps": summary["steps"], "wall_time_s": round(summary["wall_time_s"], 3)},
            indent=None,
        )
    )


def tensorboard_callbacks(args: argparse.Namespace) -> list:
    """``--tensorboard``: a writer of TensorBoard event files into the run folder (checked before the run)."""
    if not getattr(args, "tensorboard", False):
        return []
    require_tensorboard()
    return [TensorBoardWriter]


def resume_hint(args: argparse.Namespace, out: Path, command: str) -> None:
    """After Ctrl-C: a command that continues the run as printed (the folder holds its config, with every
    ``--set`` applied, and a launch's process count), or what can be done where a run cannot continue."""
    if command == "launch" and is_event_driven(resolve(sized_config(load_config(args), out))):
        print(
            f"\ntailtamer launch: stopped; {RESUME_ASYNC.replace('CONFIG', str(out / CONFIG))}".replace(
                "RUN_DIR", str(out)
            ),
            file=sys.stderr,
        )
        return
    print(
        f"\ntailtamer {command}: stopped; continue from the last checkpoint with: tailtamer {command} --resume {out}",
        file=sys.stderr,
    )


def execute(args: argparse.Namespace, out: Path, command: str, start) -> int:
    """Run ``start(resume=..., previous=..., plot=...)`` (a simulated or a real run of ``args``' config into
    ``out``), print the hint to continue after Ctrl-C, and report the folder and its final metrics."""
    resumed = bool(args.resume) or args.resume_previous
    complete = resumed and folder_complete(out)
    try:
        summary = start(resume="strict" if resumed else False, previous=args.resume_previous, plot=not args.no_plot)
    except KeyboardInterrupt:
        if out.exists():
            resume_hint(args, out, command)
        raise
    report(out, {**summary, "_complete": complete}, resumed)
    return 0


def main(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    threads.fix(args.threads)
    keep_heap_memory()  # this process runs one simulation: reuse its freed [n, d] buffers, no page faults
    out = out_folder(args)
    callbacks = tensorboard_callbacks(args)
    return execute(
        args,
        out,
        args.command,
        lambda **kw: run_config(
            cfg, out, callbacks=callbacks, replay=args.replay, partial_replay=args.partial_replay, **kw
        ),
    )
