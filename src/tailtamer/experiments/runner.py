"""Run a config into a run folder (fresh or resumed) in the simulator.

Preparation (validation, components built once, the memory estimate, the folder rules) is
:func:`tailtamer.prepare.prepare_run`, the same for ``tailtamer launch``; the files are
:mod:`tailtamer.rundir.folder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..api import make_loop
from ..engine import Callback
from ..errors import NonFiniteError, StorageError
from ..prepare import cleaning_up, prepare_run, run_callbacks
from ..rundir.folder import CONFIG, read_summary, run_info, write_diverged
from ..rundir.resume import Resume, continue_from_checkpoint

__all__ = ["CONFIG", "run_config", "run_info"]


def run_config(
    cfg: dict[str, Any] | None,
    out: str | Path,
    resume: Resume = False,
    progress: bool = True,
    plot: bool = True,
    callbacks: Sequence[Any] = (),
    previous: bool = False,
    replay: str | Path | None = None,
    partial_replay: bool = False,
) -> dict[str, Any]:
    """Run ``cfg`` writing the run folder ``out``; returns the summary.

    ``cfg`` None resumes the folder from its own ``config.toml`` (with ``resume``).

    ``callbacks``: extra :class:`~tailtamer.engine.Callback` objects, or functions ``folder -> Callback``
    (e.g. a gradient-noise recorder writing into the run folder), run after the built-in ones.

    ``resume``: ``True`` continues the folder from its checkpoint (the config must be the same; a finished
    run is returned untouched) and starts a missing or checkpoint-less folder afresh (sweeps); ``"strict"``
    (``--resume``) makes those two an error. ``previous``: resume from
    the previous checkpoint (when the latest is unreadable). Without either, a folder that already holds a
    run is an error rather than overwritten.

    ``replay``: the folder of a real asynchronous run of the same config; its arrival log
    (``arrivals.jsonl``) is replayed in the simulator (:mod:`tailtamer.engine.events.replay`). A log without its
    closing record (a crashed or interrupted run, a cut file) is refused unless ``partial_replay``, which the
    summary then records (:mod:`tailtamer.rundir.arrivals`).
    """
    p = prepare_run(cfg, out, resume, previous=previous, replay=replay, partial_replay=partial_replay)
    out = p.out
    if p.start.kind == "complete":
        return dict(p.start.summary or {})
    writers = run_callbacks(p, plot=plot, progress=progress)
    writers += [cb if isinstance(cb, Callback) else cb(out) for cb in callbacks]
    with cleaning_up(p):
        loop = make_loop(p.components, writers, replay=replay, partial_replay=partial_replay)
        try:
            if p.start.resuming:
                continue_from_checkpoint(loop, out, name=p.start.checkpoint)
            else:
                loop.run()
        except NonFiniteError as err:
            write_diverged(out, err, loop.last_metrics, p.info, loop.wall_time)
            raise
    summary = read_summary(out)
    if summary is None:
        raise StorageError(f"the run finished but {out / 'summary.json'} cannot be read back")
    return summary
