"""Real runs over torch.distributed: launching, process groups, fault handling and a drop-in optimizer.

* :class:`DecentralizedOptimizer` — use a registered decentralized algorithm in your own ``torchrun`` script.
* :class:`LocalUpdate` — a TailOPT method (Bi²Clip, DiLoCo, ...) around your inner optimizer (DiLoCo style).
* :func:`compressed_hook` — a server method with a compressor as a DDP communication hook.
* :func:`train_async` / :func:`replay_async` — your model and data on a real asynchronous server and workers, and
  the run replayed in the simulator (:class:`AsyncTraining`).
* :func:`launch` — run a config as N local processes (``tailtamer launch``); ``python -m
  tailtamer.distributed.run`` is the per-process entry point for ``torchrun`` on one or many machines.
* :func:`spawn` — run any function in N processes inside a process group, stopping all on a failure.

See docs/distributed.md.
"""

from __future__ import annotations

from typing import Any

from ..comm.distributed import DistributedComm
from ..comm.health import CommError
from .launcher import DistributedRunError, spawn
from .optimizer import DecentralizedOptimizer
from .process_group import init_from_env
from .training.asynchronous import AsyncTraining, replay_async, train_async
from .training.comm_hook import compressed_hook
from .training.inner import TransformOptimizer
from .training.local_update import LocalUpdate

__all__ = [
    "AsyncTraining",
    "CommError",
    "DecentralizedOptimizer",
    "DistributedComm",
    "DistributedRunError",
    "LocalUpdate",
    "TransformOptimizer",
    "compressed_hook",
    "init_from_env",
    "launch",
    "replay_async",
    "spawn",
    "train_async",
]


def __getattr__(name: str) -> Any:
    # ``launch`` is imported on first use, so that ``python -m tailtamer.distributed.run`` (torchrun's entry
    # point) does not find its own module already imported by the package (runpy's RuntimeWarning).
    if name == "launch":
        from .run import launch

        return launch
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
