"""Weightings: turn a symmetric 0/1 adjacency matrix of an undirected graph into a mixing matrix W.

Two classic choices are offered (``weights = "..."`` on every undirected builder):

- ``"metropolis"`` — Metropolis–Hastings weights (Xiao & Boyd, *Fast linear iterations for distributed
  averaging*, Systems & Control Letters 2004; Xiao, Boyd & Lall, IPSN 2005):
  ``w_ij = 1 / (1 + max(deg_i, deg_j))`` for every edge ``{i, j}``, ``w_ii = 1 − Σ_{j≠i} w_ij``.
  W is symmetric, hence doubly stochastic, with a positive diagonal, for *any* graph.
- ``"uniform"`` — equal-neighbour (Laplacian-free "average with your neighbours") weights:
  ``w_ij = 1 / (1 + deg_i)`` for ``j ∈ N(i) ∪ {i}``. Row-stochastic always; doubly stochastic only when
  the graph is regular (all degrees equal).
"""

from __future__ import annotations

import numpy as np

from ..validation import check_choice
from .sparse import DENSE_MAX_N, Matrix, issparse, metropolis_sparse, uniform_sparse

#: Names accepted by the ``weights`` parameter of undirected builders.
WEIGHTINGS: tuple[str, ...] = ("metropolis", "uniform")


def _degrees(adjacency: np.ndarray) -> np.ndarray:
    """Number of neighbours of each node (off-diagonal nonzeros of each row)."""
    A = np.asarray(adjacency) != 0
    np.fill_diagonal(A, False)
    return A.sum(axis=1).astype(np.int64)


def metropolis_weights(adjacency: np.ndarray) -> np.ndarray:
    """Metropolis–Hastings mixing matrix of an undirected graph (Xiao & Boyd 2004).

    ``w_ij = 1/(1 + max(deg_i, deg_j))`` on edges, 0 off the graph, ``w_ii = 1 − Σ_{j≠i} w_ij``.
    The result is symmetric and doubly stochastic; every diagonal entry is ≥ 1/(1 + max degree) > 0.
    """
    A = np.asarray(adjacency) != 0
    np.fill_diagonal(A, False)
    deg = A.sum(axis=1)
    W = np.where(A, 1.0 / (1.0 + np.maximum.outer(deg, deg)), 0.0)
    np.fill_diagonal(W, 1.0 - W.sum(axis=1))
    return W


def uniform_weights(adjacency: np.ndarray) -> np.ndarray:
    """Equal-neighbour mixing matrix: ``w_ij = 1/(1 + deg_i)`` for ``j ∈ N(i) ∪ {i}``.

    Row-stochastic; symmetric (and hence doubly stochastic) only if the graph is regular.
    """
    A = np.asarray(adjacency) != 0
    np.fill_diagonal(A, True)
    return A / A.sum(axis=1, keepdims=True, dtype=np.float64)


def apply_weighting(adjacency: Matrix, weights: str, owner: str = "") -> Matrix:
    """Mixing matrix for ``adjacency`` with the weighting named ``weights`` (see :data:`WEIGHTINGS`).

    Dense (``numpy``) up to :data:`~.sparse.DENSE_MAX_N` nodes, exactly as always; a CSR array above
    (:func:`~.sparse.metropolis_sparse`, :func:`~.sparse.uniform_sparse`: the same formulas).

    Raises:
        ValidationError: unknown weighting (the closest valid name is suggested).
    """
    check_choice("weights", weights, WEIGHTINGS, owner=owner)
    if issparse(adjacency):
        if adjacency.shape[0] > DENSE_MAX_N:
            return metropolis_sparse(adjacency) if weights == "metropolis" else uniform_sparse(adjacency)
        adjacency = adjacency.toarray()
    if weights == "metropolis":
        return metropolis_weights(adjacency)
    return uniform_weights(adjacency)
