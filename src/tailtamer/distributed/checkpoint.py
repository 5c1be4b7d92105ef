"""Resuming a torch.distributed run from a checkpoint in the simulator's format.

Saving is :func:`tailtamer.engine.checkpoint.save_checkpoint` (it gathers through ``comm.gather`` and rank 0
writes). Loading reads the file on rank 0 and broadcasts it, so the other ranks need no shared filesystem.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..algorithms.base import State
from ..engine.checkpoint import CHECKPOINT


def load_broadcast(folder: Path, loop: Any, present: bool | None = None) -> tuple[State, int] | None:
    """Rank 0 reads the checkpoint of ``folder`` (if any) and every rank gets its rows; None without one."""
    comm = loop.comm
    ck = None
    if comm.rank == 0 and (Path(folder) / CHECKPOINT).exists() and present is not False:
        ck = torch.load(Path(folder) / CHECKPOINT, map_location="cpu", weights_only=True)
    ck = comm.broadcast_object(ck, src=0)
    if ck is None:
        return None
    lo, hi = comm.bounds[comm.rank]
    comm.stats.load(ck["comm"])
    loop.wall_time = float(ck["wall_time"])
    state = {k: v[lo:hi].clone().to(loop.device) for k, v in ck["state"].items()}
    return state, int(ck["step"])
