"""How a training set is split over n nodes: iid shards, contiguous shards, Dirichlet label skew.

Each function returns one index array per node (a pure function of its arguments and the generator).
"""

from __future__ import annotations

import numpy as np

from ...errors import ValidationError

PARTITIONS = ("iid", "contiguous", "dirichlet")


def contiguous_shards(samples: int, n: int) -> list[np.ndarray]:
    """Node i holds the i-th of n about-equal contiguous blocks (sizes differ by at most one)."""
    return [a.copy() for a in np.array_split(np.arange(samples), n)]


def iid_shards(samples: int, n: int, gen: np.random.Generator) -> list[np.ndarray]:
    """About-equal shards of a seeded permutation."""
    return [np.sort(a) for a in np.array_split(gen.permutation(samples), n)]


def dirichlet_shards(
    labels: np.ndarray, n: int, alpha: float, gen: np.random.Generator, min_size: int = 1, tries: int = 100
) -> list[np.ndarray]:
    """Label skew (Hsu, Qi, Brown 2019): the samples of each class go to the nodes in proportions
    ``p ~ Dirichlet(alpha·1_n)``; small ``alpha`` → each node sees few classes. Redrawn until every node
    holds at least ``min_size`` samples (raises after ``tries`` draws)."""
    labels = np.asarray(labels)
    if alpha <= 0:
        raise ValidationError(f"dirichlet_alpha must be > 0, got {alpha}")
    for _ in range(tries):
        parts: list[list[np.ndarray]] = [[] for _ in range(n)]
        for c in np.unique(labels):
            ids = gen.permutation(np.flatnonzero(labels == c))
            cuts = (np.cumsum(gen.dirichlet(np.full(n, alpha))) * len(ids)).astype(int)[:-1]
            for i, chunk in enumerate(np.split(ids, cuts)):
                parts[i].append(chunk)
        shards = [np.sort(np.concatenate(p)) for p in parts]
        if min(len(s) for s in shards) >= min_size:
            return shards
    raise ValidationError(
        f"dirichlet partition: some node got fewer than {min_size} samples in {tries} "
        f"draws; raise dirichlet_alpha ({alpha}) or use fewer nodes"
    )


def partition(
    kind: str,
    samples: int,
    n: int,
    gen: np.random.Generator,
    labels: np.ndarray | None = None,
    alpha: float = 0.5,
    min_size: int = 1,
) -> list[np.ndarray]:
    """Dispatch on ``kind`` (one of :data:`PARTITIONS`)."""
    if samples < n:
        raise ValidationError(f"cannot split {samples} training samples over {n} nodes")
    if kind == "contiguous":
        return contiguous_shards(samples, n)
    if kind == "iid":
        return iid_shards(samples, n, gen)
    if labels is None:
        raise ValidationError("partition 'dirichlet' needs class labels (classification problems only)")
    return dirichlet_shards(labels, n, alpha, gen, min_size)
