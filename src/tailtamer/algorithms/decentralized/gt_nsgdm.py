"""GT-NSGDm: gradient tracking + normalization + momentum.

Yu, Jakovetić, Kar, *Decentralized Nonconvex Optimization under Heavy-Tailed Noise: Normalization and
Optimal Convergence*, ICLR 2026, arXiv 2505.03736. With ``V₋₁ = Y₋₁ = 0``::

    V_t     = β V_{t−1} + (1−β) G_t
    Y_t     = W (Y_{t−1} + V_t − V_{t−1})
    X_{t+1} = W (X_t − α_t · rownorm(Y_t))

Theory schedules (``theory``): ``"known-p"`` sets ``1−β = T^{−p/(3p−2)}`` and ``α = lr·T^{−(2p−1)/(3p−2)}``
(``lr`` stands for the constant ``sqrt((1−ρ)Δ₀/L)``, a reconstruction: the paper gives α only up to a constant);
``"unknown-p"`` sets ``1−β = T^{−1/2}`` and ``α = lr·T^{−3/4}``. ``"none"`` uses ``beta`` and the
``lr``/``schedule`` as given.
"""

from __future__ import annotations

from typing import Any

import torch

from ...operators import ema, rownorm, track
from ...schedules import make_lr
from ...validation import check_choice, check_range
from ..base import ALGORITHMS, Algorithm, Oracle, State

THEORY = ("none", "known-p", "unknown-p")


def theory_settings(theory: str, p: float, steps: int) -> tuple[float, float]:
    """``(1−β, α/lr)`` of a theory schedule for horizon T = ``steps`` and tail index p."""
    T = float(max(steps, 1))
    if theory == "known-p":
        return T ** (-p / (3 * p - 2)), T ** (-(2 * p - 1) / (3 * p - 2))
    return T**-0.5, T**-0.75


@ALGORITHMS.register("gt-nsgdm")
class GTNSGDm(Algorithm):
    """GT-NSGDm (Yu, Jakovetić, Kar 2026): tracked momentum, normalized step, two gossips per step."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        beta: float = 0.9,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        theory: str = "none",
        p: float = 1.5,
    ):
        self.theory = check_choice("theory", theory, THEORY, self.name)
        self.p = check_range("p", p, 1.0, 2.0, lo_open=True, owner=self.name)
        if theory != "none":
            one_minus_beta, lr_factor = theory_settings(theory, p, steps)
            beta, lr = 1.0 - one_minus_beta, lr * lr_factor
        self.beta = check_range("beta", beta, 0.0, 1.0, hi_open=True, owner=self.name)
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        zeros = torch.zeros_like(x0)
        return {"x": x0.clone(), "v": zeros, "y": zeros.clone()}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        v = ema(s["v"], g, self.beta)
        y = track(comm.mix, s["y"], v, s["v"])
        x = comm.mix(s["x"] - self._lr(t) * rownorm(y))
        return {"x": x, "v": v, "y": y}
