"""Preparing a run: the one path shared by simulated runs, real runs and real asynchronous runs.

:func:`prepare_run` does, in this order and before anything is written: resolve the config (or read it from the
run folder, when resuming from the folder alone), build every component once (each validation error and the
memory estimate, :func:`tailtamer.api.build_components`), check a replay's log against its run, and only then
check and prepare the folder (:func:`tailtamer.rundir.resume.prepare_folder`, which writes ``config.toml``).
:func:`run_callbacks` gives the callbacks that fill the folder, the same for every kind of run, and
:func:`cleaning_up` removes a folder this run created when the run fails before its first step, so a rerun is not
blocked by a folder holding only a ``config.toml``.

Used by :func:`tailtamer.experiments.runner.run_config` (``tailtamer run``), :func:`tailtamer.distributed.run.launch`
(``tailtamer launch``) and the per-rank ``torchrun`` entry point.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .api import Components, build_components
from .config import load_toml, resolve
from .engine import Callback
from .errors import ConfigError, NonFiniteError
from .rundir import Checkpointer, ProgressBar, RunWriter
from .rundir.arrivals import check_replay_config, read_log
from .rundir.event_report import EventReport
from .rundir.folder import CONFIG, LAUNCH, METRICS, read_metrics, run_info
from .rundir.resume import Resume, Start, prepare_folder


@dataclass
class Prepared:
    """A run ready to start: its resolved config, its components (built once), its folder and how it begins.

    Attributes:
        created: whether this preparation created the folder (or found it empty): only then may a run that
            fails before its first step remove it (:func:`cleaning_up`).
    """

    resolved: dict[str, Any]
    components: Components
    out: Path
    start: Start
    info: dict[str, Any] = field(default_factory=dict)
    created: bool = False


def saved_config(out: str | Path) -> dict[str, Any]:
    """The config of the run folder ``out`` (its ``config.toml``, the source of truth on resume)."""
    path = Path(out) / CONFIG
    if not path.is_file():
        raise ConfigError(
            f"--resume {out}: not a run folder (it has no {CONFIG}); give the config file too, or "
            f"the folder of a run started with tailtamer run or tailtamer launch"
        )
    return load_toml(path)


def prepare_run(
    cfg: dict[str, Any] | None,
    out: str | Path,
    resume: Resume = False,
    previous: bool = False,
    processes: int = 1,
    replay: str | Path | None = None,
    partial_replay: bool = False,
) -> Prepared:
    """Resolve and build ``cfg`` (``None``: the folder's own config, to resume from the folder alone), then
    prepare the folder ``out``. Every validation error is raised before the folder is touched."""
    out = Path(out)
    if cfg is None:
        if not (resume or previous):
            raise ConfigError("a run needs a config file (a folder alone can only be resumed: --resume DIR)")
        cfg = saved_config(out)
    resolved = resolve(cfg)
    c = build_components(resolved, resolved=True, processes=processes)
    info = run_info(c)
    if partial_replay and replay is None:
        raise ConfigError("--partial-replay goes with --replay RUN_DIR (it replays an unfinished arrival log)")
    if replay is not None:
        if not c.event_driven:
            raise ConfigError(
                f"--replay replays a real asynchronous run; '{resolved['algorithm']['name']}' runs in lockstep"
            )
        check_replay_config(resolved, replay)
        info.update({"replay": str(replay), **read_log(replay, partial_replay).record()})
    created = not out.exists() or (out.is_dir() and not any(out.iterdir()))
    start = prepare_folder(resolved, out, resume, previous=previous)
    return Prepared(resolved, c, out, start, info, created=created and start.kind == "fresh")


def run_callbacks(
    p: Prepared, plot: bool = True, progress: bool = False, writes: bool = True, info: dict[str, Any] | None = None
) -> list[Callback]:
    """The callbacks that fill the run folder: the writer (metrics, summary, plot; an event-driven run's
    ``async.json`` after it), the checkpointer, and a progress display. ``writes``: whether this process writes
    the folder (rank 0 of a distributed run; every rank checkpoints, gathered)."""
    out, every = p.out, p.resolved["run"]["checkpoint_every"]
    callbacks: list[Callback] = []
    if writes:
        full = {**p.info, **(info or {})}
        callbacks.append(RunWriter(out, full, plot=plot))
        if p.components.event_driven:
            callbacks.append(EventReport(out, plot=plot, title=full.get("title", "")))
        if progress:
            callbacks.append(ProgressBar())
    callbacks.append(Checkpointer(out, every))
    return callbacks


#: What a run folder holds before the run's first step: the config written by the preparation, and the
#: step-0 evaluation of the metrics.
BEFORE_FIRST_STEP = frozenset({CONFIG, METRICS, LAUNCH})


def before_first_step(out: Path) -> bool:
    """Whether the folder ``out`` holds nothing a run wrote after its step 0 (no checkpoint, no arrival, no
    evaluation past step 0)."""
    if not out.is_dir():
        return True
    if any(f.name not in BEFORE_FIRST_STEP for f in out.iterdir()):
        return False
    return all(row.get("step", 0) == 0 for row in read_metrics(out))


@contextmanager
def cleaning_up(p: Prepared) -> Iterator[None]:
    """Remove the folder a fresh run created when the run fails before its first step, so that the same
    command can simply be run again (a divergence is a result and stays; so does anything past step 0)."""
    try:
        yield
    except NonFiniteError:
        raise
    except Exception:  # an interrupt keeps the folder: the user may resume it
        if p.created and before_first_step(p.out):
            shutil.rmtree(p.out, ignore_errors=True)
        raise
