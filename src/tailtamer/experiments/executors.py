"""Where a sweep's jobs run: :data:`EXECUTORS`, the local process pool (``process``, the default) or a Ray
cluster (``ray``, the optional extra ``pip install 'tailtamer[ray]'``) when a sweep outgrows one machine.

A *job* is a picklable call ``fn(*args)`` whose first argument names the run folder it writes (a ``str``),
or the folders (a tuple or list of ``str``) for a job that writes several; it writes nothing else and returns
a value made of those names (or anything else picklable). :meth:`Executor.map` yields the results in the order
the jobs finish, so progress can be reported as they come.

``ray`` runs each job on any node of the cluster in a scratch folder of that node: the job's folders are
shipped there as they are on this machine (a partly run folder resumes from its checkpoint) and shipped back
when it ends, each file written atomically and ``summary.json`` last, so a run counts as finished here only
once all its files are. So the nodes share no file system: each needs tailtamer (and the data its problems
read, at the same path or under ``$TAILTAMER_DATA``), and the run folders appear on the machine that started
the study, byte for byte as the process pool writes them (wall-clock fields aside).

Example:
    >>> pool = EXECUTORS.build("process")
    >>> list(pool.map(len, [("ab",), ("abc",)], workers=1))
    [2, 3]
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from .. import forkserver, plugins
from ..errors import ConfigError
from ..memory import keep_heap_memory
from ..registry import Registry
from ..rundir.atomic import atomic_write_bytes
from ..rundir.folder import SUMMARY

#: How to get Ray, named in every error about its absence.
RAY_INSTALL_HINT = "pip install 'tailtamer[ray]'"

Files = dict[str, bytes]


class Executor(Protocol):
    """Runs jobs ``fn(*args)`` (see the module docstring) and yields their results as they finish."""

    def slots(self, workers: int | None) -> int:
        """How many jobs run at once: ``workers`` if given, else the executor's default."""

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], workers: int) -> Iterator[Any]:
        """``fn(*args)`` for each ``args`` in ``calls``, at most ``workers`` at once; results as they finish."""

    def close(self) -> None:
        """Release what the executor started (nothing for the process pool)."""


EXECUTORS: Registry[Executor] = Registry("executor")


#: Seconds a stopped pool's workers get to end after SIGTERM before they are killed.
STOP_GRACE = 1.0


def check_workers(workers: int | None) -> int | None:
    """``--workers``: None (the executor's default) or an integer ≥ 1; one line otherwise."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"--workers must be an integer ≥ 1 (leave it out for the default), got {workers!r}")
    return workers


def stop_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Dispatch nothing more and end the pool's workers now: queued jobs are cancelled, running ones get SIGTERM
    and, after :data:`STOP_GRACE` seconds, SIGKILL. A run stopped this way is resumed by the next sweep (its
    checkpoint and whole files are written atomically)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())  # the executor has no public handle
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for p in procs:
        p.join(timeout=max(deadline - time.monotonic(), 0.0))
        if p.is_alive():
            p.kill()
            p.join(timeout=STOP_GRACE)


def default_workers() -> int:
    """One worker per CPU of this machine, at most 8."""
    return max(1, min(os.cpu_count() or 1, 8))


#: What a sweep worker imports: the forkserver imports it once (with what a launch's ranks import,
#: :data:`tailtamer.forkserver.MODULES`), and every worker starts as a fork of it (about 20 ms, against about 2 s
#: for a spawned worker that imports torch itself).
WORKER_MODULES = forkserver.MODULES


def worker_context() -> Any:
    """The multiprocessing context of the process pool: a forkserver that has imported :data:`WORKER_MODULES`
    (started once per process, on the first pool, and kept for the next ones), or spawn where the platform
    has no forkserver. Either way a worker starts clean: the forkserver has only imported modules (no torch
    thread pool, no CUDA context, no thread of this process), and :func:`_start_worker` gives each worker this
    process's environment as it is when the pool starts, as a freshly spawned worker would see it."""
    return forkserver.context(WORKER_MODULES)


def warm() -> float:
    """Start the worker forkserver now and wait until it can fork workers (seconds it took: about 2 s the first
    time, milliseconds once it runs; 0 where the platform has none), so that the first sweep's workers start
    as fast as the later ones'."""
    ctx = worker_context()
    if ctx.get_start_method() != "forkserver":  # pragma: no cover - Windows
        return 0.0
    t0 = time.perf_counter()
    probe = ctx.Process(target=_nothing)  # forked once the server has imported its modules
    probe.start()
    probe.join()
    return time.perf_counter() - t0


def _nothing() -> None:
    """The job of :func:`warm`'s probe process."""


def _start_worker(env: dict[str, str]) -> None:
    """A pool worker's initializer. Its ``os.environ`` becomes ``env`` (the submitting process's, as the pool
    starts), where a forked worker would keep the forkserver's, the one of the first pool's start. And, as the
    worker is a process that runs one simulation at a time, its freed buffers stay in its heap for the next
    step's (:func:`tailtamer.memory.keep_heap_memory`; a setting of each process, which the process that starts
    the pool cannot make for its workers). It then loads the plugins the submitting process loaded (named in
    ``env``'s ``TAILTAMER_PLUGINS``) and the installed ones, so a plugin's components run in every worker."""
    os.environ.clear()
    os.environ.update(env)
    keep_heap_memory()
    plugins.load()


@EXECUTORS.register("process", "worker processes on this machine (the default)")
class ProcessPool:
    """Worker processes on this machine (forked from a forkserver that has imported torch and tailtamer:
    :func:`worker_context`); one worker, or one job, runs in this process."""

    def slots(self, workers: int | None) -> int:
        return check_workers(workers) or default_workers()

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], workers: int) -> Iterator[Any]:
        """As :meth:`Executor.map`. When the caller stops (Ctrl-C, an error, it stops reading), no further job
        starts and the running ones are ended within :data:`STOP_GRACE` seconds; finished runs stay."""
        if workers <= 1 or len(calls) <= 1:
            for args in calls:
                yield fn(*args)
            return
        pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=worker_context(), initializer=_start_worker, initargs=(dict(os.environ),)
        )
        try:
            futures = [pool.submit(fn, *args) for args in calls]
            for fut in cf.as_completed(futures):
                yield fut.result()
        except BaseException:
            stop_pool(pool)
            raise
        pool.shutdown(wait=True)

    def close(self) -> None:
        pass


def require_ray() -> Any:
    """The ``ray`` module, or a one-line ConfigError saying how to install it."""
    try:  # imported here, not at the top: Ray is an optional extra, needed only by this executor
        import ray
    except ImportError:
        raise ConfigError(f"the ray executor needs Ray, which is not installed: {RAY_INSTALL_HINT}") from None
    return ray


@EXECUTORS.register("ray", "tasks on a Ray cluster (pip install 'tailtamer[ray]')")
class RayCluster:
    """Jobs as Ray tasks of one CPU each, on the cluster at ``address`` (``"auto"``: the one started on this
    machine by ``ray start``; ``"ray://host:10001"``: a remote head through Ray Client), or, without an
    address, on a Ray instance started here for the sweep and stopped by :meth:`close`.

    Args:
        address: the cluster to connect to (None starts a local instance).
    """

    def __init__(self, address: str | None = None):
        require_ray()
        self.address = address or None
        self._connected = False

    def _ray(self) -> Any:
        ray = require_ray()
        if not ray.is_initialized():
            if self.address is None:
                os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # a local instance sends nothing out
                ray.init(address="local", include_dashboard=False)  # a new instance, even beside a cluster
            else:
                try:
                    ray.init(address=self.address)
                except ConnectionError as err:
                    raise ConfigError(
                        f"cannot reach the Ray cluster at {self.address!r} ({err}); start it with "
                        "`ray start --head`, or drop --ray-address to start one here"
                    ) from None
            self._connected = True
        return ray

    def slots(self, workers: int | None) -> int:
        return check_workers(workers) or max(1, int(self._ray().cluster_resources().get("CPU", 1)))

    def map(self, fn: Callable[..., Any], calls: Sequence[tuple[Any, ...]], workers: int) -> Iterator[Any]:
        ray = self._ray()
        remote = ray.remote(num_cpus=1, max_retries=0)(_in_scratch)
        queue = iter(calls)
        pending: dict[Any, tuple[list[str], list[Files | None]]] = {}
        try:
            while True:
                for args in queue:  # keep at most `workers` jobs (and their shipped folders) out
                    folders = _folders(args[0])
                    shipped = [_pack(Path(f)) for f in folders]
                    pending[remote.remote(fn, args, shipped)] = (folders, shipped)
                    if len(pending) >= max(workers, 1):
                        break
                if not pending:
                    return
                [ref], _ = ray.wait(list(pending), num_returns=1)
                folders, shipped = pending.pop(ref)
                result, error, returned = ray.get(ref)
                for folder, before, after in zip(folders, shipped, returned):
                    _land(Path(folder), before, after)
                if error is not None:
                    raise error
                yield result
        finally:
            for ref in pending:
                ray.cancel(ref)

    def close(self) -> None:
        if self._connected:  # disconnects from a cluster; stops the instance started here
            require_ray().shutdown()
            self._connected = False


def make(name: str = "process", address: str | None = None) -> Executor:
    """The executor ``name`` of :data:`EXECUTORS` (an address only for ``ray``)."""
    if address is not None and name != "ray":
        raise ConfigError(f"a cluster address goes with the ray executor, not '{name}'")
    return EXECUTORS.build(name, {"address": address} if address is not None else {})


def resolve(executor: Executor | str | None) -> Executor:
    """An executor given by name (None: ``process``) or as an object."""
    return make(executor or "process") if executor is None or isinstance(executor, str) else executor


def _folders(first: Any) -> list[str]:
    """The run folders named by a job's first argument (one name, or a tuple or list of them)."""
    return [str(first)] if isinstance(first, (str, Path)) else [str(f) for f in first]


def _pack(folder: Path) -> Files | None:
    """Every file under ``folder`` by its path relative to it (None where the folder does not exist)."""
    if not folder.is_dir():
        return None
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _unpack(folder: Path, files: Files | None) -> None:
    """Recreate a folder from :func:`_pack` (nothing where it did not exist)."""
    if files is None:
        return
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)


def _land(folder: Path, before: Files | None, after: Files | None) -> None:
    """Write a job's folder as it came back: changed files atomically, ``summary.json`` last (a folder counts
    as finished only once everything else is in), files the job removed removed."""
    if after is None:
        return
    for rel in sorted(after, key=lambda r: r == SUMMARY):
        if before is None or before.get(rel) != after[rel]:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(folder / rel, after[rel])
    for rel in set(before or {}) - set(after):
        (folder / rel).unlink(missing_ok=True)


def _in_scratch(
    fn: Callable[..., Any], args: tuple[Any, ...], files: list[Files | None]
) -> tuple[Any, BaseException | None, list[Files | None]]:
    """On a Ray worker: ``fn(*args)`` with its folders moved into a scratch folder (filled from ``files``);
    returns its result (with the folder names put back), its error (the folders come back either way, so a
    failed run resumes from its last checkpoint) and the folders' files."""
    first = args[0]
    names = _folders(first)
    with tempfile.TemporaryDirectory(prefix="tailtamer-") as tmp:
        local = [str(Path(tmp) / str(i) / Path(name).name) for i, name in enumerate(names)]
        for folder, packed in zip(local, files):
            _unpack(Path(folder), packed)
        moved = local[0] if isinstance(first, (str, Path)) else type(first)(local)
        result: Any = None
        error: BaseException | None = None
        try:
            result = _rename(fn(moved, *args[1:]), dict(zip(local, names)))
        except Exception as err:  # shipped back with the folders, raised on the driver  # noqa: BLE001
            error = err
        return result, error, [_pack(Path(folder)) for folder in local]


def _rename(value: Any, names: dict[str, str]) -> Any:
    """``value`` with each scratch folder name (alone, or in a tuple or list) replaced by its own name."""
    if isinstance(value, (str, Path)) and str(value) in names:
        return type(value)(names[str(value)])
    if isinstance(value, (tuple, list)):
        return type(value)(_rename(v, names) for v in value)
    return value
