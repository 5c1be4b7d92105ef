"""Per-rank data for the torchrun examples: scikit-learn's digits split into one shard per rank."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from ...data import load_digits_arrays


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
