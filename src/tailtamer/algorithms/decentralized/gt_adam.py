"""GT-Adam (Carnevale, Farina, Notarnicola, Notarstefano, arXiv 2009.01745). With ``S₋₁ = G₋₁ = 0``::

    S_t     = W S_{t−1} + G_t − G_{t−1}
    M_t     = β₁ M_{t−1} + (1−β₁) S_t
    Q_t     = min(β₂ Q_{t−1} + (1−β₂) S_t², q_max)
    X_{t+1} = W X_t − α M_t / (√Q_t + ε)

Note the tracker here mixes only ``S`` (not ``S + G − G_prev``) and the step is taken after mixing X,
as in the source; ``beta`` is β₁.
"""

from __future__ import annotations

from typing import Any

import torch

from ...operators import ema
from ...schedules import make_lr
from ...validation import check_positive, check_range
from ..base import ALGORITHMS, Algorithm, Oracle, State


@ALGORITHMS.register("gt-adam")
class GTAdam(Algorithm):
    """GT-Adam: Adam moments of a gradient tracker, with the second moment capped at q_max."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.001,
        beta: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        q_max: float = 1e8,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)
        self.beta = check_range("beta", beta, 0.0, 1.0, hi_open=True, owner=self.name)
        self.beta2 = check_range("beta2", beta2, 0.0, 1.0, hi_open=True, owner=self.name)
        self.eps = check_positive("eps", eps, self.name)
        self.q_max = check_positive("q_max", q_max, self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        zeros = torch.zeros_like(x0)
        return {"x": x0.clone(), "s": zeros, "g": zeros.clone(), "m": zeros.clone(), "q": zeros.clone()}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        tracker = comm.mix(s["s"]) + g - s["g"]
        m = ema(s["m"], tracker, self.beta)
        q = ema(s["q"], tracker * tracker, self.beta2).clamp(max=self.q_max)
        x = comm.mix(s["x"]) - self._lr(t) * m / (torch.sqrt(q) + self.eps)
        return {"x": x, "s": tracker, "g": g, "m": m, "q": q}
