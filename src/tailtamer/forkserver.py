"""The one forkserver of a tailtamer process: worker processes (sweep workers, the ranks of ``tailtamer launch``)
fork from a server that has imported torch and tailtamer once, instead of each importing them (about 20 ms to
start one, against seconds for a spawned process that imports torch itself: many times that on a loaded machine,
where N processes import at once on few cores).

The server is started once per process, on first use, and has imported every module asked for by then (later
requests can no longer add any: their processes import what is missing themselves). It has only imported
modules (no torch thread pool, no CUDA context, no thread of this process), so a worker starts clean; it keeps
the environment of its start, so the callers hand their workers the current one. It imports from this
process's ``sys.path`` (multiprocessing's forkserver would otherwise import from the interpreter's default path:
another copy of tailtamer than the one running, for a script that put ``src/`` on its path).

Usage: ``ctx = context(); ctx.Process(target=...).start()``.
"""

from __future__ import annotations

import multiprocessing as mp
import multiprocessing.forkserver
import os
import sys
from collections.abc import Iterable
from typing import Any

#: What the server imports, for every kind of worker (whichever starts it first): the ranks of a launch and the
#: workers of a sweep. ``tailtamer.rundir.plots`` imports matplotlib only when it draws, so its modules are named too
#: (0.3 s per worker otherwise), and so is torch's checkpoint serialisation; a module that cannot be imported is
#: skipped by the server.
MODULES = (
    "torch",
    "torch.distributed",
    "numpy",
    "tailtamer.api",
    "tailtamer.rundir",
    "tailtamer.rundir.plots",
    "tailtamer.distributed.run",
    "tailtamer.distributed.asynchronous.run",
    "tailtamer.experiments.sweep",
    "tailtamer.experiments.runner",
    "tailtamer.experiments.stacked",
    "tailtamer.engine.stacked.loop",
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "torch.utils.serialization",
)

#: Every module asked for so far, in order (the server imports them when it starts).
PRELOAD: list[str] = list(MODULES)


def context(modules: Iterable[str] = ()) -> Any:
    """The multiprocessing context whose workers fork from the preloaded server (``modules`` added to what it
    imports, if it has not started yet), or spawn where the platform has no forkserver."""
    if "forkserver" not in mp.get_all_start_methods():  # pragma: no cover - Windows
        return mp.get_context("spawn")
    PRELOAD.extend(m for m in modules if m not in PRELOAD)
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    _start()
    return ctx


def _start() -> None:
    """Start the server now (a no-op once it runs) with this process's ``sys.path`` as its ``PYTHONPATH``."""
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if saved is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = saved
