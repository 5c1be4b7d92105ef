"""The directed (static) exponential graph.

Node i sends to ``i + 2^j (mod n)`` for ``j = 0, …, ⌊log2(n − 1)⌋``, so it receives from
``i − 2^j (mod n)``: ``m = ⌊log2(n − 1)⌋ + 1`` in-neighbours and as many out-neighbours, i.e.
O(log n) messages per node per round (Assran et al., *Stochastic Gradient Push*, ICML 2019;
Ying et al., *Exponential Graph is Provably Efficient for Decentralized Deep Training*, NeurIPS 2021).
Every row of W has the same pattern shifted, so W is circulant and therefore doubly stochastic.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..validation import check_range
from .base import TOPOLOGIES, Topology
from .graphs import check_nodes
from .sparse import DENSE_MAX_N


def exponential_offsets(n: int) -> list[int]:
    """Hop distances ``2^j`` for ``j = 0, …, ⌊log2(n − 1)⌋`` (empty for n = 1)."""
    if n <= 1:
        return []
    return [1 << j for j in range((n - 1).bit_length())]


@TOPOLOGIES.register("exponential")
def exponential(n: int, self_weight: float | None = None) -> Topology:
    """Directed exponential graph: ``W[i, (i − 2^j) mod n] = (1 − s)/m``, ``W[i, i] = s``.

    ``self_weight = None`` weighs self and the m in-neighbours equally (``s = 1/(m + 1)``); a value s in
    (0, 1) gives the diagonal s and ``(1 − s)/m`` to each in-neighbour. For n = 8 (distances 1, 2, 4)
    and s = 0.4 every off-diagonal weight is 0.2 and ρ = 0.6. ``n = 1`` gives ``[[1.0]]``.
    ``directed`` is always True (the send pattern is one-way); for n ≤ 3 W happens to be symmetric.
    """
    owner = "topology 'exponential'"
    n = check_nodes(n, owner)
    if self_weight is not None:
        check_range("self_weight", self_weight, 0.0, 1.0, lo_open=True, hi_open=True, owner=owner)
    offsets = exponential_offsets(n)
    m = len(offsets)
    s = 1.0 / (m + 1) if self_weight is None else float(self_weight)
    i = np.arange(n)
    if n > DENSE_MAX_N:  # the same entries, stored sparse (offsets 2^j < n are distinct and non-zero)
        rows = np.concatenate([i] * (m + 1))
        cols = np.concatenate([(i - d) % n for d in offsets] + [i])
        vals = np.concatenate([np.full(n, (1.0 - s) / m)] * m + [np.full(n, s)])
        W = sp.csr_array((vals, (rows, cols)), shape=(n, n))
        W.sort_indices()
        return Topology("exponential", W, directed=True, params={"self_weight": self_weight})
    W = np.zeros((n, n))
    for d in offsets:
        W[i, (i - d) % n] = (1.0 - s) / m
    W[i, i] = s if m else 1.0
    return Topology("exponential", W, directed=True, params={"self_weight": self_weight})
