"""Start N worker processes on this machine, watch them, and stop them all when one fails.

:func:`spawn` hosts the rendezvous ``TCPStore`` in the calling (parent) process, so the store outlives any
worker and the survivors of a crash can still run the roll call of :mod:`tailtamer.comm.health`. Each worker
joins a gloo (or NCCL) process group under the given timeout, calls ``fn(rank, world, *args)`` and sends
back its result or a description of its exception. When a worker fails, the others get ``timeout`` plus a
short grace period to notice and stop on their own; whatever still runs after that is terminated, so no
process outlives the launch. The failure is reported as one :class:`DistributedRunError` naming the rank
at fault.
"""

from __future__ import annotations

import collections
import io
import os
import queue as queue_mod
import time
import traceback
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from .. import forkserver, plugins
from ..comm.health import grace_for
from ..errors import TailtamerError
from .process_group import DEFAULT_TIMEOUT, init_with_store, shutdown

HOST = "127.0.0.1"

#: What a rank imports, preloaded once by the forkserver its ranks fork from (:mod:`tailtamer.forkserver`): a rank
#: starts in milliseconds instead of importing torch and tailtamer itself (seconds each, all at once).
RANK_MODULES = forkserver.MODULES


class DistributedRunError(TailtamerError, RuntimeError):
    """One or more workers failed.

    Attributes:
        rank: the rank held responsible (the first to raise an error of its own, the first to die, or the
            peer the others blamed), or None.
        errors: rank → description (``type``, ``message``, ``peers``, ``traceback``, ...) of what each raised.
        exitcodes: the exit code of every worker (negative: killed by that signal).
    """

    def __init__(self, message: str, rank: int | None, errors: dict[int, dict[str, Any]], exitcodes: list[int | None]):
        self.rank, self.errors, self.exitcodes = rank, errors, exitcodes
        super().__init__(message)

    @property
    def root(self) -> dict[str, Any] | None:
        """The description of the responsible rank's own error, if it reported one."""
        return self.errors.get(self.rank) if self.rank is not None else None


def describe(err: BaseException) -> dict[str, Any]:
    """A picklable description of an exception (type, message, peers, NonFiniteError fields, traceback)."""
    out = {
        "type": type(err).__name__,
        "message": str(err),
        "tailtamer": isinstance(err, TailtamerError),
        "peers": list(getattr(err, "peers", []) or []),
        "traceback": traceback.format_exc(),
        "time": time.time(),
    }
    for key in ("step", "node", "what"):
        if hasattr(err, key):
            out[key] = getattr(err, key)
    return out


def _worker(
    fn: Callable[..., Any],
    rank: int,
    world: int,
    port: int,
    backend: str,
    timeout: float,
    threads: int,
    results: Any,
    args: tuple,
    env: dict[str, str],
) -> None:
    torch.set_num_threads(max(int(threads), 1))
    os.environ.clear()  # the launching process's environment, not the forkserver's
    os.environ.update(env)
    os.environ.update(
        {
            "RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_RANK": str(rank),
            "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": HOST,
            "MASTER_PORT": str(port),
        }
    )
    try:
        plugins.load()  # the plugins the parent loaded (TAILTAMER_PLUGINS), entry points
        init_with_store(rank, world, HOST, port, backend=backend, timeout=timeout)
        value = fn(rank, world, *args)
        results.put((rank, "ok", _pack(value)))
    except BaseException as err:  # report, then exit at once: never wait on a broken group  # noqa: BLE001
        try:
            results.put((rank, "error", describe(err)))
            results.close()
            results.join_thread()
        finally:
            os._exit(1)
    results.close()
    results.join_thread()
    shutdown()


def spawn(
    fn: Callable[..., Any],
    nproc: int,
    args: tuple = (),
    *,
    timeout: float = DEFAULT_TIMEOUT,
    backend: str = "gloo",
    threads: int = 1,
    stop_after: float | None = None,
    expendable: Collection[int] = (),
) -> list[Any]:
    """Run ``fn(rank, nproc, *args)`` in ``nproc`` new processes, forked from the preloaded forkserver
    (:mod:`tailtamer.forkserver`) with this process's environment; return their results in rank order.

    Args:
        fn: a module-level (picklable) function; it runs inside an initialised process group.
        timeout: seconds every collective and receive may wait (the process group's timeout).
        backend: ``"gloo"`` (CPU) or ``"nccl"`` (one GPU per process).
        threads: torch intra-op threads per worker.
        stop_after: seconds the others get to stop on their own after the first failure before they are
            terminated (default: ``timeout`` + twice the roll-call grace + 10 s); a worker still running a few
            seconds after the last of the others exited is terminated sooner.
        expendable: ranks whose failure is not the run's (the workers of a real asynchronous run, which the
            server drops): the others go on, and their results come back (None for a failed expendable rank).
            An expendable rank's error that blames another rank is that rank's failure (workers naming a
            stalled server), and expendable ranks still running a few seconds after every other rank
            finished are terminated (stalled workers the server dropped).

    Raises:
        DistributedRunError: naming the rank at fault when any worker fails.
    """
    ctx = forkserver.context(RANK_MODULES)
    store = dist.TCPStore(
        HOST, 0, nproc, is_master=True, wait_for_workers=False, timeout=timedelta(seconds=max(timeout, 30.0))
    )
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker,
            args=(fn, r, nproc, store.port, backend, timeout, threads, results, args, dict(os.environ)),
            name=f"tailtamer-rank{r}",
        )
        for r in range(nproc)
    ]
    for p in procs:
        p.start()
    values: dict[int, Any] = {}
    errors: dict[int, dict[str, Any]] = {}
    killed: set[int] = set()
    spare = set(expendable)
    patience = stop_after if stop_after is not None else timeout + 2 * grace_for(timeout) + 10.0
    first_fail: float | None = None
    # after a failure, whoever is still alive this long after the last exit is stalled: its peers are gone
    linger = grace_for(timeout) + 2.0
    seen_exits, last_exit = 0, time.monotonic()
    try:
        while True:
            _drain(results, values, errors, wait=0.05)
            codes = [p.exitcode for p in procs]
            if all(c is not None for c in codes):
                break
            now = time.monotonic()
            exited = sum(c is not None for c in codes)
            if exited != seen_exits:
                seen_exits, last_exit = exited, now
            if first_fail is None and (
                any(r not in spare or set(e["peers"]) - spare for r, e in errors.items())
                or any(c not in (None, 0) and r not in spare for r, c in enumerate(codes))
            ):
                first_fail = now  # a rank that matters failed, or an expendable one blamed such a rank
            if first_fail is not None and (now - first_fail > patience or (exited and now - last_exit > linger)):
                killed |= _terminate(procs)
            if spare and all(codes[r] == 0 for r in range(nproc) if r not in spare) and now - last_exit > linger:
                killed |= _terminate(procs)  # the run is over; expendable ranks still alive are stalled
    except BaseException:
        _terminate(procs)
        raise
    finally:
        for p in procs:
            p.join(timeout=5)
    _drain(results, values, errors, wait=0.2)
    codes = [p.exitcode for p in procs]
    if any(r not in spare for r in errors) or any(c != 0 and r not in spare for r, c in enumerate(codes)):
        raise failure(errors, codes, killed)
    return [values.get(r) for r in range(nproc)]


def _drain(results: Any, values: dict[int, Any], errors: dict[int, dict[str, Any]], wait: float) -> None:
    block = True
    while True:
        try:
            rank, kind, value = results.get(timeout=wait) if block else results.get_nowait()
        except queue_mod.Empty:
            return
        block = False
        if kind == "ok":
            values[rank] = _unpack(value)
        else:
            errors[rank] = value


def _pack(value: Any) -> bytes:
    """Results travel as ``torch.save`` bytes: tensors are copied, not shared with a process about to exit."""
    buf = io.BytesIO()
    torch.save(value, buf)
    return buf.getvalue()


def _unpack(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), weights_only=False)  # our own children's results


def _terminate(procs: list[Any]) -> set[int]:
    alive = {r for r, p in enumerate(procs) if p.is_alive()}
    for r in alive:
        procs[r].terminate()
    deadline = time.monotonic() + 3.0
    for r in alive:
        procs[r].join(timeout=max(deadline - time.monotonic(), 0.0))
        if procs[r].is_alive():
            procs[r].kill()
    return alive


def failure(errors: dict[int, dict[str, Any]], codes: list[int | None], killed: set[int]) -> DistributedRunError:
    """Build the error that names the rank at fault from what every worker reported."""
    # NaN/Inf first, by (step, lowest global node), so the report is the simulator's and repeatable; then the
    # earliest other error of a rank's own
    own = sorted(
        ((0, e["step"], e["node"], r) if e["type"] == "NonFiniteError" else (1, e["time"], 0, r))
        for r, e in errors.items()
        if e["type"] != "CommError"
    )
    died = [r for r, c in enumerate(codes) if c not in (0, None) and r not in errors and r not in killed]
    blamed = collections.Counter(p for e in errors.values() if e["type"] == "CommError" for p in e["peers"])
    if own:
        rank = own[0][-1]
        head = f"rank {rank} failed: {errors[rank]['type']}: {errors[rank]['message']}"
    elif died:
        rank = died[0]
        head = f"rank {rank} died (exit code {codes[rank]})"
    elif blamed:
        rank = blamed.most_common(1)[0][0]
        state = "stalled (terminated after the others timed out)" if rank in killed else "stopped responding"
        head = f"rank {rank} {state}"
    else:
        rank, head = None, "a worker failed"
    lines = [head]
    for r in sorted(set(errors) | set(range(len(codes)))):
        if (r in errors and r != rank) or (r == rank and r in errors and errors[r]["type"] == "CommError"):
            lines.append(f"  rank {r}: {errors[r]['type']}: {errors[r]['message']}")
        elif r in killed:
            lines.append(f"  rank {r}: terminated by the launcher")
        elif codes[r] not in (0, None) and r not in errors:
            lines.append(f"  rank {r}: exited with code {codes[r]} without a report")
    return DistributedRunError("\n".join(lines), rank, errors, codes)
