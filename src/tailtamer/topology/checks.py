"""Validation of mixing matrices: shape, sign, stochasticity and primitivity.

Gossip ``x ← W x`` converges to a consensus for every start iff W is row-stochastic and *primitive*
(some power of W is entrywise positive). For a non-negative matrix, primitive ⇔ its graph is strongly
connected (irreducible) and aperiodic (Seneta, *Non-negative Matrices and Markov Chains*, Thm 1.4;
Horn & Johnson, *Matrix Analysis*, §8.5). The consensus value is the plain average iff W is also
column-stochastic, i.e. doubly stochastic.

The graph of W has an edge ``j → i`` whenever ``W[i, j] > 0``: node i receives (mixes in) what node j
holds, so information flows from j to i.

Every check takes a dense array or a sparse one (large topologies, see :mod:`~tailtamer.topology.sparse`) and never
forms an n × n array from a sparse W: sums, signs and graph searches run on the non-zeros.
"""

from __future__ import annotations

from math import gcd

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from ..errors import ValidationError
from ..validation import check_choice

#: Accepted values of ``requires`` in :func:`validate_mixing`.
REQUIREMENTS: tuple[str, ...] = ("none", "row_stochastic", "column_stochastic", "doubly_stochastic")


def _sums(W: np.ndarray, axis: int) -> np.ndarray:
    if sp.issparse(W):
        return np.asarray(W.sum(axis=axis), dtype=np.float64).ravel()
    return np.asarray(W, dtype=np.float64).sum(axis=axis)


def _values(W: np.ndarray) -> np.ndarray:
    """The entries that can be non-zero (a sparse W's stored values; all of a dense one)."""
    return np.asarray(W.data if sp.issparse(W) else W, dtype=np.float64)


def is_row_stochastic(W: np.ndarray, tol: float = 1e-10) -> bool:
    """Every row sums to 1 within ``tol`` (entries are not checked for sign)."""
    return bool(np.all(np.abs(_sums(W, 1) - 1.0) <= tol))


def is_column_stochastic(W: np.ndarray, tol: float = 1e-10) -> bool:
    """Every column sums to 1 within ``tol``."""
    return bool(np.all(np.abs(_sums(W, 0) - 1.0) <= tol))


def is_doubly_stochastic(W: np.ndarray, tol: float = 1e-10) -> bool:
    """Non-negative (down to ``-tol``), every row and every column sums to 1 within ``tol``."""
    if not sp.issparse(W):
        W = np.asarray(W, dtype=np.float64)
    return bool(
        len(W.shape) == 2
        and W.shape[0] == W.shape[1]
        and np.all(_values(W) >= -tol)
        and is_row_stochastic(W, tol)
        and is_column_stochastic(W, tol)
    )


def flow_graph(W: np.ndarray) -> csr_matrix:
    """Sparse adjacency of information flow: entry ``[j, i]`` is 1 iff ``W[i, j] > 0`` (``j → i``)."""
    if sp.issparse(W):
        P = sp.csr_array(W, dtype=np.float64).T.tocsr()
        P.data = (P.data > 0).astype(np.int8)
        P.eliminate_zeros()
        return csr_matrix(P)
    return csr_matrix((np.asarray(W) > 0).T.astype(np.int8))


def check_square(W: np.ndarray, what: str = "mixing matrix") -> np.ndarray:
    """Return ``W`` as a float64 array after checking it is square, 2-D, non-empty and finite (a sparse W
    stays sparse, as a float64 CSR array)."""
    if sp.issparse(W):
        return _check_square_sparse(W, what)
    try:
        A = np.asarray(W, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"{what} must be a numeric 2-D array: {err}") from None
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValidationError(f"{what} must be square (n × n), got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValidationError(f"{what} is empty (0 × 0)")
    bad = np.argwhere(~np.isfinite(A))
    if len(bad):
        i, j = map(int, bad[0])
        raise ValidationError(
            f"{what} has a non-finite entry W[{i}, {j}] = {A[i, j]} ({len(bad)} non-finite entries in all)"
        )
    return A


def _check_square_sparse(W: sp.sparray, what: str) -> sp.csr_array:
    A = sp.csr_array(W, dtype=np.float64)
    if A.shape[0] != A.shape[1]:
        raise ValidationError(f"{what} must be square (n × n), got shape {A.shape}")
    if A.shape[0] == 0:
        raise ValidationError(f"{what} is empty (0 × 0)")
    C = sp.coo_array(A)
    bad = np.flatnonzero(~np.isfinite(C.data))
    if len(bad):
        i, j = int(C.row[bad[0]]), int(C.col[bad[0]])
        raise ValidationError(
            f"{what} has a non-finite entry W[{i}, {j}] = {C.data[bad[0]]} ({len(bad)} non-finite entries in all)"
        )
    return A


def _negatives(A: np.ndarray, tol: float) -> tuple[int, int, float, int] | None:
    """``(i, j, W[i, j], count)`` of the first entry below ``-tol``, or None."""
    if sp.issparse(A):
        C = sp.coo_array(A)
        order = np.lexsort((C.col, C.row))
        neg = order[C.data[order] < -tol]
        return None if not len(neg) else (int(C.row[neg[0]]), int(C.col[neg[0]]), float(C.data[neg[0]]), len(neg))
    neg = np.argwhere(-tol > A)
    if not len(neg):
        return None
    i, j = map(int, neg[0])
    return i, j, float(A[i, j]), len(neg)


def _check_sums(A: np.ndarray, axis: int, tol: float, requires: str) -> None:
    kind, label = ("row", "rows") if axis == 1 else ("column", "columns")
    needed = requires.replace("_", " ") if requires == "doubly_stochastic" else f"{kind}-stochastic"
    sums = _sums(A, axis)
    bad = np.flatnonzero(np.abs(sums - 1.0) > tol)
    if len(bad):
        k = int(bad[0])
        more = f" ({len(bad)} {label} in all)" if len(bad) > 1 else ""
        raise ValidationError(
            f"mixing matrix is not {needed}: {kind} {k} sums to {sums[k]:.12g}, not 1 (tolerance {tol:g}){more}"
        )


def check_strongly_connected(W: np.ndarray) -> None:
    """Raise unless every node's information reaches every other node along the edges of W."""
    n = W.shape[0]
    if n == 1:
        return
    G = flow_graph(W)
    count, labels = connected_components(G, directed=True, connection="strong")
    if count == 1:
        return
    reach = np.zeros(n, dtype=bool)
    reach[breadth_first_order(G, 0, directed=True, return_predecessors=False)] = True
    if not reach.all():
        src, dst = 0, int(np.flatnonzero(~reach)[0])
    else:  # 0 reaches everyone, so someone cannot reach 0
        back = np.zeros(n, dtype=bool)
        back[breadth_first_order(G.T.tocsr(), 0, directed=True, return_predecessors=False)] = True
        src, dst = int(np.flatnonzero(~back)[0]), 0
    groups = [np.flatnonzero(labels == c).tolist() for c in range(count)]
    groups.sort(key=lambda g: g[0])
    shown = "; ".join(_short(g) for g in groups[:5]) + ("; ..." if count > 5 else "")
    raise ValidationError(
        f"graph is disconnected: node {src} cannot reach node {dst} ({count} strongly connected components: {shown})"
    )


def _short(nodes: list[int], limit: int = 8) -> str:
    body = ", ".join(map(str, nodes[:limit]))
    return "{" + body + (", ..." if len(nodes) > limit else "") + "}"


def period(W: np.ndarray) -> int:
    """Period of the (assumed strongly connected) graph of W: gcd of the lengths of all its cycles.

    1 if any diagonal entry is positive (a self-loop is a cycle of length 1). Otherwise, with BFS levels
    ``ℓ`` from node 0, the period is ``gcd(ℓ(u) + 1 − ℓ(v))`` over all edges ``u → v`` (Jarvis & Shier,
    *Graph-theoretic analysis of finite Markov chains*, 1999).
    """
    W = W if sp.issparse(W) else np.asarray(W)
    n = W.shape[0]
    if n == 1 or np.any(np.asarray(W.diagonal()) > 0):
        return 1
    G = flow_graph(W)
    order, pred = breadth_first_order(G, 0, directed=True, return_predecessors=True)
    level = np.full(n, -1, dtype=np.int64)
    level[0] = 0
    for v in order[1:]:
        level[v] = level[pred[v]] + 1
    src, dst = G.nonzero()
    keep = (level[src] >= 0) & (level[dst] >= 0)
    d = 0
    for diff in np.unique(np.abs(level[src[keep]] + 1 - level[dst[keep]])):
        d = gcd(d, int(diff))
    return d if d > 0 else 1


def check_aperiodic(W: np.ndarray) -> None:
    """Raise unless the graph of W (strongly connected) has period 1."""
    p = period(W)
    if p > 1:
        raise ValidationError(
            f"mixing matrix is periodic with period {p} (every cycle length is a "
            f"multiple of {p}), so gossip oscillates instead of converging; give some "
            f"node a positive self-weight, e.g. use the lazy matrix (I + W) / 2"
        )


def validate_mixing(
    W: np.ndarray, requires: str = "row_stochastic", tol: float = 1e-10, primitive: bool = True
) -> None:
    """Raise :class:`ValidationError` unless ``W`` is a usable mixing matrix.

    Always checked: square 2-D, finite, non-negative (entries below ``-tol`` are rejected).
    ``requires`` adds: ``"row_stochastic"`` (each row sums to 1), ``"column_stochastic"`` (each column
    sums to 1), ``"doubly_stochastic"`` (both), or ``"none"``. With ``primitive`` (default), also the
    graph of nonzeros must be strongly connected and aperiodic, so that ``W^t`` converges.
    Messages name the offending entry, row, column or pair of nodes.
    """
    check_choice("requires", requires, REQUIREMENTS, owner="validate_mixing")
    A = check_square(W)
    neg = _negatives(A, tol)
    if neg is not None:
        i, j, value, count = neg
        raise ValidationError(
            f"mixing matrix has a negative entry W[{i}, {j}] = {value:.6g} "
            f"({count} negative entries in all); weights must be ≥ 0"
        )
    if requires in ("row_stochastic", "doubly_stochastic"):
        _check_sums(A, axis=1, tol=tol, requires=requires)
    if requires in ("column_stochastic", "doubly_stochastic"):
        _check_sums(A, axis=0, tol=tol, requires=requires)
    if primitive:
        check_strongly_connected(A)
        check_aperiodic(A)
