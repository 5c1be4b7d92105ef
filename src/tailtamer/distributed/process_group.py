"""Process-group setup: from ``torchrun``'s environment, or from a store handed over by ``tailtamer launch``.

Which backend goes with which device, and how many NCCL processes a machine takes, is checked before any
process starts (:mod:`tailtamer.comm.backends`). NCCL's ``wait()`` only orders CUDA streams unless
``TORCH_NCCL_BLOCKING_WAIT=1``; tailtamer sets it (when unset) so that every receive and collective honours
the timeout and fails with an error naming the peer, as with gloo.
"""

from __future__ import annotations

import os
from datetime import timedelta

import torch
import torch.distributed as dist

from ..comm.backends import backend_for
from ..comm.health import DEFAULT_TIMEOUT


def _nccl_blocking_wait() -> None:
    os.environ.setdefault("TORCH_NCCL_BLOCKING_WAIT", "1")


def init_from_env(backend: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, int]:
    """Join the process group described by ``torchrun``'s variables (``RANK``, ``WORLD_SIZE``, ``MASTER_*``).

    Idempotent: returns ``(rank, world_size)`` of an already initialised group. With NCCL the CUDA device is
    set to ``LOCAL_RANK`` and waits block (module docstring).
    """
    if not dist.is_initialized():
        backend = backend or backend_for("cuda" if torch.cuda.is_available() else "cpu")
        if backend == "nccl":
            _nccl_blocking_wait()
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout))
    return dist.get_rank(), dist.get_world_size()


def init_with_store(
    rank: int, world: int, host: str, port: int, backend: str = "gloo", timeout: float = DEFAULT_TIMEOUT
) -> dist.Store:
    """Join a process group whose rendezvous store (a ``TCPStore``) is hosted at ``host:port`` by the launcher."""
    store = dist.TCPStore(host, port, world, is_master=False, timeout=timedelta(seconds=max(timeout, 30.0)))
    if backend == "nccl":
        _nccl_blocking_wait()
        torch.cuda.set_device(rank % max(torch.cuda.device_count(), 1))
    dist.init_process_group(backend, store=store, rank=rank, world_size=world, timeout=timedelta(seconds=timeout))
    return store


def shutdown() -> None:
    """Leave the process group (no-op when none is initialised)."""
    if dist.is_initialized():
        dist.destroy_process_group()
