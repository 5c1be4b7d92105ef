"""Which ``torch.distributed`` backend moves which tensors, checked before any process starts.

* ``gloo`` moves CPU tensors; ``nccl`` moves CUDA tensors. Without an explicit backend it follows the device
  (:func:`backend_for`).
* NCCL allows one process per GPU (since NCCL 2.5 two ranks on one device fail with "Duplicate GPU
  detected"), so one machine runs at most ``torch.cuda.device_count()`` NCCL processes; each still hosts a
  block of nodes.
"""

from __future__ import annotations

import torch

from ..errors import ConfigError

#: The device type each backend moves.
BACKEND_DEVICE = {"gloo": "cpu", "nccl": "cuda"}


def backend_for(device: str | torch.device) -> str:
    """The backend that moves tensors of ``device``: ``nccl`` for CUDA, ``gloo`` for CPU."""
    return "nccl" if torch.device(device).type == "cuda" else "gloo"


def check_backend(backend: str, device: str | torch.device, local_processes: int | None = None) -> None:
    """Raise :class:`ConfigError` unless ``backend`` can move tensors of ``device`` with ``local_processes``
    processes on this machine (None: do not check the count)."""
    if backend not in BACKEND_DEVICE:
        raise ConfigError(f"unknown backend {backend!r}: choose one of {sorted(BACKEND_DEVICE)}")
    kind = torch.device(device).type
    want = BACKEND_DEVICE[backend]
    if kind != want:
        raise ConfigError(
            f"backend {backend!r} moves {want.upper()} tensors, not {str(device)!r} ones: use backend "
            f"{backend_for(device)!r}, or put the tensors on {want!r} ([run] device = {want!r})"
        )
    if backend == "nccl":
        if not torch.cuda.is_available():
            raise ConfigError(
                "backend 'nccl' needs CUDA, and torch sees no GPU on this machine: "
                "use --backend gloo with [run] device = 'cpu'"
            )
        gpus = torch.cuda.device_count()
        if local_processes is not None and local_processes > gpus:
            raise ConfigError(
                f"{local_processes} NCCL processes on a machine with {gpus} GPU(s): NCCL allows one "
                f"process per GPU; use at most {gpus} (each process hosts a block of nodes) "
                "or --backend gloo"
            )
