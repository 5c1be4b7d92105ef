"""A topology is a weighted graph whose weights *are* the mixing matrix W (``comm.mix(Z) = W Z``).

W is a dense ``numpy`` array up to :data:`~.sparse.DENSE_MAX_N` nodes and a ``scipy.sparse.csr_array``
above (see :mod:`~tailtamer.topology.sparse`); every method here works on either without forming an n × n array.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp

from ..registry import Registry
from .checks import is_column_stochastic, is_doubly_stochastic, is_row_stochastic
from .sparse import Matrix, dense, issparse, offdiag_links
from .spectral import spectral_gap

#: Largest n for which :meth:`Topology.summary` prints W.
SUMMARY_MATRIX_MAX_N = 12
#: Largest n for which :meth:`Topology.to_json` includes W.
JSON_MATRIX_MAX_N = 64

#: Registry of graph builders. Each factory takes ``n`` (engine-supplied) and its own parameters and
#: returns a :class:`Topology`.
TOPOLOGIES: Registry[Topology] = Registry("topology", context=("n",))


@dataclass
class Topology:
    """A mixing matrix with its provenance.

    Attributes:
        name: registry name.
        W: ``[n, n]`` float64 mixing matrix (dense, or CSR for large n); row i holds the weights node i
            gives to what it receives.
        directed: whether the underlying graph is directed.
        params: the parameters it was built with.
        spectrum: a closed form of ρ that a builder knows (torus, hypercube, complete), used when W is
            sparse (a dense W keeps its SVD, so existing runs report the same ρ).
    """

    name: str
    W: Matrix
    directed: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    spectrum: Callable[[], float] | None = field(default=None, repr=False, compare=False)

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.W.shape[0])

    @cached_property
    def rho(self) -> float:
        """Contraction factor ``ρ = ‖W − 11ᵀ/n‖₂`` (see :func:`.spectral.spectral_gap`); computed once.

        Cached on first access: do not modify ``W`` in place afterwards. A sparse W is never densified:
        the builder's closed form (:attr:`spectrum`), else :func:`.spectral.sparse_rho`.
        """
        if sp.issparse(self.W) and self.spectrum is not None:
            return float(self.spectrum())
        return spectral_gap(self.W)

    @property
    def sparse(self) -> bool:
        """Whether W is stored sparse (n above :data:`~.sparse.DENSE_MAX_N`)."""
        return sp.issparse(self.W)

    @property
    def stored_bytes(self) -> int:
        """Bytes W occupies as stored (dense array, or CSR values, indices and row pointers); estimated before
        building by :func:`.storage.stored_bytes`."""
        W = self.W
        if issparse(W):
            return int(W.data.nbytes + W.indices.nbytes + W.indptr.nbytes)
        return int(np.asarray(W).nbytes)

    def dense(self) -> np.ndarray:
        """W as a dense float64 array (n × n memory: for small n, tests and printing)."""
        return dense(self.W)

    @cached_property
    def _link_rows(self) -> sp.csr_array:
        return offdiag_links(self.W)

    def neighbours_in(self, i: int) -> list[int]:
        """Nodes j ≠ i whose values node i mixes in (``W[i, j] > 0``), ascending."""
        A = self._link_rows
        return A.indices[A.indptr[i] : A.indptr[i + 1]].tolist()

    def neighbours_out(self, i: int) -> list[int]:
        """Nodes j ≠ i that mix in node i's value (``W[j, i] > 0``), ascending."""
        col = self._link_rows[:, [i]].tocoo()
        return sorted(col.row.tolist())

    def _links(self) -> sp.csr_array:
        return self._link_rows

    @property
    def edges(self) -> int:
        """Number of links: unordered pairs ``{i, j}`` if undirected, ordered ``j → i`` if directed."""
        A = self._links()
        if self.directed:
            return int(A.nnz)
        return int(sp.triu(A + A.T, k=1).nnz)

    def degrees(self) -> tuple[np.ndarray, np.ndarray]:
        """``(in_degree, out_degree)`` of every node (equal for an undirected graph)."""
        A = self._links()
        return (np.asarray(A.sum(axis=1)).ravel().astype(np.int64), np.asarray(A.sum(axis=0)).ravel().astype(np.int64))

    def summary(self) -> str:
        """Multi-line human-readable description (W itself is printed when n ≤ 12)."""
        din, dout = self.degrees()
        W = self.W
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items()) or "(none)"
        lines = [
            f"topology:          {self.name}",
            f"params:            {params}",
            f"nodes (n):         {self.n}",
            f"directed:          {self.directed}",
            f"edges:             {self.edges}",
        ]
        if self.directed:
            lines += [
                f"in-degree:         min {din.min()}, max {din.max()}",
                f"out-degree:        min {dout.min()}, max {dout.max()}",
            ]
        else:
            lines.append(f"degree:            min {din.min()}, max {din.max()}")
        lines += [
            f"row-stochastic:    {is_row_stochastic(W)}",
            f"column-stochastic: {is_column_stochastic(W)}",
            f"doubly stochastic: {is_doubly_stochastic(W)}",
            f"rho:               {self.rho:.6f}  (||W - 11^T/n||_2; 1 - rho = {1 - self.rho:.6f})",
        ]
        if self.n <= SUMMARY_MATRIX_MAX_N:
            lines.append("W:")
            lines += ["  " + " ".join(f"{x:.4f}" for x in row) for row in self.dense()]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready description: name, n, directed, edges, degrees, stochasticity, rho, params, and
        ``W`` as a nested list when n ≤ 64."""
        din, dout = self.degrees()
        W = self.W
        out: dict[str, Any] = {
            "name": self.name,
            "n": self.n,
            "directed": bool(self.directed),
            "edges": self.edges,
            "degree_min": int(min(din.min(), dout.min())),
            "degree_max": int(max(din.max(), dout.max())),
            "row_stochastic": is_row_stochastic(W),
            "column_stochastic": is_column_stochastic(W),
            "doubly_stochastic": is_doubly_stochastic(W),
            "rho": float(self.rho),
            "params": _jsonable(self.params),
        }
        if self.n <= JSON_MATRIX_MAX_N:
            out["W"] = self.dense().tolist()
        return out


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples inside ``value`` to plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
