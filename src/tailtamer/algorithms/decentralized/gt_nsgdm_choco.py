"""GT-NSGDm with compressed gossip (ours, unpublished): GT-NSGDm (Yu, Jakovetić, Kar, ICLR 2026, arXiv
2505.03736) whose two gossips — tracker and iterate — are CHOCO consensus rounds (Koloskova et al. 2019) over
compressed differences (:func:`.choco.choco_gossip`). With V₋₁ = Y₋₁ = 0 and Ŷ = S_Y = X̂ = S_X = 0::

    V_t     = β V_{t−1} + (1−β) G_t
    Y½      = Y_{t−1} + V_t − V_{t−1};      Y_t     = CHOCO(Y½; Ŷ, S_Y, γ)          compress call 0
    X½      = X_t − α_t · rownorm(Y_t);     X_{t+1} = CHOCO(X½; X̂, S_X, γ)          compress call 1

CHOCO keeps the node average (W doubly stochastic), so the tracking invariant mean_i Y_t = mean_i V_t holds
exactly as in GT-NSGDm, whatever the compressor. With the identity compressor and γ = 1 it is GT-NSGDm.
"""

from __future__ import annotations

from typing import Any

import torch

from ...compression import Compressor
from ...operators import ema, rownorm
from ...schedules import make_lr
from ...validation import check_range
from ..base import ALGORITHMS, Oracle, State
from .choco import _Choco, choco_gossip


@ALGORITHMS.register("gt-nsgdm-choco")
class GTNSGDmChoco(_Choco):
    """GT-NSGDm whose tracker and iterate gossip through CHOCO compressed differences (ours)."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        beta: float = 0.9,
        gamma: float = 1.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        compressor: Compressor | None = None,
    ):
        super().__init__(gamma, compressor)
        self.beta = check_range("beta", beta, 0.0, 1.0, hi_open=True, owner=self.name)
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        z = torch.zeros_like(x0)
        return {
            "x": x0.clone(),
            "v": z,
            "y": z.clone(),
            "yhat": z.clone(),
            "sy": z.clone(),
            "xhat": z.clone(),
            "sx": z.clone(),
        }

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        v = ema(s["v"], g, self.beta)
        y, yhat, sy = choco_gossip(
            comm, self.compressor.codec(grad.rng, call=0), s["y"] + v - s["v"], s["yhat"], s["sy"], self.gamma
        )
        x_half = s["x"] - self._lr(t) * rownorm(y)
        x, xhat, sx = choco_gossip(
            comm, self.compressor.codec(grad.rng, call=1), x_half, s["xhat"], s["sx"], self.gamma
        )
        return {"x": x, "v": v, "y": y, "yhat": yhat, "sy": sy, "xhat": xhat, "sx": sx}
