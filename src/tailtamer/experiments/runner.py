"""Run a config into a run folder (fresh or resumed) in the simulator.

The folder rules (fresh, resumed, already complete) are :mod:`tailtamer.rundir.resume`; the files are
:mod:`tailtamer.rundir.folder` — the same for ``tailtamer launch``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..api import build_components, make_loop
from ..config import resolve
from ..engine import Callback
from ..rundir import Checkpointer, ProgressBar, RunWriter
from ..rundir.arrivals import read_log
from ..rundir.footprint import check_memory
from ..rundir.resume import Resume, continue_from_checkpoint, prepare_folder
from ..rundir.folder import CONFIG, read_summary, run_info, write_diverged
from ..errors import ConfigError, NonFiniteError, StorageError

__all__ = ["CONFIG", "run_config", "run_info"]


def run_config(cfg: dict[str, Any], out: str | Path, resume: Resume = False, progress: bool = True,
               plot: bool = True, callbacks: Sequence[Any] = (), previous: bool = False,
               replay: str | Path | None = None, partial_replay: bool = False) -> dict[str, Any]:
    """Run ``cfg`` writing the run folder ``out``; returns the summary.

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
    resolved = resolve(cfg)
    out = Path(out)
    check_memory(resolved)                          # before the mixing matrix or the problem data exist
    c = build_components(resolved, resolved=True)   # every validation error is raised before the folder exists
    info = run_info(c)
    if partial_replay and replay is None:
        raise ConfigError("--partial-replay goes with --replay RUN_DIR (it replays an unfinished arrival log)")
    if replay is not None:
        from ..engine.events.replay import check_replay_config

        if c.algorithm.family != "async":
            raise ConfigError(f"--replay replays a real asynchronous run; '{resolved['algorithm']['name']}' runs "
                              f"in lockstep")
        check_replay_config(resolved, replay)
        info.update({"replay": str(replay), **read_log(replay, partial_replay).record()})
    check_memory(resolved, dim=c.problem.dim)       # before the [n, d] state exists
    start = prepare_folder(resolved, out, resume, previous=previous)
    if start.kind == "complete":
        return dict(start.summary or {})
    writers: list[Callback] = [RunWriter(out, info, plot=plot),
                               Checkpointer(out, resolved["run"]["checkpoint_every"])]
    if progress:
        writers.append(ProgressBar())
    writers += [cb if isinstance(cb, Callback) else cb(out) for cb in callbacks]
    loop = make_loop(c, writers, replay=replay, partial_replay=partial_replay)
    try:
        if start.resuming:
            continue_from_checkpoint(loop, out, name=start.checkpoint)
        else:
            loop.run()
    except NonFiniteError as err:
        write_diverged(out, err, loop.last_metrics, run_info(c), loop.wall_time)
        raise
    summary = read_summary(out)
    if summary is None:
        raise StorageError(f"the run finished but {out / 'summary.json'} cannot be read back")
    return summary
