"""PowerSGD with a server: rank-r compression of matrix-shaped gradients, error feedback and warm start (Vogels,
Karimireddy, Jaggi, NeurIPS 2019; docs/compression.md §4 [V pytorch ``powerSGD_hook.py``, its rank cap
``min(n, m, matrix_approximation_rank)``]).

Per step, worker i forms M_i = g_i + e_i (error feedback; e_i = 0 at the start) and, for every parameter
reshaped to a matrix [rows, cols] (first axis × the rest) that is worth compressing, i.e.
``(rows + cols)·r·min_compression_rate < rows·cols`` with r = min(rank, rows, cols) (torch's cap, logged once)::

    P = mean_i (M_i Q)              one comm.mean of all P's (rows·rank values per matrix)
    P ← orthogonalize(P)            (reduced QR; M̂ does not depend on the column signs)
    Q = mean_i (M_iᵀ P)             one comm.mean of all Q's (cols·rank per matrix) and of the other coordinates
    M̂ = P Qᵀ;    e_i ← M_i − M̂

Every other coordinate (biases, 1-D tensors, small matrices) is averaged dense (in the second message), with
e_i ← 0 there. Q is kept for the next step (warm start; fresh N(0, 1) draws from the step's randomness, stream
``"powersgd"``, the first time or with ``warm_start = false``). Before step ``start_iter`` every coordinate is
averaged dense and e stays 0 (the hook's vanilla phase; torch's ``PowerSGDState`` defaults
``start_powerSGD_iter`` to 1,000 since 1.9, 10 before: ``start_iter = 10`` here). x ← x − η_k·(the averaged
direction).

The matrix shapes come from ``shapes`` (a list of [rows, cols] covering the first coordinates of x in order) or,
when it is empty, from a model problem's parameter layout.

One implementation: the plan, the warm-start queries and the orthogonalization are those of the ``powersgd``
compressor (:class:`tailtamer.compression.lowrank.PowerSGD`, built from this method's ``rank``, ``warm_start``,
``min_compression_rate`` and ``shapes``); this method is its *collective* form (P averaged before the QR, so one
Q serves every node and the aggregate is linear), the compressor's codec the per-node form that any method
carrying compressor state can use (``[compression] name = "powersgd"``).
"""

from __future__ import annotations

from typing import Any

import torch

from ...compression.lowrank import Plan, orthogonalize
from ...compression.lowrank import PowerSGD as LowRank
from ...validation import check_int
from ..base import ALGORITHMS, Oracle, State
from .base import ServerMethod


@ALGORITHMS.register("powersgd")
class PowerSGD(ServerMethod):
    """PowerSGD (Vogels et al. 2019): rank-r power-iteration compression with error feedback and warm start."""

    compresses = False

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        rank: int = 1,
        min_compression_rate: float = 2.0,
        start_iter: int = 10,
        warm_start: bool = True,
        shapes: list[list[int]] | None = None,
    ):
        super().__init__(steps, lr, schedule, warmup)
        check_int("start_iter", start_iter, 0, self.name)
        self._lowrank = LowRank(rank, bool(warm_start), min_compression_rate, shapes)  # validates the rest
        self.rank, self.min_compression_rate, self.start_iter = rank, float(min_compression_rate), start_iter
        self.warm_start, self.shapes = bool(warm_start), self._lowrank.shapes

    def plan(self, d: int, grad: Oracle) -> tuple[list[tuple[int, int, int]], torch.Tensor]:
        """(compressed (offset, rows, cols) slots, bool mask [d] of the dense coordinates)."""
        p = self._plan_of(d, grad)
        return list(p.slots), p.dense

    def _plan_of(self, d: int, grad: Oracle) -> Plan:
        return self._lowrank.plan(d, grad.layout)

    def init_server(self, x0: torch.Tensor, comm) -> State:
        # q: the warm-start Q's, replicated on every row (node-stacked, so checkpoints gather it like any state)
        return {"x": x0.clone(), "e": torch.zeros_like(x0), "q": torch.zeros_like(x0[:, :0])}

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        g = grad(s["x"])
        eta = self.step_size(t, s["x"], None, grad, comm)
        if t < self.start_iter:
            return {"x": s["x"] - eta * comm.mean(g), "e": s["e"], "q": s["q"]}
        plan = self._plan_of(g.shape[1], grad)
        slots, dense = plan.slots, plan.dense
        m = g + s["e"]
        mats = plan.views(m)
        qs = [q[0] for q in self._lowrank.queries(s["q"][:1], plan, grad.rng, m)]  # one Q, shared
        p_mean = comm.mean(
            torch.cat(
                [torch.bmm(mi, q.expand(mi.shape[0], -1, -1)).reshape(mi.shape[0], -1) for mi, q in zip(mats, qs)]
                or [m[:, :0]],
                dim=1,
            )
        )
        ps, at = [], 0
        for (_, r, _c), rk in zip(slots, plan.ranks):
            ps.append(orthogonalize(p_mean[0, at : at + r * rk].reshape(r, rk)))
            at += r * rk
        second = comm.mean(
            torch.cat(
                [torch.matmul(mi.transpose(1, 2), p).reshape(mi.shape[0], -1) for mi, p in zip(mats, ps)]
                + [m[:, dense]],
                dim=1,
            )
        )
        direction = torch.zeros_like(m[:1])
        new_q, at = [], 0
        for (o, r, c), rk, p in zip(slots, plan.ranks, ps):
            q = second[0, at : at + c * rk].reshape(c, rk)
            direction[0, o : o + r * c] = (p @ q.T).reshape(-1)
            new_q.append(q.reshape(-1))
            at += c * rk
        direction[0, dense] = second[0, at:]
        e = torch.where(dense, torch.zeros_like(m), m - direction)
        q_state = torch.cat(new_q).unsqueeze(0).expand(m.shape[0], -1).clone() if new_q else s["q"]
        return {"x": s["x"] - eta * direction, "e": e, "q": q_state}
