"""PowerSGD: rank-r compression of matrix-shaped parameters by one warm-started power step (Vogels, Karimireddy,
Jaggi, NeurIPS 2019; docs/compression.md §4 [V pytorch ``powerSGD_hook.py``, its rank cap
``min(n, m, matrix_approximation_rank)``]).

A flat node row is cut into the model's parameters (a model problem's layout, or ``shapes``: [rows, cols] pairs
covering the first coordinates); a parameter of two or more axes is the matrix M = [first axis, the rest], its
rank is r = min(rank, rows, cols) (the hook caps it so, ``matrix_approximation_rank = min(n, m, rank)``; a cap
is logged once as a warning), and it is compressed when ``(rows + cols)·r·min_compression_rate < rows·cols``
(the hook's rule, with the capped r). Per node, with
its previous Q (warm start; fresh N(0, 1) draws, stream ``"powersgd"``, shared by all nodes, the first time or
with ``warm_start = false``)::

    P = orthogonalize(M Q)          (reduced QR)
    Q ← Mᵀ P                        (kept: the node's state for the next use)
    C(M) = P Qᵀ = P Pᵀ M

Vectors (biases, 1-D parameters) and matrices not worth compressing travel dense. The packet is the factors:
``(P's [rows·rank per matrix], Q's [cols·rank per matrix], the dense coordinates)``, i.e. r·(m + k) values per
m × k matrix: ``bits = value_bits·(r·Σ(m + k) + dense)/d`` per coordinate.

Theory: biased (E C(M) ≠ M). C(M) = P Pᵀ M is an orthogonal projection of M's columns, so
‖C(M) − M‖² = ‖M‖² − ‖PᵀM‖² ≤ ‖M‖²: it never expands, but no contraction δ > 0 holds for every M (when the
warm-start Q is orthogonal to M's row space, MQ = 0 and P is arbitrary: C(M) can be 0). The best rank-r
approximation would give δ = r/min(m, k); the power step approaches it only as the warm start tracks a slowly
changing M (Vogels et al. §3; tested on a fixed M in ``tests/compressed/test_compression_lowrank.py``). So ``delta`` is
None, as for ``sign``.

State: the warm-start Q's of every node, one node-stacked row ``[n, Σ cols·rank]`` (zero columns before the
first use), held in the algorithm's state so checkpoints and resumes are bitwise: :meth:`PowerSGD.init_state`,
and :meth:`PowerSGD.codec` ``state=`` binds a node block's rows; the codec's ``state`` after ``encode`` is the
next one. The collective form (P averaged over the nodes before the QR, one Q shared by all) is the ``powersgd``
server method (``algorithms/server/powersgd.py``), built from the same pieces.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import torch

from ..comm.codec import Packet
from ..errors import ValidationError
from ..rng import Randomness
from ..validation import check_int
from .base import COMPRESSORS, Compressor

#: The named random stream of the fresh Q draws.
STREAM = "powersgd"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """Which coordinates of a row are compressed: (offset, rows, cols) per matrix, a bool mask of the rest, and
    each matrix's rank (the configured rank capped at min(rows, cols))."""

    slots: tuple[tuple[int, int, int], ...]
    dense: torch.Tensor
    ranks: tuple[int, ...]

    def views(self, v: torch.Tensor) -> list[torch.Tensor]:
        """``[n, rows, cols]`` views of the rows of ``v [n, d]``, one per compressed matrix."""
        return [v[:, o : o + r * c].reshape(v.shape[0], r, c) for o, r, c in self.slots]

    def width(self) -> int:
        """Values of the warm-start state (every Q) per node."""
        return sum(c * r for (_, _, c), r in zip(self.slots, self.ranks))


def orthogonalize(p: torch.Tensor) -> torch.Tensor:
    """The reduced-QR Q factor of ``p`` ([..., rows, rank]); M̂ = P Pᵀ M does not depend on its column signs."""
    return torch.linalg.qr(p).Q


@COMPRESSORS.register("powersgd")
class PowerSGD(Compressor):
    """Rank-r power-step compression of matrix-shaped parameters with warm start (biased; no δ guaranteed)."""

    stateful = True

    def __init__(
        self,
        rank: int = 1,
        warm_start: bool = True,
        min_compression_rate: float = 2.0,
        shapes: list[list[int]] | None = None,
    ):
        check_int("rank", rank, 1, "compressor powersgd")
        if not isinstance(warm_start, bool):
            raise ValidationError(f"compressor powersgd: warm_start must be true or false, got {warm_start!r}")
        if isinstance(min_compression_rate, bool) or not min_compression_rate > 0:
            raise ValidationError(
                f"compressor powersgd: min_compression_rate must be > 0, got {min_compression_rate!r}"
            )
        self.rank, self.warm_start, self.min_compression_rate = rank, warm_start, float(min_compression_rate)
        self.shapes = [list(s) for s in (shapes or [])]
        for s in self.shapes:
            if len(s) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in s):
                raise ValidationError(
                    f"compressor powersgd: shapes must be [rows, cols] pairs of positive integers, got {s!r}"
                )
        self._plan: tuple[int, Any, Plan] | None = None  # (d, layout, plan) of the last row seen
        self._warned = False  # the rank cap was logged

    # ---- which coordinates are compressed --------------------------------------------------------
    def rank_of(self, rows: int, cols: int) -> int:
        """The rank used for a rows × cols matrix: min(rank, rows, cols), as torch's hook."""
        return min(self.rank, rows, cols)

    def worth(self, rows: int, cols: int) -> bool:
        """The hook's rule: compress when (rows + cols)·r·min_compression_rate < rows·cols, r the capped rank."""
        return (rows + cols) * self.rank_of(rows, cols) * self.min_compression_rate < rows * cols

    def plan(self, d: int, layout: Any = None) -> Plan:
        """The plan of a row of ``d`` values: from ``shapes``, else from a model problem's parameter ``layout``."""
        if self._plan is None or self._plan[0] != d or (not self.shapes and self._plan[1] is not layout):
            if self.shapes:
                pairs, offsets, o = [tuple(s) for s in self.shapes], [], 0
                for r, c in pairs:
                    offsets.append(o)
                    o += r * c
                if o > d:
                    raise ValidationError(f"powersgd: shapes cover {o} coordinates but x has {d}")
            elif layout is None:
                raise ValidationError("powersgd needs matrix-shaped parameters: a model problem, or `shapes`")
            else:
                mats = [s for s in layout.slots if len(s.shape) >= 2]
                pairs = [(s.shape[0], math.prod(s.shape[1:])) for s in mats]
                offsets = [s.offset for s in mats]
            dense = torch.ones(d, dtype=torch.bool)
            slots, ranks = [], []
            for o, (r, c) in zip(offsets, pairs):
                if self.worth(r, c):
                    slots.append((o, r, c))
                    ranks.append(self.rank_of(r, c))
                    dense[o : o + r * c] = False
            self._warn_capped(pairs)
            self._plan = (d, layout, Plan(tuple(slots), dense, tuple(ranks)))
        return self._plan[2]

    def _warn_capped(self, pairs: list[tuple[int, ...]]) -> None:
        """Say once (per compressor) that the rank exceeds some matrix's min(rows, cols) and is capped there."""
        capped = sorted({(r, c) for r, c in pairs if self.rank > min(r, c)})
        if capped and not self._warned:
            self._warned = True
            log.warning(
                "tailtamer: powersgd rank %d exceeds min(rows, cols) of %s; capped at min(rank, rows, cols) "
                "per matrix, as torch's powerSGD_hook does",
                self.rank,
                ", ".join(f"[{r}, {c}]" for r, c in capped),
            )

    # ---- the pieces of one power step (shared with the server method) ------------------------------
    def queries(
        self, state: torch.Tensor, plan: Plan, rng: Randomness, like: torch.Tensor, call: int = 0
    ) -> list[torch.Tensor]:
        """Q per matrix, ``[rows of state, cols, rank]``: the state's (warm start) or fresh N(0, 1) draws (the
        same on every node; the first use, or ``warm_start = false``)."""
        need = plan.width()
        if not self.warm_start or state.shape[1] != need:
            gen = rng.generator(STREAM, call)
            state = torch.randn(1, need, generator=gen, dtype=torch.float64).to(like).expand(state.shape[0], -1)
        out, at = [], 0
        for (_, _, c), r in zip(plan.slots, plan.ranks):
            out.append(state[:, at : at + c * r].reshape(state.shape[0], c, r))
            at += c * r
        return out

    # ---- theory ------------------------------------------------------------------------------------
    def matrix_bits(self, rows: int, cols: int, value_bits: int = 32) -> float:
        """Bits per coordinate of one compressed rows × cols matrix: r·(rows + cols) values for rows·cols
        (r = min(rank, rows, cols))."""
        return value_bits * self.rank_of(rows, cols) * (rows + cols) / (rows * cols)

    def bits(self, d: int, value_bits: int = 32, layout: Any = None) -> float:
        """Bits per coordinate of a row of ``d`` (its plan from ``shapes`` or ``layout``; without either the row
        is one vector, sent dense)."""
        if not self.shapes and layout is None:
            return float(value_bits)
        plan = self.plan(d, layout)
        values = sum(rk * (r + c) for (_, r, c), rk in zip(plan.slots, plan.ranks)) + int(plan.dense.sum())
        return value_bits * values / d

    # ---- state and codec -----------------------------------------------------------------------------
    def init_state(self, x0: torch.Tensor) -> torch.Tensor:
        """No Q yet: ``[n, 0]`` (sized at the first use, when the plan is known)."""
        return torch.zeros_like(x0.reshape(x0.shape[0], -1)[:, :0])

    def codec(  # type: ignore[override]  # stateful: takes its state, gives a LowRankCodec
        self, rng: Randomness | None = None, call: int = 0, state: torch.Tensor | None = None, layout: Any = None
    ) -> LowRankCodec:
        """The codec of one use for the rows whose warm-start ``state`` is given (its ``state`` after encoding is
        the next one)."""
        if rng is None or state is None:
            raise ValidationError(
                "compressor 'powersgd' keeps a warm-start Q per node: give it the step's "
                "randomness and the node rows' state (an algorithm that carries compressor state)"
            )
        return LowRankCodec(self, rng, call, state, layout)

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        raise ValidationError("compressor 'powersgd' is stateful: encode through its codec(rng, call, state)")

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        raise ValidationError("compressor 'powersgd' is stateful: decode through its codec(rng, call, state)")


class LowRankCodec:
    """One use of :class:`PowerSGD` on some node rows: packet = their P's, Q's and dense coordinates.

    Every ``encode`` of one use starts from the bound state (a method may encode the same rows twice, e.g. for
    its own copy and for the wire); ``state`` is the state after the last encoding."""

    def __init__(self, compressor: PowerSGD, rng: Randomness, call: int, state: torch.Tensor, layout: Any):
        self.compressor, self.rng, self.call, self.layout = compressor, rng, call, layout
        self.start = self.state = state

    def encode(self, z: torch.Tensor) -> Packet:
        if self.start.shape[0] != z.shape[0]:
            raise ValidationError(f"compressor powersgd: {z.shape[0]} rows but state for {self.start.shape[0]}")
        c = self.compressor
        plan = c.plan(z.shape[1], self.layout)
        mats = plan.views(z)
        qs = c.queries(self.start, plan, self.rng, z, self.call)
        ps = [orthogonalize(torch.bmm(m, q)) for m, q in zip(mats, qs)]
        qs = [torch.bmm(m.transpose(1, 2), p) for m, p in zip(mats, ps)]
        n = z.shape[0]
        flat = [torch.cat([t.reshape(n, -1) for t in ts] or [z[:, :0]], dim=1) for ts in (ps, qs)]
        self.state = flat[1]
        return flat[0], flat[1], z[:, plan.dense]

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        p_all, q_all, rest = packet
        plan = self.compressor.plan(like.shape[1], self.layout)
        n = like.shape[0]
        out = torch.zeros_like(like)
        at_p = at_q = 0
        for (o, rows, cols), r in zip(plan.slots, plan.ranks):
            p = p_all[:, at_p : at_p + rows * r].reshape(n, rows, r).to(like.dtype)
            q = q_all[:, at_q : at_q + cols * r].reshape(n, cols, r).to(like.dtype)
            out[:, o : o + rows * cols] = torch.bmm(p, q.transpose(1, 2)).reshape(n, -1)
            at_p, at_q = at_p + rows * r, at_q + cols * r
        out[:, plan.dense] = rest.to(like.dtype)
        return out

    def roundtrip(self, z: torch.Tensor) -> torch.Tensor:
        flat = z.reshape(z.shape[0], -1)
        return self.decode(self.encode(flat), flat).reshape(z.shape)
