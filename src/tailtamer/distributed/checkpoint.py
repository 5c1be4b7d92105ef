"""Checkpoints of a torch.distributed run, in the same format as the simulator's.

Saving gathers every state tensor to all ranks (a collective) and rank 0 writes the full ``[n, d]`` state, so
a real run can resume from a simulated checkpoint and vice versa. Loading reads the file on rank 0 and
broadcasts it, so the other ranks need no shared filesystem.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..algorithms.base import State
from ..engine.callbacks import Callback
from ..engine.checkpoint import CHECKPOINT, atomic_save


def save_gathered(folder: Path, loop: Any, step: int, state: State) -> None:
    """Gather ``state`` over ``loop.comm`` (every rank must call this) and write it on rank 0."""
    comm = loop.comm
    full = {k: comm.gather(v.detach()).cpu() for k, v in state.items()}
    if comm.rank == 0:
        atomic_save({"step": step, "state": full, "comm": comm.stats.as_dict(), "wall_time": loop.wall_time},
                    Path(folder) / CHECKPOINT)


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


class GatheringCheckpointer(Callback):
    """Every ``every`` steps (0: only at the end) and at the end, :func:`save_gathered` on all ranks."""

    def __init__(self, folder: Path, every: int = 0):
        self.folder, self.every = Path(folder), every

    def on_step(self, loop: Any, step: int, state: State) -> None:
        if self.every and step % self.every == 0 and step < loop.steps:
            save_gathered(self.folder, loop, step, state)

    def on_end(self, loop: Any, state: State) -> None:
        save_gathered(self.folder, loop, loop.step, state)
