"""Run many configs into run folders, in parallel worker processes, skipping finished runs.

A sweep is a list of ``(folder, config)`` pairs; a folder holding ``summary.json`` of the same config is
already done, so an interrupted sweep resumes where it stopped. A finished folder of a *different* config is
an error, raised before anything runs: it is never silently taken for the job's result, nor overwritten.
"""
from __future__ import annotations

from contextlib import closing
from pathlib import Path
from typing import Any, Callable, Sequence

from ..rundir.folder import SUMMARY
from .executors import Executor, resolve
from .executors import default_workers  # noqa: F401  (re-exported)


def _run_one(folder: str, cfg: dict[str, Any], tensorboard: bool = False, plot: bool = True) -> str:
    from .. import threads
    from .runner import run_config

    threads.fix(1)   # a sweep worker shares the machine with the others: one thread each
    callbacks = []
    if tensorboard:
        from ..rundir.tensorboard import TensorBoardWriter

        callbacks.append(TensorBoardWriter)
    run_config(cfg, folder, resume=True, progress=False, callbacks=callbacks, plot=plot)
    return folder


def unfinished(jobs: Sequence[tuple[str | Path, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The jobs whose folder holds no finished run yet (ConfigError for a folder of another config)."""
    return [(str(f), c) for f, c in jobs if not _finished(Path(f), c)]


def run_sweep(jobs: Sequence[tuple[str | Path, dict[str, Any]]], workers: int | None = None,
              on_done: Callable[[int, int, str], None] | None = None, tensorboard: bool = False,
              label: str = "sweep", progress: bool = True, executor: Executor | str | None = None,
              batch: bool = True, plot: bool = True) -> list[Path]:
    """Run every ``(folder, config)`` not yet finished; ``on_done(i, total, folder)`` reports progress.

    With ``progress`` (and no ``on_done``) a :class:`~tailtamer.rundir.progress.SweepProgress` reports runs
    done, rate, ETA and the last run's metric (a bar on a terminal, a line every few seconds in a log).
    ``tensorboard``: every run also writes TensorBoard event files into its folder.
    A diverging run (NonFiniteError) does not stop the sweep: its summary says ``"status": "diverged"``.
    ``executor``: where the runs execute (:data:`~tailtamer.experiments.executors.EXECUTORS`; default the
    local process pool, ``workers`` processes).
    ``batch``: jobs sharing a problem and topology shape run as stacked batch jobs
    (:mod:`~tailtamer.experiments.batched`; not with ``tensorboard``); every folder comes out as alone.
    ``plot = False``: the runs write no PNGs (for studies of many short runs, where drawing them costs more
    than the runs; the report draws from ``metrics.jsonl``).
    """
    todo = unfinished(jobs)
    executor = resolve(executor)
    workers = executor.slots(workers)
    units = _units(todo, workers, batch and not tensorboard)
    bar = None
    if on_done is None and progress and todo:
        from ..rundir.progress import SweepProgress

        bar = on_done = SweepProgress(len(todo), min(workers, len(todo)), label)
        bar.start()
    done = 0
    try:
        calls = [(_unit_folders(u), u, tensorboard, plot) for u in units]
        with closing(executor.map(_safe_unit, calls, workers)) as results:   # Ctrl-C: the executor stops now
            for folders in results:
                for folder in folders:
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


def _unit_folders(unit: Any) -> list[str]:
    """The run folders a unit writes (a batch: all its members)."""
    from .batched import Batch

    return list(unit.folders) if isinstance(unit, Batch) else [unit[0]]


def _safe_unit(folders: list[str], unit: Any, tensorboard: bool = False, plot: bool = True) -> list[str]:
    """Run one unit in a worker, writing into ``folders`` (the unit's own, or the executor's scratch copies of
    them: :mod:`~tailtamer.experiments.executors` ships folders named by a job's first argument); returns
    ``folders``."""
    from .batched import Batch, run_batch

    if isinstance(unit, Batch):
        from .. import threads

        threads.fix(1)   # a sweep worker shares the machine with the others: one thread each
        run_batch([(f, cfg) for f, (_, cfg) in zip(folders, unit.jobs)], plot=plot)
        return list(folders)
    return [_safe(folders[0], unit[1], tensorboard, plot)]
