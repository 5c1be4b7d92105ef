"""Run a config as N processes over torch.distributed and write the same run folder as ``tailtamer run``.

* :func:`launch` — from one machine: checks the config and the folder, starts N local workers
  (:func:`~tailtamer.distributed.launcher.spawn`) and returns the summary (what ``tailtamer launch`` does).
* ``python -m tailtamer.distributed.run CONFIG.toml --out DIR`` — the per-process entry point for
  ``torchrun`` (one or many machines; see docs/distributed.md).

Every rank builds the same components and runs the ordinary :class:`~tailtamer.engine.Loop` over a
:class:`~tailtamer.comm.distributed.DistributedComm`; metrics go through ``comm.mean`` so every rank computes
them, and rank 0 alone writes ``metrics.jsonl``, ``summary.json``, the plot and the (gathered) checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from ..api import build_components, make_loop
from ..comm.backends import backend_for, check_backend
from ..comm.distributed import DistributedComm
from ..config import apply_overrides, load_toml, resolve
from ..errors import (
    CheckpointError,
    ConfigError,
    NonFiniteError,
    ResourceError,
    StorageError,
    TailtamerError,
    ValidationError,
)
from ..prepare import Prepared, cleaning_up, prepare_run, run_callbacks, saved_config
from ..rundir.atomic import atomic_write_json
from ..rundir.checkpoint import CHECKPOINT
from ..rundir.folder import LAUNCH, last_metrics, read_summary, run_info, write_diverged
from ..rundir.resume import Resume, Start, continue_from_checkpoint
from ..validation import check_positive
from .asynchronous.run import RESUME_ASYNC, TIME_SCALE, check_real, is_event_driven, launch_async, run_async_rank
from .checkpoint import broadcast_reader
from .faults import from_env
from .launcher import DistributedRunError, spawn
from .process_group import DEFAULT_TIMEOUT, init_from_env, shutdown


def check_world(resolved: dict[str, Any], world: int) -> None:
    """Every process needs at least one node (an asynchronous run: a server and n workers)."""
    if is_event_driven(resolved):
        check_real(resolved, world)
        return
    n = resolved["topology"]["n"]
    if world > n:
        raise ConfigError(f"{world} processes for n = {n} nodes: use at most {n} processes (--nproc)")


def launched_nproc(out: Path, resuming: bool) -> int:
    """The process count a run folder was launched with (``--nproc`` left out on ``--resume RUN_DIR``)."""
    record = Path(out) / LAUNCH
    if not resuming:
        raise ConfigError("--nproc N is needed to start a launch (it is read from the run folder only on --resume)")
    try:
        return int(json.loads(record.read_text())["nproc"])
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigError(
            f"--resume {out}: no launch record ({record}) says how many processes ran it: give --nproc N"
        ) from None


#: Errors a worker raises that the launcher re-raises as themselves (one line, no traceback).
RERAISED = {cls.__name__: cls for cls in (ConfigError, ValidationError, CheckpointError, StorageError, ResourceError)}


def run_rank(
    resolved: dict[str, Any],
    out: str | Path,
    resume: bool | str,
    timeout: float | None = None,
    plot: bool = True,
    progress: bool = False,
    time_scale: float | None = None,
) -> dict[str, Any] | None:
    """The body of one rank (inside an initialised process group). Returns the summary on rank 0.

    An asynchronous config runs as a server and workers (:mod:`.asynchronous.run`; ``time_scale`` seconds per
    timing unit).

    ``resume``: False (a fresh run) or the file name of the checkpoint to continue from (``True``: the
    latest one), as decided by :func:`~tailtamer.prepare.prepare_run` before the ranks started.
    """
    out = Path(out)
    c = build_components(resolved, resolved=True, check=False)  # checked once, before the ranks started
    if c.event_driven:
        if resume:
            raise ValidationError(RESUME_ASYNC)
        return run_async_rank(
            c,
            out,
            dist.get_rank(),
            dist.get_world_size(),
            time_scale or TIME_SCALE,
            timeout or DEFAULT_TIMEOUT,
            plot=plot,
            progress=progress,
        )
    comm = DistributedComm(c.topology.W if c.topology is not None else None, timeout=timeout, n=c.n)
    rank0 = comm.rank == 0
    p = Prepared(resolved, c, out, Start("resume" if resume else "fresh"), run_info(c))
    callbacks: list[Any] = run_callbacks(
        p,
        plot=plot,
        progress=progress,
        writes=rank0,
        info={"distributed": {"world_size": comm.world, "backend": comm.backend}},
    )
    fault = from_env()
    if fault is not None:
        callbacks.append(fault)
    loop = make_loop(c, callbacks, comm=comm)
    if resume:
        name = CHECKPOINT if resume is True else str(resume)
        continue_from_checkpoint(loop, out, name=name, reader=broadcast_reader(comm), writes=rank0)
    else:
        loop.run()
    return read_summary(out) if rank0 else None


def _rank_main(
    rank: int,
    world: int,
    resolved: dict[str, Any],
    out: str,
    resume: bool | str,
    timeout: float,
    plot: bool,
    progress: bool,
) -> dict[str, Any] | None:
    return run_rank(resolved, out, resume, timeout=timeout, plot=plot, progress=progress and rank == 0)


def check_launch(nproc: int, timeout: float, threads: int = 1) -> None:
    """``nproc ≥ 1`` processes, a positive ``timeout`` and ``threads ≥ 1`` (one-line errors)."""
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValidationError(f"--nproc must be a positive number of processes, got {nproc!r}")
    check_positive("--timeout (seconds)", timeout)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValidationError(f"--threads must be a positive integer, got {threads!r}")


def launch(
    cfg: dict[str, Any] | None,
    out: str | Path,
    nproc: int,
    resume: Resume = False,
    timeout: float = DEFAULT_TIMEOUT,
    backend: str | None = None,
    plot: bool = True,
    progress: bool = False,
    threads: int = 1,
    previous: bool = False,
    time_scale: float | None = None,
) -> dict[str, Any]:
    """Run ``cfg`` as ``nproc`` local processes writing the run folder ``out``; returns the summary
    (``cfg`` None: the folder's own config, to resume from the folder alone).

    An asynchronous config runs as a server (rank 0) and ``nproc − 1`` workers
    (:func:`~tailtamer.distributed.asynchronous.run.launch_async`; ``time_scale`` seconds per timing unit).

    ``backend`` defaults to the one that moves ``[run] device``'s tensors (gloo for CPU, NCCL for CUDA).
    ``resume``/``previous``: as for :func:`tailtamer.experiments.runner.run_config` (a finished run is
    returned untouched).

    Raises the worker's own :class:`ConfigError`/:class:`ValidationError`/:class:`NonFiniteError` (or
    checkpoint, storage or memory error) when one failed that way (a diverged run still gets a
    ``summary.json`` with ``status = "diverged"``), else a
    :class:`~tailtamer.distributed.launcher.DistributedRunError` naming the rank that died or stalled.
    """
    check_launch(nproc, timeout, threads)
    resolved = resolve(cfg if cfg is not None else saved_config(out))
    if is_event_driven(resolved):
        check_real(resolved, nproc, time_scale or TIME_SCALE, backend or "gloo")
        if resume or previous:
            raise ValidationError(RESUME_ASYNC)
    else:
        check_world(resolved, nproc)
        device = resolved["run"]["device"]
        backend = backend or backend_for(device)
        check_backend(backend, device, nproc)
    p = prepare_run(resolved, out, resume, previous=previous, processes=nproc)  # every error before any process
    if p.start.kind == "complete":
        return dict(p.start.summary or {})
    atomic_write_json(p.out / LAUNCH, {"nproc": nproc, "backend": backend or "gloo", "time_scale": time_scale})
    try:
        with cleaning_up(p):
            if p.components.event_driven:
                return launch_async(p, nproc, timeout, plot, progress, threads, time_scale or TIME_SCALE)
            begin: bool | str = p.start.checkpoint if p.start.resuming else False
            results = spawn(
                _rank_main,
                nproc,
                (resolved, str(p.out), begin, timeout, plot, progress),
                timeout=timeout,
                backend=backend,
                threads=threads,
            )
    except DistributedRunError as err:
        reraise(err, p.out, p.components)
    return results[0]


def reraise(err: DistributedRunError, out: Path, c: Any) -> None:
    """Raise the failed worker's own error where it is one of ours (a NaN/Inf also writes the diverged
    summary), else ``err`` itself."""
    root = err.root or {}
    if root.get("type") == "NonFiniteError":
        diverged = NonFiniteError(root["step"], root["node"], root["what"])
        write_diverged(out, diverged, last_metrics(out), run_info(c))
        raise diverged from err
    if root.get("type") in RERAISED:
        raise RERAISED[root["type"]](root["message"]) from err
    raise err


def main(argv: list[str] | None = None) -> int:
    """``torchrun ... -m tailtamer.distributed.run CONFIG.toml --out DIR [--set ...] [--resume]``."""
    p = argparse.ArgumentParser(
        prog="python -m tailtamer.distributed.run", description="one rank of a tailtamer run under torchrun"
    )
    p.add_argument("config")
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--out", required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--resume-previous", action="store_true")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    p.add_argument(
        "--backend",
        choices=("gloo", "nccl"),
        default=None,
        help="default: gloo for [run] device = 'cpu', nccl for 'cuda'",
    )
    p.add_argument("--no-plot", action="store_true")
    p.add_argument(
        "--time-scale",
        type=float,
        default=None,
        help="asynchronous configs: seconds of real time per timing unit (default 0.01)",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    try:
        resolved = resolve(apply_overrides(load_toml(args.config), args.overrides))
        device = resolved["run"]["device"]
        backend = args.backend or backend_for(device)
        check_backend(backend, device, int(os.environ.get("LOCAL_WORLD_SIZE", 1)))
    except TailtamerError as err:  # the same on every rank: all stop before joining
        print(f"tailtamer (rank {os.environ.get('RANK', '?')}): error: {err}", file=sys.stderr)
        sys.exit(2)
    rank, world = init_from_env(backend, timeout=args.timeout)
    try:
        check_world(resolved, world)
        # rank 0 prepares the folder; the outcome reaches every rank, so all stop on a bad folder
        box: list[Any] = [None]
        if rank == 0:
            try:
                box[0] = (
                    "ok",
                    prepare_run(
                        resolved,
                        Path(args.out),
                        "strict" if args.resume else False,
                        previous=args.resume_previous,
                        processes=world,
                    ).start,
                )
            except TailtamerError as err:
                box[0] = ("error", str(err))
        dist.broadcast_object_list(box, src=0)
        status, value = box[0]
        if status == "error":
            raise ConfigError(value)
        if value.kind == "complete":
            if rank == 0:
                print(
                    f"run folder: {args.out}: already complete ({value.summary.get('steps')} steps); nothing to resume"
                )
            shutdown()
            return 0
        summary = run_rank(
            resolved,
            args.out,
            value.checkpoint if value.resuming else False,
            timeout=args.timeout,
            plot=not args.no_plot,
            progress=rank == 0,
            time_scale=args.time_scale,
        )
        if summary is not None:
            print(f"run folder: {args.out}")
            print(json.dumps({"metrics": summary["metrics"], "steps": summary["steps"]}))
    except TailtamerError as err:
        print(f"tailtamer (rank {rank}): error: {err}", file=sys.stderr)
        sys.exit(2)
    shutdown()
    return 0


if __name__ == "__main__":  # pragma: no cover
    main()
