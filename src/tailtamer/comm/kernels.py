"""Kernels computing ``W @ Z`` for the simulator: dense, sparse CSR, and wrapped diagonals.

A graph whose edges join nodes a fixed number of positions apart (ring, torus, exponential, circulant
graphs in general) has its non-zeros on a few *wrapped diagonals* ``j = (i + o) mod n``. Then
``(W Z)_i = Σ_o w_o[i] · Z_{(i+o) mod n}`` is, per offset o, one fused multiply-add over two contiguous
slices of Z — no index gathers, no copies — which is several times faster than a general sparse product
on CPU for large d. :func:`choose` picks a kernel from the size, density and number of diagonals.

W may be a dense array or a scipy sparse one (large topologies, :mod:`tailtamer.topology.sparse`): for the
same W every kernel gets the same floats either way, and a sparse W is never densified unless the dense
kernel is asked for.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from ..topology.sparse import Matrix, as_csr, issparse
from ..topology.sparse import dense as densify
from ..topology.sparse import wrapped_diagonals as _wrapped

#: Dense below this many nodes or above this density; wrapped diagonals when there are at most MAX_DIAGONALS.
SPARSE_MIN_N = 64
SPARSE_MAX_DENSITY = 0.1
MAX_DIAGONALS = 32

Kernel = Callable[[torch.Tensor], torch.Tensor]
KINDS = ("dense", "sparse", "diagonals")


def wrapped_diagonals(W: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """``[(o, w_o)]`` with ``w_o[i] = W[i, (i+o) mod n]`` for every offset o holding a non-zero."""
    return _wrapped(W)


def _offsets(W: np.ndarray) -> int:
    """How many wrapped diagonals hold a non-zero."""
    n = W.shape[0]
    if sp.issparse(W):
        C = sp.coo_array(as_csr(W))
        return len(np.unique((C.col.astype(np.int64) - C.row) % n))
    rows, cols = np.nonzero(W)
    return len(np.unique((cols - rows) % n))


def choose(W: Matrix) -> str:
    """The kernel ``auto`` picks for W."""
    n = W.shape[0]
    nnz = W.count_nonzero() if issparse(W) else np.count_nonzero(W)
    if n < SPARSE_MIN_N or nnz > SPARSE_MAX_DENSITY * n * n:
        return "dense"
    return "diagonals" if _offsets(W) <= MAX_DIAGONALS else "sparse"


def dense(W: np.ndarray, dtype: torch.dtype, device: torch.device) -> Kernel:
    w = torch.as_tensor(densify(W), dtype=dtype, device=device)
    return lambda z: w @ z


def sparse(W: np.ndarray, dtype: torch.dtype, device: torch.device) -> Kernel:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": only mm is used
        warnings.simplefilter("ignore", UserWarning)
        if sp.issparse(W):  # the CSR torch builds from the dense W: sorted columns, no zeros
            C = as_csr(W)
            w = torch.sparse_csr_tensor(
                torch.as_tensor(C.indptr, dtype=torch.int64),
                torch.as_tensor(C.indices, dtype=torch.int64),
                torch.as_tensor(C.data, dtype=dtype),
                size=C.shape,
                device=device,
            )
        else:
            w = torch.as_tensor(W, dtype=dtype, device=device).to_sparse_csr()
    return lambda z: torch.sparse.mm(w, z)


def diagonals(W: np.ndarray, dtype: torch.dtype, device: torch.device) -> Kernel:
    n = W.shape[0]
    diags = [(o, torch.as_tensor(w, dtype=dtype, device=device).reshape(n, 1)) for o, w in wrapped_diagonals(W)]

    def mix(z: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(z)
        for k, (o, w) in enumerate(diags):  # rows i < n − o read row i + o; rows i ≥ n − o wrap to i + o − n
            if k == 0:  # the first diagonal writes, the others accumulate
                torch.mul(w[: n - o], z[o:], out=out[: n - o])
                if o:
                    torch.mul(w[n - o :], z[:o], out=out[n - o :])
            else:
                out[: n - o].addcmul_(w[: n - o], z[o:])
                if o:
                    out[n - o :].addcmul_(w[n - o :], z[:o])
        return out

    return mix


BUILDERS: dict[str, Callable[[np.ndarray, torch.dtype, torch.device], Kernel]] = {
    "dense": dense,
    "sparse": sparse,
    "diagonals": diagonals,
}
