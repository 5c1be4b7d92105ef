"""Mixing matrices that scale: CSR storage above :data:`DENSE_MAX_N` nodes, and helpers that accept both forms.

A topology of n ≤ :data:`DENSE_MAX_N` nodes keeps the dense ``numpy`` W it always had (so every existing run
sees bit-identical weights, kernels and ρ). Above it, builders produce a ``scipy.sparse.csr_array``: memory
is linear in n plus edges, and validation (:mod:`~tailtamer.topology.checks`), ρ (:mod:`.spectral`) and the simulator's
kernels (:mod:`tailtamer.comm.kernels`) work on it without ever forming the n × n array.
"""

from __future__ import annotations

from typing import TypeAlias, TypeGuard

import numpy as np
import scipy.sparse as sp

#: Largest n built as a dense array (128 MiB of float64 at 4096); larger graphs are CSR.
DENSE_MAX_N = 4096

Matrix: TypeAlias = np.ndarray | sp.csr_array


def issparse(W: object) -> TypeGuard[sp.csr_array]:
    """Whether ``W`` is a scipy sparse matrix or array (for the type checker: narrows ``W``)."""
    return sp.issparse(W)


def as_csr(W: Matrix) -> sp.csr_array:
    """``W`` as a canonical float64 CSR array (sorted indices, no explicit zeros)."""
    A = sp.csr_array(W, dtype=np.float64, copy=True)
    A.eliminate_zeros()
    A.sum_duplicates()
    A.sort_indices()
    return A


def dense(W: Matrix) -> np.ndarray:
    """``W`` as a dense float64 array."""
    return W.toarray().astype(np.float64, copy=False) if issparse(W) else np.asarray(W, dtype=np.float64)


def pattern(n: int, rows: np.ndarray, cols: np.ndarray) -> sp.csr_array:
    """Symmetric boolean adjacency with the links ``rows[k] — cols[k]`` and no self-loops (duplicates collapse)."""
    keep = rows != cols
    r = np.concatenate([rows[keep], cols[keep]])
    c = np.concatenate([cols[keep], rows[keep]])
    A = sp.csr_array((np.ones(len(r), dtype=bool), (r, c)), shape=(n, n))
    A.sum_duplicates()
    A.data[:] = True
    A.sort_indices()
    return A


def offdiag_links(W: Matrix) -> sp.csr_array:
    """Boolean CSR of ``W[i, j] > 0`` for ``i ≠ j`` (the links of W's graph)."""
    C = sp.coo_array(W)
    keep = (C.row != C.col) & (np.asarray(C.data) > 0)
    A = sp.csr_array((np.ones(int(keep.sum()), dtype=bool), (C.row[keep], C.col[keep])), shape=C.shape)
    A.sum_duplicates()
    A.sort_indices()
    return A


def degrees_of(A: Matrix) -> np.ndarray:
    """Off-diagonal non-zeros of each row of a symmetric adjacency."""
    return np.asarray(offdiag_links(A).sum(axis=1)).ravel().astype(np.int64)


def metropolis_sparse(A: sp.csr_array) -> sp.csr_array:
    """Metropolis–Hastings weights (see :func:`.weights.metropolis_weights`) on a CSR adjacency."""
    L = sp.coo_array(offdiag_links(A))
    deg = np.asarray(L.sum(axis=1)).ravel()
    w = 1.0 / (1.0 + np.maximum(deg[L.row], deg[L.col]))
    off = sp.csr_array((w, (L.row, L.col)), shape=A.shape)
    diag = 1.0 - np.asarray(off.sum(axis=1)).ravel()
    return as_csr(off + sp.diags_array(diag, format="csr"))


def uniform_sparse(A: sp.csr_array) -> sp.csr_array:
    """Equal-neighbour weights (see :func:`.weights.uniform_weights`) on a CSR adjacency."""
    L = offdiag_links(A) + sp.eye_array(A.shape[0], dtype=bool, format="csr")
    L = sp.coo_array(L)
    deg = np.asarray(L.sum(axis=1)).ravel().astype(np.float64)
    return as_csr(sp.csr_array((1.0 / deg[L.row], (L.row, L.col)), shape=A.shape))


def wrapped_diagonals(W: Matrix) -> list[tuple[int, np.ndarray]]:
    """``[(o, w_o)]`` with ``w_o[i] = W[i, (i+o) mod n]`` for every offset o holding a non-zero (dense or CSR
    W; the same floats either way)."""
    n = W.shape[0]
    if not sp.issparse(W):
        rows, cols = np.nonzero(W)
        offsets = np.unique((cols - rows) % n)
        idx = np.arange(n)
        return [(int(o), W[idx, (idx + o) % n]) for o in offsets]
    C = sp.coo_array(as_csr(W))
    off = (C.col.astype(np.int64) - C.row) % n
    out = []
    for o in np.unique(off):
        sel = off == o
        w = np.zeros(n)
        w[C.row[sel]] = C.data[sel]
        out.append((int(o), w))
    return out


def circulant_row(W: Matrix, max_offsets: int = 64) -> np.ndarray | None:
    """``c`` with ``W[i, j] = c[(j − i) mod n]`` when W is circulant (each wrapped diagonal constant) and has
    at most ``max_offsets`` of them; else None."""
    n = W.shape[0]
    C = sp.coo_array(as_csr(W)) if sp.issparse(W) else None
    offsets = np.unique((C.col.astype(np.int64) - C.row) % n) if C is not None else None
    if offsets is not None and len(offsets) > max_offsets:
        return None
    diags = wrapped_diagonals(W)
    if len(diags) > max_offsets:
        return None
    c = np.zeros(n)
    for o, w in diags:
        if not np.all(w == w[0]):
            return None
        c[o] = w[0]
    return c
