"""Adjacency matrices of the standard undirected communication graphs.

Each function returns a symmetric ``[n, n]`` boolean matrix with a ``False`` diagonal (no self-loops;
the weightings of :mod:`.weights` add the self-weights): a ``scipy.sparse.csr_array`` (memory linear in the
edges) except for the complete graph, which is dense by nature. Duplicate links that small sizes produce
(e.g. a torus side of 2, where "left" and "right" are the same node) collapse to one edge.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..errors import ValidationError
from ..validation import check_range
from .sparse import DENSE_MAX_N, pattern

#: Resampling attempts of :func:`erdos_renyi_adjacency` before giving up.
MAX_ER_TRIES = 1000


def check_nodes(n: int, owner: str) -> int:
    """Return ``n`` after checking it is an integer ≥ 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValidationError(f"{owner}: the number of nodes n must be an integer ≥ 1, got {n!r}")
    return int(n)


def _from_offsets(n: int, rows: np.ndarray, cols: np.ndarray) -> sp.csr_array:
    return pattern(n, rows, cols)


def complete_adjacency(n: int) -> np.ndarray:
    """Every pair of distinct nodes linked (``n(n−1)/2`` edges)."""
    A = np.ones((n, n), dtype=bool)
    np.fill_diagonal(A, False)
    return A


def ring_adjacency(n: int, k: int = 1) -> sp.csr_array:
    """Cycle with each node linked to its ``k`` nearest nodes on each side (``i ± 1, …, i ± k mod n``)."""
    i = np.arange(n)
    rows = np.concatenate([i for _ in range(k)])
    cols = np.concatenate([(i + s) % n for s in range(1, k + 1)])
    return _from_offsets(n, rows, cols)


def most_square_rows(n: int) -> int:
    """Largest divisor of ``n`` that is ≤ √n (so ``rows × cols = n`` with ``cols/rows`` smallest)."""
    r = math.isqrt(n)
    while n % r:
        r -= 1
    return r


def torus_adjacency(rows: int, cols: int) -> sp.csr_array:
    """2-D torus (grid with wraparound): node ``(r, c) = r·cols + c`` linked to its 4 grid neighbours.

    A side of 2 links each node to the other one once (not twice); a side of 1 adds no links along
    that axis, so a ``1 × n`` torus is the ring.
    """
    n = rows * cols
    r, c = np.divmod(np.arange(n), cols)
    down = ((r + 1) % rows) * cols + c
    right = r * cols + (c + 1) % cols
    src = np.concatenate([np.arange(n), np.arange(n)])
    return _from_offsets(n, src, np.concatenate([down, right]))


def star_adjacency(n: int) -> sp.csr_array:
    """Hub node 0 linked to every other node; no other links."""
    return pattern(n, np.zeros(n - 1, dtype=np.int64), np.arange(1, n))


def is_power_of_two(n: int) -> bool:
    """``n = 2^d`` for some integer d ≥ 0."""
    return n >= 1 and (n & (n - 1)) == 0


def hypercube_adjacency(n: int) -> sp.csr_array:
    """``log2 n``-dimensional hypercube: i and j linked iff their binary labels differ in one bit.

    Raises:
        ValidationError: ``n`` is not a power of 2 (the nearest valid sizes are named).
    """
    if not is_power_of_two(n):
        lo = 1 << (n.bit_length() - 1)
        raise ValidationError(f"topology 'hypercube': n must be a power of 2, got n={n} (nearest: {lo} or {2 * lo})")
    i = np.arange(n)
    dims = n.bit_length() - 1
    if dims == 0:
        return pattern(1, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    rows = np.concatenate([i for _ in range(dims)])
    cols = np.concatenate([i ^ (1 << b) for b in range(dims)])
    return _from_offsets(n, rows, cols)


def is_connected(adjacency: np.ndarray | sp.csr_array) -> bool:
    """Undirected connectivity of a symmetric adjacency matrix (dense or sparse)."""
    A = adjacency if sp.issparse(adjacency) else np.asarray(adjacency, dtype=np.int8)
    count, _ = connected_components(A, directed=False)
    return count == 1


def erdos_renyi_adjacency(n: int, p: float, seed: int) -> tuple[np.ndarray | sp.csr_array, int]:
    """Connected G(n, p) graph: each of the ``n(n−1)/2`` links present independently with prob. ``p``.

    Draws with ``numpy.random.default_rng(seed)``; while the graph is disconnected, redraws with
    ``seed + 1, seed + 2, …`` (so the result is a deterministic function of ``(n, p, seed)``). Returns
    the adjacency and the seed that produced it. Up to :data:`~.sparse.DENSE_MAX_N` nodes one uniform is
    drawn per ordered pair (the draw every existing run used); above, :func:`sparse_gnp` draws the same
    law G(n, p) in memory linear in the edges (a different graph for the same seed).

    Raises:
        ValidationError: ``p`` outside (0, 1], or no connected graph after :data:`MAX_ER_TRIES` draws.
    """
    owner = "topology 'erdos-renyi'"
    check_range("p", p, 0.0, 1.0, lo_open=True, owner=owner)
    check_range("seed", seed, 0, None, owner=owner)
    if n > DENSE_MAX_N:
        for s in range(seed, seed + MAX_ER_TRIES):
            A = sparse_gnp(n, p, s)
            if is_connected(A):
                return A, s
        _no_connected(owner, n, p, seed)
    upper = np.triu(np.ones((n, n), dtype=bool), k=1)
    for s in range(seed, seed + MAX_ER_TRIES):
        draw = np.random.default_rng(s).random((n, n)) < p
        A = draw & upper
        A |= A.T
        if is_connected(A):
            return A, s
    _no_connected(owner, n, p, seed)
    raise AssertionError  # pragma: no cover


def sparse_gnp(n: int, p: float, seed: int) -> sp.csr_array:
    """G(n, p) without the n × n draw: the number of links m ~ Binomial(n(n−1)/2, p), then m distinct pairs
    i < j uniformly (``numpy.random.default_rng(seed)``); given m, G(n, p) is uniform over such sets, so
    this is the same law (Batagelj & Brandes 2005 discuss such samplers)."""
    g = np.random.default_rng(seed)
    pairs = n * (n - 1) // 2
    m = int(g.binomial(pairs, p))
    k = np.sort(g.choice(pairs, size=m, replace=False)).astype(np.int64)
    # the k-th pair of the row-major upper triangle: row i holds n − 1 − i pairs
    starts = np.arange(n, dtype=np.int64) * (2 * n - np.arange(n, dtype=np.int64) - 1) // 2
    i = np.searchsorted(starts, k, side="right") - 1
    j = k - starts[i] + i + 1
    return pattern(n, i, j)


def _no_connected(owner: str, n: int, p: float, seed: int) -> None:
    raise ValidationError(
        f"{owner}: no connected graph with n={n}, p={p:g} in {MAX_ER_TRIES} draws "
        f"(seeds {seed}..{seed + MAX_ER_TRIES - 1}); raise p above about "
        f"log(n)/n = {np.log(max(n, 2)) / n:.3g}"
    )
