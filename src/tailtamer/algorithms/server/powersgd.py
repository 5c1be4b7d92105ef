"""PowerSGD with a server: rank-r compression of matrix-shaped gradients, error feedback and warm start (Vogels,
Karimireddy, Jaggi, NeurIPS 2019; docs/compression.md §4 [V pytorch ``powerSGD_hook.py`` at 00c22ce]).

Per step, worker i forms M_i = g_i + e_i (error feedback; e_i = 0 at the start) and, for every parameter
reshaped to a matrix [rows, cols] (first axis × the rest) that is worth compressing, i.e.
``(rows + cols)·rank·min_compression_rate < rows·cols``::

    P = mean_i (M_i Q)              one comm.mean of all P's (rows·rank values per matrix)
    P ← orthogonalize(P)            (reduced QR; M̂ does not depend on the column signs)
    Q = mean_i (M_iᵀ P)             one comm.mean of all Q's (cols·rank per matrix) and of the other coordinates
    M̂ = P Qᵀ;    e_i ← M_i − M̂

Every other coordinate (biases, 1-D tensors, small matrices) is averaged dense (in the second message), with
e_i ← 0 there. Q is kept for the next step (warm start; fresh N(0, 1) draws from the step's randomness, stream
``"powersgd"``, the first time or with ``warm_start = false``). Before step ``start_iter`` every coordinate is
averaged dense and e stays 0 (the hook's vanilla phase). x ← x − η_k·(the averaged direction).

The matrix shapes come from ``shapes`` (a list of [rows, cols] covering the first coordinates of x in order) or,
when it is empty, from a model problem's parameter layout.
"""
from __future__ import annotations

import math
from typing import Any

import torch

from ...errors import ValidationError
from ..base import ALGORITHMS, Oracle, State
from .base import ServerMethod


def _matrices(shapes: list[tuple[int, int, int]], v: torch.Tensor) -> list[torch.Tensor]:
    """Views ``[n, rows, cols]`` of the rows of ``v [n, d]`` for (offset, rows, cols) slots."""
    return [v[:, o:o + r * c].reshape(v.shape[0], r, c) for o, r, c in shapes]


@ALGORITHMS.register("powersgd")
class PowerSGD(ServerMethod):
    """PowerSGD (Vogels et al. 2019): rank-r power-iteration compression with error feedback and warm start."""

    compresses = False

    def __init__(self, steps: int, lr: float = 0.01, schedule: str | dict[str, Any] = "constant", warmup: int = 0,
                 rank: int = 1, min_compression_rate: float = 2.0, start_iter: int = 10, warm_start: bool = True,
                 shapes: list[list[int]] | None = None):
        super().__init__(steps, lr, schedule, warmup, "schedule", 0.0, 0.0, 1.0, 0.0, 1.0)
        for key, value in (("rank", rank), ("start_iter", start_iter)):
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key == "rank" else 0):
                raise ValidationError(f"powersgd: {key} must be an integer ≥ {1 if key == 'rank' else 0}, "
                                      f"got {value!r}")
        if not min_compression_rate > 0:
            raise ValidationError(f"powersgd: min_compression_rate must be > 0, got {min_compression_rate!r}")
        self.rank, self.min_compression_rate, self.start_iter = rank, float(min_compression_rate), start_iter
        self.warm_start = bool(warm_start)
        self.shapes = [list(s) for s in (shapes or [])]
        for s in self.shapes:
            if len(s) != 2 or min(s) < 1:
                raise ValidationError(f"powersgd: shapes must be [rows, cols] pairs of positive integers, got {s!r}")
        self._plan: tuple[list[tuple[int, int, int]], torch.Tensor] | None = None

    # ---- which coordinates are compressed ------------------------------------------------------
    def plan(self, d: int, grad: Oracle) -> tuple[list[tuple[int, int, int]], torch.Tensor]:
        """(compressed (offset, rows, cols) slots, bool mask [d] of the dense coordinates)."""
        if self._plan is None:
            pairs = [tuple(s) for s in self.shapes]
            offsets = []
            if pairs:
                o = 0
                for r, c in pairs:
                    offsets.append(o)
                    o += r * c
                if o > d:
                    raise ValidationError(f"powersgd: shapes cover {o} coordinates but x has {d}")
            else:
                layout = getattr(getattr(grad, "problem", None), "layout", None)
                if layout is None:
                    raise ValidationError("powersgd needs matrix-shaped parameters: a model problem, or `shapes`")
                for slot in layout.slots:
                    if len(slot.shape) >= 2:
                        pairs.append((slot.shape[0], math.prod(slot.shape[1:])))
                        offsets.append(slot.offset)
            dense = torch.ones(d, dtype=torch.bool)
            slots = []
            for o, (r, c) in zip(offsets, pairs):
                if (r + c) * self.rank * self.min_compression_rate < r * c:
                    slots.append((o, r, c))
                    dense[o:o + r * c] = False
            self._plan = (slots, dense)
        return self._plan

    def init(self, x0: torch.Tensor, comm) -> State:
        # q: the warm-start Q's, replicated on every row (node-stacked, so checkpoints gather it like any state)
        return {"x": x0.clone(), "e": torch.zeros_like(x0), "q": torch.zeros_like(x0[:, :0])}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        eta = self.step_size(t, s["x"], None, grad, comm)
        if t < self.start_iter:
            return {"x": s["x"] - eta * comm.mean(g), "e": s["e"], "q": s["q"]}
        slots, dense = self.plan(g.shape[1], grad)
        m = g + s["e"]
        mats = _matrices(slots, m)
        qs = self._queries(s["q"], slots, grad, m)
        p_mean = comm.mean(torch.cat([torch.bmm(mi, q.expand(mi.shape[0], -1, -1)).reshape(mi.shape[0], -1)
                                      for mi, q in zip(mats, qs)] or [m[:, :0]], dim=1))
        ps, at = [], 0
        for _, r, _c in slots:
            ps.append(torch.linalg.qr(p_mean[0, at:at + r * self.rank].reshape(r, self.rank)).Q)
            at += r * self.rank
        second = comm.mean(torch.cat([torch.matmul(mi.transpose(1, 2), p).reshape(mi.shape[0], -1)
                                      for mi, p in zip(mats, ps)] + [m[:, dense]], dim=1))
        direction = torch.zeros_like(m[:1])
        new_q, at = [], 0
        for (o, r, c), p in zip(slots, ps):
            q = second[0, at:at + c * self.rank].reshape(c, self.rank)
            direction[0, o:o + r * c] = (p @ q.T).reshape(-1)
            new_q.append(q.reshape(-1))
            at += c * self.rank
        direction[0, dense] = second[0, at:]
        e = torch.where(dense, torch.zeros_like(m), m - direction)
        q_state = torch.cat(new_q).unsqueeze(0).expand(m.shape[0], -1).clone() if new_q else s["q"]
        return {"x": s["x"] - eta * direction, "e": e, "q": q_state}

    def _queries(self, q_state: torch.Tensor, slots: list[tuple[int, int, int]], grad: Oracle,
                 like: torch.Tensor) -> list[torch.Tensor]:
        """Q per matrix [cols, rank]: the previous step's (warm start) or fresh N(0, 1) draws."""
        need = sum(c for _, _, c in slots) * self.rank
        if not self.warm_start or q_state.shape[1] != need:
            gen = grad.rng.generator("powersgd")
            q_state = torch.randn(1, need, generator=gen, dtype=torch.float64).to(like)
        out, at = [], 0
        for _, _, c in slots:
            out.append(q_state[0, at:at + c * self.rank].reshape(c, self.rank))
            at += c * self.rank
        return out
