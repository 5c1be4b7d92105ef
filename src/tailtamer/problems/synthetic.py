"""Synthetic problems: closed-form local objectives f_i, all n gradients in one batched expression.

A subclass stores its data once in float64 (:meth:`SyntheticProblem.store`), sets ``_x0`` and optionally
``x_star``, and implements two batched maps over the rows of ``x`` (row r belongs to global node
``nodes[r]``):

* :meth:`SyntheticProblem.local_loss` — ``f_i(x_i)``, shape ``[n_local]``;
* :meth:`SyntheticProblem.local_grad` — ``∇f_i(x_i)``, shape ``[n_local, d]``.

The base turns these into the :class:`~tailtamer.problems.base.Problem` contract (``grad`` is the exact
local gradient; injected noise is added by the engine) and computes the metrics of the global objective
``f = (1/n) Σ_i f_i`` through ``comm.mean`` only, so they are the same whether one process hosts all rows
or a few.
"""

from __future__ import annotations

import numpy as np
import torch

from ..comm.base import Comm
from ..errors import ValidationError
from ..rng import seed_for
from ..validation import check_choice, check_range
from .base import Problem

#: Ways to assign samples to nodes: contiguous equal shards, or a seeded shuffle then equal shards.
SPLITS = ("contiguous", "iid")


def data_rng(data_seed: int, stream: str) -> np.random.Generator:
    """The numpy generator a problem draws its data from: a function of ``(data_seed, stream)`` only.

    It never depends on the run seed, so runs with different seeds see the same data set.
    """
    return np.random.Generator(np.random.PCG64(seed_for(data_seed, stream)))


def check_int(name: str, value: int, lo: int, owner: str) -> int:
    """``value`` is an integer ``≥ lo`` (raises :class:`ValidationError` naming ``name``)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValidationError(f"{owner}: {name} must be an integer, got {value!r}")
    check_range(name, value, lo, None, owner=owner)
    return int(value)


def shard_indices(samples: int, n: int, split: str, gen: np.random.Generator, owner: str) -> np.ndarray:
    """Sample ids held by each node, ``[n, samples // n]``: node i holds row i.

    ``contiguous``: node i holds samples ``i·m … i·m + m − 1`` (m = samples / n). ``iid``: the same after a
    permutation drawn from ``gen``. ``samples`` must be divisible by ``n`` (equal shards).
    """
    check_choice("split", split, SPLITS, owner=owner)
    if samples % n:
        raise ValidationError(
            f"{owner}: samples ({samples}) must be divisible by the number of nodes n ({n}) "
            f"for equal shards; choose samples as a multiple of {n}"
        )
    order = np.arange(samples) if split == "contiguous" else gen.permutation(samples)
    return order.reshape(n, samples // n)


class SyntheticProblem(Problem):
    """Base of problems with closed-form local objectives (see module docstring).

    Attributes:
        n, dim: nodes and dimension.
        x_star: a global minimiser ``[d]`` (float64, CPU) when known in closed form, else ``None``.
    """

    x_star: torch.Tensor | None = None

    def __init__(self, n: int, dim: int):
        owner = type(self).__name__
        self.n = check_int("n", n, 1, owner)
        self.dim = check_int("dim", dim, 1, owner)
        self._data: dict[str, torch.Tensor] = {}
        self._cast: dict[tuple[str, torch.dtype, torch.device], torch.Tensor] = {}
        self._x0 = torch.zeros(self.dim, dtype=torch.float64)

    def set_x0(self, value: np.ndarray | torch.Tensor | float) -> None:
        """Set the common initial point (a scalar fills all d coordinates)."""
        self._x0 = torch.as_tensor(np.broadcast_to(np.asarray(value, dtype=np.float64), (self.dim,)).copy())

    # ---- data -----------------------------------------------------------------------------------
    def store(self, **arrays: np.ndarray | torch.Tensor | float) -> None:
        """Keep data arrays in float64 on the CPU (cast copies are made by :meth:`data`)."""
        for name, value in arrays.items():
            self._data[name] = torch.from_numpy(np.array(value, dtype=np.float64))
            for key in [k for k in self._cast if k[0] == name]:
                del self._cast[key]

    def data(self, name: str, like: torch.Tensor) -> torch.Tensor:
        """Stored array ``name`` in ``like``'s dtype and device (cast once, then cached)."""
        key = (name, like.dtype, like.device)
        if key not in self._cast:
            self._cast[key] = self._data[name].to(dtype=like.dtype, device=like.device)
        return self._cast[key]

    @staticmethod
    def rows(nodes: torch.Tensor, like: torch.Tensor) -> torch.Tensor | slice:
        """An index selecting the rows of per-node data for global node ids ``nodes``: a slice (so the
        selection is a view, no copy) when the ids are a contiguous block, as they are in the simulator and
        on every rank of a distributed run, else an int64 index tensor on ``like``'s device."""
        ids = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
        if ids.numel() > 0:
            first = int(ids[0])
            if bool((ids == torch.arange(first, first + ids.numel(), device=ids.device)).all()):
                return slice(first, first + ids.numel())
        return ids.to(like.device)

    def node_major(self, x: torch.Tensor) -> torch.Tensor:
        """R stacked iterates ``[R·n, d]`` (member r's node i on row ``r·n + i``, :mod:`tailtamer.engine.stacked.loop`)
        as ``[n, d, R]`` (a view): per node i, the R members' iterates are the columns of one matrix, so a
        problem with per-node data ``D_i`` evaluates every member with one product ``D_i X_i`` per node."""
        return x.reshape(-1, self.n, x.shape[1]).permute(1, 2, 0)

    @staticmethod
    def member_major(g: torch.Tensor) -> torch.Tensor:
        """``[n, d, R]`` back to the stacked rows ``[R·n, d]`` (the inverse of :meth:`node_major`)."""
        return g.permute(2, 0, 1).reshape(-1, g.shape[1])

    # ---- the batched local objectives (subclasses) ---------------------------------------------
    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """``f_{nodes[r]}(x_r)`` for every row, shape ``[n_local]`` (one batched expression)."""
        raise NotImplementedError

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """``∇f_{nodes[r]}(x_r)`` for every row, shape ``[n_local, d]`` (one batched expression)."""
        raise NotImplementedError

    # ---- the Problem contract ------------------------------------------------------------------
    @property
    def metric_names(self) -> tuple[str, ...]:  # type: ignore[override]
        head = ("dist_to_opt",) if self.x_star is not None else ()
        return head + ("grad_norm", "loss", "consensus")

    def x0(self, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> torch.Tensor:
        return self._x0.to(dtype=dtype, device=device).clone()

    def grad(self, x: torch.Tensor, nodes: torch.Tensor, seed: int, step: int, call: int = 0) -> torch.Tensor:
        """The exact local gradients (deterministic: full local batch; the engine adds injected noise)."""
        return self.local_grad(x, nodes)

    @torch.no_grad()
    def metrics(self, x: torch.Tensor, comm: Comm) -> dict[str, float]:
        """Metrics of the iterate ``x`` (``[n_local, d]`` for ``comm.nodes``); traffic is not counted.

        * ``loss`` = f(x̄) = mean_i f_i(x̄) with x̄ = mean_i x_i;
        * ``grad_norm`` = ‖∇f(x̄)‖ = ‖mean_i ∇f_i(x̄)‖;
        * ``dist_to_opt`` = mean_i ‖x_i − x*‖ (only when ``x_star`` is known);
        * ``consensus`` = (1/n) Σ_i ‖x_i − x̄‖².

        Every sum over nodes is a ``comm.mean`` (two calls in all), so a process hosting only some rows
        gets the same numbers as the simulator.
        """
        with comm.stats.paused():
            xbar = comm.mean(x)  # [1, d]
            nodes = comm.nodes
            at_bar = xbar.expand_as(x)
            cols = [self.local_loss(at_bar, nodes)[:, None], ((x - xbar) ** 2).sum(1, keepdim=True)]
            if self.x_star is not None:
                cols.append(torch.linalg.vector_norm(x - self.data_x_star(x), dim=1, keepdim=True))
            cols.append(self.local_grad(at_bar, nodes))
            avg = comm.mean(torch.cat(cols, dim=1))[0]  # one reduction for all metrics
        out = {"loss": float(avg[0]), "consensus": float(avg[1])}
        if self.x_star is not None:
            out["dist_to_opt"] = float(avg[2])
        out["grad_norm"] = float(torch.linalg.vector_norm(avg[-self.dim :]))
        return {k: out[k] for k in self.metric_names}

    @torch.no_grad()
    def stacked_metrics(self, x: torch.Tensor, members: int, nodes: torch.Tensor) -> list[dict[str, float]] | None:
        """:meth:`metrics` of R stacked runs at once (:mod:`tailtamer.engine.stacked.loop`): ``x`` is ``[R·n, d]``,
        member r's node ``nodes[k]`` on row ``k`` (``nodes``: the member's ids repeated R times). The same
        expressions as :meth:`metrics`, each member's sums over its own n rows, so every member gets its
        standalone numbers (within rounding). A problem with ``stacked_loss(x)`` and ``stacked_grad(x)`` (all
        members' local losses and gradients in this layout, without gathering per-node data for every row)
        has them used. None where a subclass overrides :meth:`metrics`."""
        if type(self).metrics is not SyntheticProblem.metrics:
            return None
        xr = x.reshape(members, -1, x.shape[1])  # [R, n, d]
        xbar = xr.mean(1, keepdim=True)  # [R, 1, d]: each member's average
        at_bar = xbar.expand_as(xr).reshape(x.shape)
        whole = xr.shape[1] == self.n and hasattr(self, "stacked_loss") and hasattr(self, "stacked_grad")
        loss = self.stacked_loss(at_bar) if whole else self.local_loss(at_bar, nodes)
        cols = [loss[:, None], ((xr - xbar) ** 2).sum(2).reshape(-1, 1)]
        if self.x_star is not None:
            cols.append(torch.linalg.vector_norm(x - self.data_x_star(x), dim=1, keepdim=True))
        cols.append(self.stacked_grad(at_bar) if whole else self.local_grad(at_bar, nodes))
        avg = torch.cat(cols, dim=1).reshape(members, xr.shape[1], -1).mean(1)  # [R, columns]
        grad_norm = torch.linalg.vector_norm(avg[:, -self.dim :], dim=1).tolist()
        rows = avg.tolist()
        out = []
        for r, row in enumerate(rows):
            m = {"loss": row[0], "consensus": row[1], "grad_norm": grad_norm[r]}
            if self.x_star is not None:
                m["dist_to_opt"] = row[2]
            out.append({k: m[k] for k in self.metric_names})
        return out

    def set_x_star(self, value: np.ndarray | torch.Tensor | None) -> None:
        """Record the known global minimiser ``[d]`` (or ``None``)."""
        if value is None:
            self.x_star = None
            return
        self.store(x_star=np.broadcast_to(np.asarray(value, dtype=np.float64), (self.dim,)))
        self.x_star = self._data["x_star"]

    def data_x_star(self, like: torch.Tensor) -> torch.Tensor:
        """``x_star`` in ``like``'s dtype and device (cached)."""
        return self.data("x_star", like)
