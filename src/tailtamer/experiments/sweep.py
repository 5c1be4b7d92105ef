"""Run many configs into run folders, in parallel worker processes, skipping finished runs.

A sweep is a list of ``(folder, config)`` pairs; a folder holding ``summary.json`` of the same config is
already done, so an interrupted sweep resumes where it stopped. A finished folder of a *different* config is
an error, raised before anything runs: it is never silently taken for the job's result, nor overwritten.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ..engine.run_dir import SUMMARY


def _run_one(folder: str, cfg: dict[str, Any], tensorboard: bool = False, plot: bool = True) -> str:
    from .. import threads
    from .runner import run_config

    threads.fix(1)   # a sweep worker shares the machine with the others: one thread each
    callbacks = []
    if tensorboard:
        from ..engine.tensorboard import TensorBoardWriter

        callbacks.append(TensorBoardWriter)
    run_config(cfg, folder, resume=True, progress=False, callbacks=callbacks, plot=plot)
    return folder


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def unfinished(jobs: Sequence[tuple[str | Path, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The jobs whose folder holds no finished run yet (ConfigError for a folder of another config)."""
    return [(str(f), c) for f, c in jobs if not _finished(Path(f), c)]


def run_sweep(jobs: Sequence[tuple[str | Path, dict[str, Any]]], workers: int | None = None,
              on_done: Callable[[int, int, str], None] | None = None, tensorboard: bool = False,
              label: str = "sweep", progress: bool = True, batch: bool = True, plot: bool = True) -> list[Path]:
    """Run every ``(folder, config)`` not yet finished; ``on_done(i, total, folder)`` reports progress.

    With ``progress`` (and no ``on_done``) a :class:`~tailtamer.engine.progress.SweepProgress` reports runs
    done, rate, ETA and the last run's metric (a bar on a terminal, a line every few seconds in a log).
    ``tensorboard``: every run also writes TensorBoard event files into its folder.
    A diverging run (NonFiniteError) does not stop the sweep: its summary says ``"status": "diverged"``.
    ``batch``: jobs sharing a problem and topology shape run as stacked batch jobs
    (:mod:`~tailtamer.experiments.batched`; not with ``tensorboard``); every folder comes out as alone.
    ``plot``: every run draws its ``metrics.png`` (as ``tailtamer run`` does).
    """
    todo = unfinished(jobs)
    units = _units(todo, workers or default_workers(), batch and not tensorboard)
    workers = workers or default_workers()
    bar = None
    if on_done is None and progress and todo:
        from ..engine.progress import SweepProgress

        bar = on_done = SweepProgress(len(todo), min(workers, len(todo)), label)
        bar.start()
    done = 0
    try:
        if workers <= 1 or len(units) <= 1:
            for unit in units:
                for folder in _safe_unit(unit, tensorboard, plot):
                    done += 1
                    if on_done:
                        on_done(done, len(todo), folder)
        else:
            ctx = mp.get_context("spawn")
            with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = [pool.submit(_safe_unit, unit, tensorboard, plot) for unit in units]
                for fut in cf.as_completed(futures):
                    for folder in fut.result():
                        done += 1
                        if on_done:
                            on_done(done, len(todo), folder)
    finally:
        if bar is not None:
            bar.finish()
    return [Path(f) for f, _ in jobs]


def _finished(folder: Path, cfg: dict[str, Any]) -> bool:
    """Whether ``folder`` holds a finished run of ``cfg`` (ConfigError if it holds one of another config)."""
    if not (folder / SUMMARY).exists():
        return False
    from ..config import load_toml, resolve
    from ..errors import ConfigError
    from .runner import CONFIG

    if (folder / CONFIG).exists() and resolve(load_toml(folder / CONFIG)) == resolve(cfg):
        return True
    raise ConfigError(f"{folder} holds a finished run of a different config than this sweep's job; "
                      "remove it or run the sweep into another folder")


def _safe(folder: str, cfg: dict[str, Any], tensorboard: bool = False, plot: bool = True) -> str:
    from ..errors import NonFiniteError

    try:
        return _run_one(folder, cfg, tensorboard, plot)
    except NonFiniteError:  # recorded as status "diverged" in the folder's summary.json
        return folder


def _units(todo: list[tuple[str, dict[str, Any]]], workers: int, batch: bool) -> list[Any]:
    """The units a sweep dispatches: batch jobs (:func:`~tailtamer.experiments.batched.plan`) and single jobs."""
    if not batch:
        return list(todo)
    from .batched import plan

    return plan(todo, workers)


def _safe_unit(unit: Any, tensorboard: bool = False, plot: bool = True) -> list[str]:
    """Run one unit in a worker; returns the folders it wrote (a batch: all its members)."""
    from .batched import Batch, run_batch

    if isinstance(unit, Batch):
        from .. import threads

        threads.fix(1)   # a sweep worker shares the machine with the others: one thread each
        return run_batch(unit.jobs, plot=plot)
    folder, cfg = unit
    return [_safe(folder, cfg, tensorboard, plot)]
