"""Real asynchronous runs: ``tailtamer launch --nproc N`` on an asynchronous config.

Rank 0 is the server (:class:`~tailtamer.distributed.asynchronous.server.ServerLoop`) and ranks 1..N−1 are workers
0..N−2 (:class:`~tailtamer.distributed.asynchronous.worker.Worker`), over gloo point-to-point messages, so
``[topology] n`` must be N − 1. The server runs the same scheme code as the simulator: it decides the update
on each arrival, the delay (server updates since the version the job read) and which workers start next.
Workers compute for real with the counter-based oracle of their job and sleep the timing model's duration
times ``time_scale`` seconds.

The run folder is a simulated run's (``config.toml``, ``metrics.jsonl`` with ``time`` = real seconds /
``time_scale``, ``summary.json``, ``async.json``, checkpoints, plots) plus the arrival log
``arrivals.jsonl`` (:mod:`tailtamer.engine.events.replay`), which ``tailtamer run CONFIG --replay RUN_DIR``
replays in the simulator. ``async.json`` also lists the lost workers and the time scale.

Supported (:data:`SUPPORTED`): the per-gradient schemes (``asgd``, ``delay-adaptive-asgd``, ``clipped-asgd``,
``dc-asgd``, ``ringmaster``, ``nm-asgd``), the collecting ones (``rennala``, ``sync-sgd``, ``m-sync``: a worker
that delivered waits for the round, at most the slowest job) and the buffered ones (``fedbuff``,
``async-local``), with or without a concurrency cap. Workers without a job (waiting for their turn under a
cap, or for a round to end) hear a heartbeat from the server at least every ``timeout``/3 seconds, so a long
wait is not taken for a stalled server; and under a cap a lost busy worker's slot goes to the next idle
worker in the scheme's round-robin order (recorded as ``replaced_by`` in the arrival log, and replayed). A
real run cannot be resumed (its in-flight jobs lived on the workers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...algorithms import ALGORITHMS
from ...algorithms.asynchronous.base import AsyncScheme
from ...algorithms.asynchronous.buffered import FedBuff
from ...algorithms.asynchronous.per_gradient import ASGD
from ...algorithms.asynchronous.ringmaster import NormalizedMomentumASGD
from ...algorithms.asynchronous.sync import Collecting
from ...api import Components, build_components, make_async_loop
from ...errors import ConfigError, ValidationError
from ...prepare import Prepared, run_callbacks
from ...rundir.arrivals import SealedArrivalLog
from ...rundir.event_report import ASYNC
from ...rundir.folder import atomic_write_json, read_summary, run_info
from ...rundir.resume import Start
from ...validation import check_positive
from ..faults import from_env
from ..launcher import spawn
from ..process_group import DEFAULT_TIMEOUT
from .server import ServerLoop
from .worker import Worker

#: Scheme classes a real run supports (subclasses included: delay-adaptive, clipped, DC-ASGD, Ringmaster,
#: sync-sgd, m-sync, rennala, async-local), FedBuff with or without a concurrency cap (module docstring).
SUPPORTED: tuple[type, ...] = (ASGD, NormalizedMomentumASGD, Collecting, FedBuff)

#: Seconds of real time per timing unit when not given (a sqrt-model job of ≈ 3 units takes ≈ 30 ms).
TIME_SCALE = 0.01


def supported_names() -> list[str]:
    """Registered algorithms a real asynchronous run supports (a preset by the class it presets)."""
    classes = {n: getattr(ALGORITHMS.get(n), "base", ALGORITHMS.get(n)) for n in ALGORITHMS.names()}
    return [n for n, c in classes.items() if isinstance(c, type) and issubclass(c, SUPPORTED)]


def is_event_driven(resolved: dict[str, Any]) -> bool:
    """Whether the resolved config's method is an event-driven scheme (it runs as a server and workers)."""
    cls = ALGORITHMS.entry_class(resolved["algorithm"]["name"])
    return cls is not None and issubclass(cls, AsyncScheme)


#: What a resume of a real asynchronous run is told: it cannot continue, and what can be done instead.
RESUME_ASYNC = (
    "a real asynchronous run cannot be resumed (its in-flight jobs lived on the workers): start a "
    "new run folder, or replay the run in the simulator with tailtamer run CONFIG --replay RUN_DIR"
)


def check_real(resolved: dict[str, Any], world: int, time_scale: float = TIME_SCALE, backend: str = "gloo") -> None:
    """One-line errors, before any process starts: a supported scheme, N = n + 1 processes, gloo, a
    positive time scale."""
    name, n = resolved["algorithm"]["name"], resolved["topology"]["n"]
    cls = ALGORITHMS.get(name)
    if not (isinstance(cls, type) and issubclass(cls, SUPPORTED)):
        raise ValidationError(
            f"'{name}' cannot run asynchronously on real processes yet: supported are "
            f"{', '.join(supported_names())}; run it in the simulator (tailtamer run)"
        )
    if world != n + 1:
        raise ConfigError(
            f"an asynchronous run on {world} processes is a server and {world - 1} workers, "
            f"but [topology] n = {n}: use --nproc {n + 1} (or --set topology.n={max(world - 1, 1)})"
        )
    if resolved["run"]["device"] != "cpu":
        raise ConfigError(
            f"real asynchronous runs compute on the CPU ([run] device = 'cpu'), not {resolved['run']['device']!r}"
        )
    if backend != "gloo":
        raise ConfigError(
            f"real asynchronous runs use gloo (point-to-point messages between CPU processes), not {backend}"
        )
    check_positive("--time-scale (seconds per timing unit)", time_scale)


def run_async_rank(
    c: Components,
    out: str | Path,
    rank: int,
    world: int,
    time_scale: float,
    timeout: float,
    plot: bool = True,
    progress: bool = False,
) -> dict[str, Any] | None:
    """The body of one rank of a real asynchronous run (``c``: this process's components); returns the summary
    on the server (rank 0)."""
    fault = from_env()
    if rank > 0:
        Worker(c, rank, time_scale, timeout, fault).run()
        return None
    out = Path(out)
    p = Prepared(c.config, c, out, Start("fresh"), run_info(c))
    info = {
        "distributed": {
            "world_size": world,
            "backend": "gloo",
            "mode": "asynchronous",
            "workers": world - 1,
            "time_scale": time_scale,
        }
    }
    callbacks: list[Any] = run_callbacks(p, plot=plot, progress=progress, info=info)
    if fault is not None:
        callbacks.append(fault)
    loop = make_async_loop(c, callbacks, ServerLoop, log=SealedArrivalLog(out), time_scale=time_scale, timeout=timeout)
    loop.run()
    record_real(out, loop)
    return read_summary(out)


def record_real(out: Path, loop: ServerLoop) -> None:
    """Add the lost workers and the time scale to the run folder's ``async.json``."""
    path = out / ASYNC
    data = json.loads(path.read_text()) if path.is_file() else {}
    data["real"] = {"time_scale": loop.time_scale, "lost_workers": [i for i, v in enumerate(loop.lost) if v]}
    atomic_write_json(path, data)


def _rank_main(
    rank: int,
    world: int,
    resolved: dict[str, Any],
    out: str,
    time_scale: float,
    timeout: float,
    plot: bool,
    progress: bool,
) -> dict[str, Any] | None:
    c = build_components(resolved, resolved=True, check=False)  # checked once, before the ranks started
    return run_async_rank(c, out, rank, world, time_scale, timeout, plot=plot, progress=progress and rank == 0)


def launch_async(
    p: Prepared,
    nproc: int,
    timeout: float = DEFAULT_TIMEOUT,
    plot: bool = True,
    progress: bool = False,
    threads: int = 1,
    time_scale: float = TIME_SCALE,
) -> dict[str, Any]:
    """Run the prepared asynchronous run (checked by :func:`check_real`, its folder prepared fresh) as a server
    and ``nproc − 1`` workers; returns the summary."""
    results = spawn(
        _rank_main,
        nproc,
        (p.resolved, str(p.out), time_scale, timeout, plot, progress),
        timeout=timeout,
        backend="gloo",
        threads=threads,
        expendable=range(1, nproc),
    )
    return results[0]
