"""The memory a topology's mixing matrix occupies, known before it is built.

A run's memory check (:mod:`tailtamer.rundir.footprint`) asks this module, not a formula for a dense W: a ring
of 10⁶ nodes is stored as CSR (about 56 MB), not as a dense ``[n, n]`` array (7,450 GiB). Up to
:data:`~.sparse.DENSE_MAX_N` nodes every builder stores W dense; above it the sparse builders store CSR
(float64 values, int64 column indices and row pointers), whose size follows from the number of non-zeros
each builder places (:data:`NONZEROS`). :meth:`tailtamer.topology.base.Topology.stored_bytes` reads the size
of a built W; the test suite checks the two agree for every builder.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .sparse import DENSE_MAX_N

#: Non-zeros of W (self weights included) for n nodes and the builder's parameters, per sparse builder. A
#: builder missing here (``complete``, ``matrix``, a plugin's) is counted as dense, its largest form.
NONZEROS: dict[str, Callable[[int, dict[str, Any]], int]] = {
    "ring": lambda n, p: n * (2 * int(p.get("k", 1)) + 1),
    "torus": lambda n, p: 5 * n,
    "star": lambda n, p: 3 * n - 2,
    "hypercube": lambda n, p: n * (int(math.log2(n)) + 1),
    "exponential": lambda n, p: n * (max(1, math.ceil(math.log2(n))) + 1),
    "erdos-renyi": lambda n, p: n + round(float(p.get("p", 0.3)) * n * (n - 1)),
}

#: Topologies that store no matrix at all (the parameter server of federated and asynchronous methods).
NO_MATRIX = frozenset({"server"})

DENSE_ITEM = 8  # float64
CSR_ITEM = 8 + 8  # a float64 value and an int64 column index per non-zero
CSR_ROW = 8  # an int64 row pointer per row (and one more)


def dense_bytes(n: int) -> int:
    """Bytes of a dense ``[n, n]`` float64 W."""
    return DENSE_ITEM * n * n


def csr_bytes(n: int, nonzeros: int) -> int:
    """Bytes of an ``[n, n]`` float64 CSR W with ``nonzeros`` stored entries."""
    return CSR_ITEM * nonzeros + CSR_ROW * (n + 1)


def stored_bytes(name: str, n: int, params: dict[str, Any] | None = None) -> int:
    """Bytes the W of topology ``name`` for ``n`` nodes will occupy once built (0 for a graph-free run)."""
    if name in NO_MATRIX or n <= 0:
        return 0
    count = NONZEROS.get(name)
    if n <= DENSE_MAX_N or count is None:
        return dense_bytes(n)
    return csr_bytes(n, count(n, params or {}))
