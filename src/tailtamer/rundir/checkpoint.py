"""Checkpoints: algorithm state, step, communication counters and elapsed time — one save, one load.

Randomness is counter-based (:mod:`tailtamer.rng`), so no generator state needs saving: a run resumed at
step k draws exactly what the uninterrupted run drew from step k on. Saving never changes the run: it reads
the state (``comm.gather`` is not counted in the communication statistics) and writes a file.

Files: ``checkpoint.pt`` (the latest) and ``checkpoint.prev.pt`` (the one before it), each written
atomically; a truncated or corrupt latest checkpoint is reported naming the file, with the previous one
offered when it is intact (``--resume-previous``).

Period (``[run] checkpoint_every``): every k steps, and always at the end. The default 0 picks k from the
run length, :func:`auto_period` (about 20 checkpoints per run, so Ctrl-C then ``--resume`` loses at most
5 % of the run); steps, not seconds, so every rank of a distributed run agrees without communicating.

Loading goes through a *reader* strategy: :func:`read_checkpoint` reads the file in this process (the
simulator); :func:`tailtamer.distributed.checkpoint.broadcast_reader` reads it on rank 0 and broadcasts it,
so the other ranks need no shared file system. Either way each process keeps the rows of its own nodes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..algorithms.base import State
from ..engine.callbacks import Callback
from ..errors import CheckpointError
from .atomic import atomic_save

CHECKPOINT = "checkpoint.pt"
PREVIOUS = "checkpoint.prev.pt"
#: Checkpoints per run when ``checkpoint_every = 0``.
AUTO_CHECKPOINTS = 20
KEYS = ("step", "state", "comm", "wall_time")

Reader = Callable[[Path], dict[str, Any]]


def auto_period(steps: int) -> int:
    """The automatic checkpoint period: ``ceil(steps / 20)`` steps (at least 1)."""
    return max(1, math.ceil(steps / AUTO_CHECKPOINTS))


def checkpoint_period(every: int, steps: int) -> int:
    """``every`` when positive, else :func:`auto_period`."""
    return every if every > 0 else auto_period(steps)


def save_checkpoint(folder: Path, loop: Any, step: int, state: State) -> None:
    """Write the full ``[n, d]`` state of every node: ``comm.gather`` collects the rows (the identity in the
    simulator, a collective that every rank must enter in a torch.distributed run) and rank 0 writes, so a
    real run resumes a simulated checkpoint and the other way round. The checkpoint it replaces becomes
    ``checkpoint.prev.pt``."""
    comm = loop.comm
    full = {k: comm.gather(v.detach()).cpu() for k, v in state.items()}
    if getattr(comm, "rank", 0) == 0:
        folder = Path(folder)
        blob = {
            "step": step,
            "state": full,
            "comm": comm.stats.as_dict(),
            "wall_time": loop.wall_time,
            "sim_time": loop.sim_time,
        }
        atomic_save(blob, folder / CHECKPOINT, previous=folder / PREVIOUS)  # complete before the rotation


def read_checkpoint(path: Path) -> dict[str, Any]:
    """Read and check one checkpoint file; raise :class:`CheckpointError` naming it when it is unreadable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError, ... for a bad file  # noqa: BLE001
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt ({_short(err)}){offer(path)}") from None
    if not isinstance(ck, dict) or any(k not in ck for k in KEYS) or not isinstance(ck["state"], dict):
        raise CheckpointError(f"{path} is not a tailtamer checkpoint (it lacks {', '.join(KEYS)}){offer(path)}")
    return ck


def offer(path: Path) -> str:
    """``; the previous checkpoint ... is intact: --resume-previous`` when ``path`` is the latest checkpoint
    and the previous one reads; else a hint to start again."""
    path = Path(path)
    if path.name != CHECKPOINT:
        return "; start the run again in a new folder"
    prev = path.with_name(PREVIOUS)
    if prev.is_file():
        try:
            step = int(read_checkpoint(prev)["step"])
        except CheckpointError:
            return f"; the previous checkpoint {prev} is unreadable too: start the run again in a new folder"
        return f"; the previous checkpoint {prev} (step {step}) is intact: continue from it with --resume-previous"
    return "; there is no previous checkpoint: start the run again in a new folder"


def _short(err: BaseException, limit: int = 160) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def local_rows(v: torch.Tensor, comm: Any) -> torch.Tensor:
    """The rows of a saved ``[n, ...]`` tensor that this process hosts (all of them in the simulator)."""
    if comm.n_local == comm.n or v.dim() == 0 or v.shape[0] != comm.n:
        return v
    return v.index_select(0, comm.nodes.to(torch.long).cpu())


def load_checkpoint(
    folder: Path, loop: Any, reader: Reader = read_checkpoint, name: str = CHECKPOINT
) -> tuple[State, int]:
    """Restore checkpoint ``folder/name`` into ``loop`` (comm counters and wall time); return ``(state, step)``.

    ``reader`` is the loading strategy (see the module docstring); it raises :class:`CheckpointError`.
    """
    ck = reader(Path(folder) / name)
    loop.comm.stats.load(ck["comm"])
    loop.wall_time = float(ck["wall_time"])
    loop.sim_time = float(ck.get("sim_time", 0.0))  # absent from checkpoints written before the simulated clock
    state = {k: local_rows(v, loop.comm).clone().to(loop.device) for k, v in ck["state"].items()}
    return state, int(ck["step"])


class Checkpointer(Callback):
    """Saves a checkpoint every ``every`` steps (0: :func:`auto_period` of the run length) and at the end."""

    def __init__(self, folder: Path, every: int = 0):
        if every < 0:
            raise ValueError(f"checkpoint_every must be ≥ 0, got {every}")
        self.folder, self.every = Path(folder), every
        self.period = every

    def on_start(self, loop: Any) -> None:
        self.period = checkpoint_period(self.every, loop.steps)

    def on_step(self, loop: Any, step: int, state: State) -> None:
        if self.period and step % self.period == 0 and step < loop.steps:
            save_checkpoint(self.folder, loop, step, state)

    def on_end(self, loop: Any, state: State) -> None:
        save_checkpoint(self.folder, loop, loop.step, state)

    def step_period(self) -> int:
        return self.period
