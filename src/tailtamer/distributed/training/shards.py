"""What the torchrun examples share: scikit-learn's digits split into one shard per rank, minibatches, the
seeded digits CNN, and the averaged training loss they print."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ...data import load_digits_arrays
from ...problems.models.vision import DigitsCNN
from ..process_group import init_from_env


def digits_shard(rank: int, world: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rank ``rank``'s ``1/world`` of the 1,797 digits (every world-th image): ``([N, 1, 8, 8] float32, [N])``."""
    images, labels = load_digits_arrays()
    x = torch.from_numpy(images[:, None]).float()
    y = torch.from_numpy(labels)
    return x[rank::world], y[rank::world]


def minibatches(x: torch.Tensor, y: torch.Tensor, size: int, seed: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """An endless stream of random minibatches of ``size`` from ``(x, y)``, reproducible from ``seed``."""
    g = torch.Generator().manual_seed(seed)
    while True:
        idx = torch.randint(0, len(y), (size,), generator=g)
        yield x[idx], y[idx]


@dataclass
class DigitsRun:
    """What every torchrun example starts from: this rank, its digits shard and the (seeded) digits CNN."""

    rank: int
    world: int
    x: torch.Tensor
    y: torch.Tensor
    model: torch.nn.Module


def digits_run(seed: int = 0, timeout: float = 60.0, channels: int = 8) -> DigitsRun:
    """Join torchrun's gloo group (one torch thread per process), load this rank's shard, build the CNN from
    ``seed`` (the same initial model on every run; the wrappers also start every rank from rank 0's)."""
    torch.set_num_threads(1)
    rank, world = init_from_env("gloo", timeout=timeout)
    x, y = digits_shard(rank, world)
    torch.manual_seed(seed)
    return DigitsRun(rank, world, x, y, DigitsCNN(channels))


def report(run: DigitsRun, comm: Any, what: str) -> float:
    """The training loss on this rank's shard averaged over the ranks (``comm.mean``), printed by rank 0."""
    with torch.no_grad():
        loss = comm.mean(F.cross_entropy(run.model(run.x), run.y).reshape(1, 1)).item()
    if run.rank == 0:
        print(f"{what}: average training loss {loss:.4f}", flush=True)
    return float(loss)
