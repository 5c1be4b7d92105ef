"""Run many configs into run folders, in parallel worker processes, skipping finished runs.

A sweep is a list of ``(folder, config)`` pairs; a folder holding ``summary.json`` of the same config is
already done, so an interrupted sweep resumes where it stopped. A finished folder of a *different* config is
an error, raised before anything runs: it is never silently taken for the job's result, nor overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

from .. import threads
from ..config import load_toml
from ..config import resolve as resolve_config
from ..errors import ConfigError, NonFiniteError
from ..rundir.folder import SUMMARY
from ..rundir.progress import SweepProgress
from ..rundir.tensorboard import TensorBoardWriter
from .executors import (
    Executor,
    default_workers,  # noqa: F401  (re-exported)
    resolve,
)
from .runner import CONFIG, run_config
from .stacked import StackedRun, plan, run_stacked

Job = tuple[str | Path, dict[str, Any]]


def _run_one(folder: str, cfg: dict[str, Any], tensorboard: bool = False, plot: bool = True) -> str:
    threads.fix(1)  # a sweep worker shares the machine with the others: one thread each
    callbacks = [TensorBoardWriter] if tensorboard else []
    run_config(cfg, folder, resume=True, progress=False, callbacks=callbacks, plot=plot)
    return folder


def unfinished(jobs: Sequence[Job]) -> list[tuple[str, dict[str, Any]]]:
    """The jobs whose folder holds no finished run yet (ConfigError for a folder of another config)."""
    return [(str(f), c) for f, c in jobs if not _finished(Path(f), c)]


def run_sweep(
    jobs: Sequence[Job],
    workers: int | None = None,
    on_done: Callable[[int, int, str], None] | None = None,
    tensorboard: bool = False,
    label: str = "sweep",
    progress: bool = True,
    executor: Executor | str | None = None,
    stack: bool = True,
    plot: bool = True,
    run_job: Callable[[str, dict[str, Any]], Any] | None = None,
    pending: Callable[[Sequence[Any]], Sequence[Job]] | None = None,
) -> list[Path]:
    """Run every ``(folder, config)`` not yet finished; ``on_done(i, total, folder)`` reports progress. This is
    the one place where a sweep's or a study's jobs are dispatched to an executor.

    With ``progress`` (and no ``on_done``) a :class:`~tailtamer.rundir.progress.SweepProgress` reports runs
    done, rate, ETA and the last run's metric (a bar on a terminal, a line every few seconds in a log).
    ``tensorboard``: every run also writes TensorBoard event files into its folder.
    A diverging run (NonFiniteError) does not stop the sweep: its summary says ``"status": "diverged"``.
    ``executor``: where the runs execute (:data:`~tailtamer.experiments.executors.EXECUTORS`; default the
    local process pool, ``workers`` processes).
    ``stack``: jobs sharing a problem and topology shape run as stacked runs
    (:mod:`~tailtamer.experiments.stacked`; not with ``tensorboard``); every folder comes out as alone.
    ``plot = False``: the runs write no PNGs (for studies of many short runs, where drawing them costs more
    than the runs; the report draws from ``metrics.jsonl``).
    ``run_job(folder, config)``, ``pending(jobs)``: for jobs that are not engine configs (the SDE lab's,
    :mod:`tailtamer.sde.folders`), how one runs into its folder (a picklable function returning the folder)
    and which are not finished; they run one by one on the executor, never stacked. Default: the engine run
    of :func:`~tailtamer.experiments.runner.run_config` and :func:`unfinished`.
    """
    todo = [(str(f), c) for f, c in (pending or unfinished)(jobs)]
    executor = resolve(executor)
    workers = executor.slots(workers)
    fn: Callable[..., Any]
    calls: list[tuple[Any, ...]]
    if run_job is None:
        units = plan(todo, workers) if stack and not tensorboard else list(todo)
        fn, calls = _safe_unit, [(_unit_folders(u), u, tensorboard, plot) for u in units]
    else:
        fn, calls = run_job, list(todo)
    bar = None
    if on_done is None and progress and todo:
        bar = on_done = SweepProgress(len(todo), min(workers, len(todo)), label)
        bar.start()
    done = 0
    try:
        with closing(executor.map(fn, calls, workers)) as results:  # Ctrl-C: the executor stops now
            for result in results:
                for folder in [result] if isinstance(result, (str, Path)) else result:
                    done += 1
                    if on_done:
                        on_done(done, len(todo), str(folder))
    finally:
        if bar is not None:
            bar.finish()
    return [Path(f) for f, _ in jobs]


def _finished(folder: Path, cfg: dict[str, Any]) -> bool:
    """Whether ``folder`` holds a finished run of ``cfg`` (ConfigError if it holds one of another config)."""
    if not (folder / SUMMARY).exists():
        return False
    if (folder / CONFIG).exists() and resolve_config(load_toml(folder / CONFIG)) == resolve_config(cfg):
        return True
    raise ConfigError(
        f"{folder} holds a finished run of a different config than this sweep's job; "
        "remove it or run the sweep into another folder"
    )


def _safe(folder: str, cfg: dict[str, Any], tensorboard: bool = False, plot: bool = True) -> str:
    try:
        return _run_one(folder, cfg, tensorboard, plot)
    except NonFiniteError:  # recorded as status "diverged" in the folder's summary.json
        return folder


def _unit_folders(unit: Any) -> list[str]:
    """The run folders a unit writes (a stacked run: all its members)."""
    return list(unit.folders) if isinstance(unit, StackedRun) else [unit[0]]


def _safe_unit(folders: list[str], unit: Any, tensorboard: bool = False, plot: bool = True) -> list[str]:
    """Run one unit in a worker, writing into ``folders`` (the unit's own, or the executor's scratch copies of
    them: :mod:`~tailtamer.experiments.executors` ships folders named by a job's first argument); returns
    ``folders``."""
    if isinstance(unit, StackedRun):
        threads.fix(1)  # a sweep worker shares the machine with the others: one thread each
        run_stacked([(f, cfg) for f, (_, cfg) in zip(folders, unit.jobs)], plot=plot)
        return list(folders)
    return [_safe(folders[0], unit[1], tensorboard, plot)]
