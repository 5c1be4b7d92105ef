"""All n nodes in one process: ``mix`` is a matrix product (dense, sparse or by wrapped diagonals, see
:mod:`.kernels`), ``mean`` a row average."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from ..topology.sparse import issparse
from . import kernels
from .base import CommStats
from .codec import Codec, dense_row_bytes, packet_row_bytes


class NoGraphError(RuntimeError):
    """``mix`` on a comm built without a mixing matrix (a server or federated method's comm)."""


class SimulatedComm:
    """Simulated communication over a mixing matrix ``W`` (``[n, n]``: a ``numpy`` array, or a scipy sparse
    one for large topologies, never densified unless ``kernel = "dense"``).

    Args:
        W: the mixing matrix; ``mix(Z) = W @ Z``. ``None`` for methods that talk only to a server
            (``mean``): then ``n`` gives the number of nodes and no matrix is built; ``mix`` is refused.
        n: the number of nodes when ``W`` is None.
        kernel: ``"dense"``, ``"sparse"`` (CSR), ``"diagonals"`` (wrapped diagonals) or ``"auto"``: dense below
            64 nodes or above 10% density, else diagonals when W has at most 32 wrapped diagonals (ring, torus,
            exponential, ...), else sparse.

    Example:
        >>> import numpy as np, torch
        >>> c = SimulatedComm(np.full((2, 2), 0.5))
        >>> c.mix(torch.tensor([[0.0], [2.0]])).tolist()
        [[1.0], [1.0]]
    """

    def __init__(self, W: np.ndarray | None, kernel: str = "auto", n: int | None = None):
        if kernel not in ("auto", *kernels.KINDS):
            raise ValueError(f"unknown mixing kernel {kernel!r}; choose auto, {', '.join(kernels.KINDS)}")
        self.stats = CommStats()
        self._cache: dict[tuple[torch.dtype, torch.device], kernels.Kernel] = {}
        if W is None:
            if n is None or n < 1:
                raise ValueError(f"a comm without a mixing matrix needs n ≥ 1 nodes, got {n!r}")
            self.n, self._W, self.edges, self.kernel = int(n), None, 0, "none"
        else:
            W = sp.csr_array(W, dtype=np.float64) if sp.issparse(W) else np.asarray(W, dtype=np.float64)
            self.n, self._W = W.shape[0], W
            nnz = W.count_nonzero() if issparse(W) else np.count_nonzero(W)
            self.edges = int(nnz) - int(np.count_nonzero(W.diagonal()))
            self.kernel = kernels.choose(W) if kernel == "auto" else kernel
        self.nodes = torch.arange(self.n)

    @property
    def n_local(self) -> int:
        return self.n

    def _kernel(self, dtype: torch.dtype, device: torch.device) -> kernels.Kernel:
        key = (dtype, device)
        if key not in self._cache:
            assert self._W is not None, "mix() raises NoGraphError before asking for a kernel"
            self._cache[key] = kernels.BUILDERS[self.kernel](self._W, dtype, device)
        return self._cache[key]

    def mix(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """``W @ z``; with a ``codec``, ``W @ decode(encode(z))`` and each message counts the packet's bytes."""
        if self._W is None:
            raise NoGraphError("this run has no graph (topology 'server'): its algorithm may only use comm.mean")
        row = z[0].numel()
        z, nbytes, dense = _through(z, codec)
        self.stats.add(self.edges, self.edges * nbytes, "mix", dense)
        return self._kernel(z.dtype, z.device)(z.reshape(self.n, row)).reshape(z.shape)

    def mean(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """The average over the n rows, ``[1, ...]``; with a ``codec``, of the decoded packets."""
        z, nbytes, dense = _through(z, codec)
        self.stats.add(self.n, self.n * nbytes, "mean", dense)
        return z.mean(0, keepdim=True)

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        return z


def _through(z: torch.Tensor, codec: Codec | None) -> tuple[torch.Tensor, int, int | None]:
    """``(rows as received, bytes of one message, bytes of a dense row or None)``: dense rows (None), or rows
    sent through ``codec`` (the dense row's bytes, which the clock prices a server's reply with)."""
    if codec is None:
        return z, dense_row_bytes(z), None
    flat = z.reshape(z.shape[0], -1)
    packet = codec.encode(flat)
    return codec.decode(packet, flat).reshape(z.shape), packet_row_bytes(packet), dense_row_bytes(z)
