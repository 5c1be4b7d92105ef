"""DSGD, DCSGD and DSignSGD with a server (Compagnoni, Islamov, Orvieto, Gorbunov, arXiv 2506.00181, ICML 2026;
docs/compression.md §4, discrete algorithms [R, consistent with the v1 abstract])::

    dsgd-server:  x ← x − η_k · (1/N) Σ_i g_i
    dcsgd:        x ← x − η_k · (1/N) Σ_i C_i(g_i)          C from [compression] (identity: bitwise dsgd-server)
    dsignsgd:     x ← x − η_k · (1/N) Σ_i sign(g_i)          vote = true: x ← x − η_k · sign(Σ_i sign(g_i))

(majority vote: Bernstein et al. 2018, signSGD; a tie gives sign 0, no move.) Every g_i is sent to the
server as its codec's packet (``comm.mean``): dense rows, the compressor's packet, or sign bits packed 8 to
a byte. sign(0) = +1 (one bit). η_k follows :mod:`.step_rules`: ``rule`` = ``schedule`` | ``oracle`` |
``practical`` over the base schedule ``lr``·``schedule``.
"""

from __future__ import annotations

from typing import Any

import torch

from ...compression.sign import Sign
from ...errors import ValidationError
from ..base import ALGORITHMS, Oracle, State
from .base import ServerMethod


class _MeanMethod(ServerMethod):
    """x ← x − η_k · ĝ with ĝ = comm.mean(packets of u_i); subclasses pick u_i and the codec."""

    def codec(self, grad: Oracle, compressor: Any) -> Any:
        return compressor.codec(grad.rng, call=0)

    def aggregate(self, ghat: torch.Tensor) -> torch.Tensor:
        return ghat

    def update(self, s: State, grad: Oracle, comm, t: int, compressor: Any) -> State:
        g = grad(s["x"])
        ghat = self.aggregate(comm.mean(g, codec=self.codec(grad, compressor)))
        return {"x": s["x"] - self.step_size(t, s["x"], ghat, grad, comm) * ghat}


@ALGORITHMS.register("dsgd-server")
class DSGDServer(_MeanMethod):
    """Distributed SGD with a server (dense gradients): the uncompressed baseline of dcsgd/dsignsgd."""

    compresses = False

    def codec(self, grad: Oracle, compressor: Any) -> None:
        return None


@ALGORITHMS.register("dcsgd")
class DCSGD(_MeanMethod):
    """Distributed compressed SGD: the server averages the workers' compressed gradients C_i(g_i)."""


@ALGORITHMS.register("dsignsgd")
class DSignSGD(_MeanMethod):
    """Distributed SignSGD: the mean of the workers' signs, or their majority vote (``vote = true``)."""

    compresses = False

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        rule: str = "schedule",
        L0: float = 0.0,
        L1: float = 0.0,
        a: float = 1.0,
        b: float = 0.0,
        alpha: float = 1.0,
        vote: bool = False,
    ):
        super().__init__(steps, lr, schedule, warmup, rule, L0, L1, a, b, alpha, Sign())
        if not isinstance(vote, bool):
            raise ValidationError(f"dsignsgd: vote must be true or false, got {vote!r}")
        self.vote = vote

    def aggregate(self, ghat: torch.Tensor) -> torch.Tensor:
        return torch.sign(ghat) if self.vote else ghat
