"""All n nodes in one process: ``mix`` is a (dense or sparse) matrix product, ``mean`` a row average."""
from __future__ import annotations

import warnings

import numpy as np
import torch

from .base import CommStats

#: Sparse multiplication is used when W has at least this many rows and at most this density.
SPARSE_MIN_N = 64
SPARSE_MAX_DENSITY = 0.1


class SimulatedComm:
    """Simulated communication over a mixing matrix ``W`` (``numpy`` array, ``[n, n]``).

    Args:
        W: the mixing matrix; ``mix(Z) = W @ Z``.
        sparse: force sparse (True) or dense (False) multiplication; ``None`` picks by size and density
            (sparse when ``n ≥ 64`` and at most 10% of the entries are non-zero).

    Example:
        >>> import numpy as np, torch
        >>> c = SimulatedComm(np.full((2, 2), 0.5))
        >>> c.mix(torch.tensor([[0.0], [2.0]])).tolist()
        [[1.0], [1.0]]
    """

    def __init__(self, W: np.ndarray, sparse: bool | None = None):
        W = np.asarray(W, dtype=np.float64)
        self.n = W.shape[0]
        self.nodes = torch.arange(self.n)
        self.stats = CommStats()
        self._W = W
        nnz = int(np.count_nonzero(W))
        self.edges = nnz - int(np.count_nonzero(np.diag(W)))
        if sparse is None:
            sparse = self.n >= SPARSE_MIN_N and nnz <= SPARSE_MAX_DENSITY * self.n * self.n
        self.sparse = sparse
        self._cache: dict[tuple[torch.dtype, torch.device], torch.Tensor] = {}

    @property
    def n_local(self) -> int:
        return self.n

    def matrix(self, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
        """W as a torch tensor (CSR when sparse), cached per dtype and device."""
        key = (dtype, device)
        if key not in self._cache:
            w = torch.as_tensor(self._W, dtype=dtype, device=device)
            if self.sparse:
                with warnings.catch_warnings():   # "sparse CSR support is in beta": we use only mm
                    warnings.simplefilter("ignore", UserWarning)
                    w = w.to_sparse_csr()
            self._cache[key] = w
        return self._cache[key]

    def mix(self, z: torch.Tensor) -> torch.Tensor:
        w = self.matrix(z.dtype, z.device)
        row = z[0].numel()
        self.stats.add(self.edges, self.edges * row * z.element_size(), "mix")
        flat = z.reshape(self.n, row)
        out = torch.sparse.mm(w, flat) if self.sparse else w @ flat
        return out.reshape(z.shape)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        self.stats.add(self.n, self.n * z[0].numel() * z.element_size(), "mean")
        return z.mean(0, keepdim=True)

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        return z
