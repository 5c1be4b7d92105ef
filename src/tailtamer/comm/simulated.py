"""All n nodes in one process: ``mix`` is a matrix product (dense, sparse or by wrapped diagonals, see
:mod:`.kernels`), ``mean`` a row average."""
from __future__ import annotations

import numpy as np
import torch

from . import kernels
from .base import CommStats

class SimulatedComm:
    """Simulated communication over a mixing matrix ``W`` (``numpy`` array, ``[n, n]``).

    Args:
        W: the mixing matrix; ``mix(Z) = W @ Z``.
        kernel: ``"dense"``, ``"sparse"`` (CSR), ``"diagonals"`` (wrapped diagonals) or ``"auto"``: dense below
            64 nodes or above 10% density, else diagonals when W has at most 32 wrapped diagonals (ring, torus,
            exponential, ...), else sparse.

    Example:
        >>> import numpy as np, torch
        >>> c = SimulatedComm(np.full((2, 2), 0.5))
        >>> c.mix(torch.tensor([[0.0], [2.0]])).tolist()
        [[1.0], [1.0]]
    """

    def __init__(self, W: np.ndarray, kernel: str = "auto"):
        W = np.asarray(W, dtype=np.float64)
        self.n = W.shape[0]
        self.nodes = torch.arange(self.n)
        self.stats = CommStats()
        self._W = W
        nnz = int(np.count_nonzero(W))
        self.edges = nnz - int(np.count_nonzero(np.diag(W)))
        if kernel not in ("auto", *kernels.KINDS):
            raise ValueError(f"unknown mixing kernel {kernel!r}; choose auto, {', '.join(kernels.KINDS)}")
        self.kernel = kernels.choose(W) if kernel == "auto" else kernel
        self._cache: dict[tuple[torch.dtype, torch.device], kernels.Kernel] = {}

    @property
    def n_local(self) -> int:
        return self.n

    def _kernel(self, dtype: torch.dtype, device: torch.device) -> kernels.Kernel:
        key = (dtype, device)
        if key not in self._cache:
            self._cache[key] = kernels.BUILDERS[self.kernel](self._W, dtype, device)
        return self._cache[key]

    def mix(self, z: torch.Tensor) -> torch.Tensor:
        row = z[0].numel()
        self.stats.add(self.edges, self.edges * row * z.element_size(), "mix")
        return self._kernel(z.dtype, z.device)(z.reshape(self.n, row)).reshape(z.shape)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        self.stats.add(self.n, self.n * z[0].numel() * z.element_size(), "mean")
        return z.mean(0, keepdim=True)

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        return z
