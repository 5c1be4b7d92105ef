"""Atomic checkpoints: algorithm state, step, communication counters and elapsed time.

Randomness is counter-based (:mod:`tailtamer.rng`), so no generator state needs saving: a run resumed at
step k draws exactly what the uninterrupted run drew from step k on.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..algorithms.base import State
from .callbacks import Callback

CHECKPOINT = "checkpoint.pt"


def atomic_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def save_checkpoint(folder: Path, loop: Any, step: int, state: State) -> None:
    """Write the full ``[n, d]`` state of every node: ``comm.gather`` collects the rows (the identity in the
    simulator, a collective that every rank must enter in a torch.distributed run) and rank 0 writes, so a
    real run resumes a simulated checkpoint and the other way round."""
    comm = loop.comm
    full = {k: comm.gather(v.detach()).cpu() for k, v in state.items()}
    if getattr(comm, "rank", 0) == 0:
        atomic_save({"step": step, "state": full, "comm": comm.stats.as_dict(), "wall_time": loop.wall_time},
                    Path(folder) / CHECKPOINT)


def load_checkpoint(folder: Path, loop: Any) -> tuple[State, int]:
    """Restore a checkpoint into ``loop`` (comm counters and wall time) and return ``(state, step)``."""
    ck = torch.load(Path(folder) / CHECKPOINT, map_location=loop.device, weights_only=True)
    loop.comm.stats.load(ck["comm"])
    loop.wall_time = float(ck["wall_time"])
    state = {k: v.to(loop.device) for k, v in ck["state"].items()}
    return state, int(ck["step"])


class Checkpointer(Callback):
    """Saves a checkpoint every ``every`` steps and at the end (``every = 0``: only at the end)."""

    def __init__(self, folder: Path, every: int = 0):
        self.folder, self.every = Path(folder), every

    def on_step(self, loop: Any, step: int, state: State) -> None:
        if self.every and step % self.every == 0 and step < loop.steps:
            save_checkpoint(self.folder, loop, step, state)

    def on_end(self, loop: Any, state: State) -> None:
        save_checkpoint(self.folder, loop, loop.step, state)
