"""Bad input, early and in one line: no process group, and parameter shapes that differ across ranks."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch
import torch.distributed as dist

from ...comm.backends import backend_for
from ...errors import TailtamerError
from ..process_group import init_from_env

HOW_TO_START = (
    "no torch.distributed process group: start the script with `torchrun --nproc-per-node N "
    "SCRIPT.py` or call torch.distributed.init_process_group('gloo') (NCCL for CUDA) first"
)


class SetupError(TailtamerError, ValueError):
    """The training script's distributed setup is unusable (no process group, mismatched models)."""


def require_group(device: torch.device | str, timeout: float) -> None:
    """Join torchrun's process group if its environment is there; otherwise raise :class:`SetupError` saying how
    to start one (instead of torch's ``MASTER_ADDR`` error)."""
    if dist.is_available() and dist.is_initialized():
        return
    if not dist.is_available() or not all(k in os.environ for k in ("RANK", "WORLD_SIZE", "MASTER_ADDR")):
        raise SetupError(HOW_TO_START)
    init_from_env(backend_for(torch.device(device)), timeout=timeout)


def check_shapes(named: Sequence[tuple[str, torch.Tensor]], group: Any = None) -> None:
    """Raise :class:`SetupError` naming the first parameter whose shape differs from rank 0's, on every rank."""
    mine = [(name, tuple(p.shape)) for name, p in named]
    everyone: list[Any] = [None] * dist.get_world_size(group)
    dist.all_gather_object(everyone, mine, group=group)
    ref = everyone[0]
    for rank, theirs in enumerate(everyone):
        if theirs == ref:
            continue
        if len(theirs) != len(ref):
            raise SetupError(
                f"rank {rank} has {len(theirs)} parameters but rank 0 has {len(ref)}: every rank "
                f"must build the same model"
            )
        for (name, shape), (_, shape0) in zip(theirs, ref):
            if shape != shape0:
                raise SetupError(
                    f"parameter {name!r} has shape {list(shape)} on rank {rank} but "
                    f"{list(shape0)} on rank 0: every rank must build the same model"
                )
