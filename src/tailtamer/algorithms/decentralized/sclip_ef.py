"""SClip-EF-Network: smoothed clipping with error feedback (Yu, Jakovetić, Kar 2023, arXiv 2310.16920)::

    M_{t+1} = β_t M_t + (1−β_t) ψ_t(G_t − M_t)        ψ_t(u) = φ_t u / sqrt(u² + ε_t)  (per coordinate)
    X_{t+1} = W (X_t − α_t M_{t+1})

with ``α_t = α₀/(t+1)^a``, ``β_t = β₀/(t+1)^b``, ``φ_t = φ₀/(t+1)^c``, ``ε_t = ε₀(t+1)^e`` and the
published exponents a = 0.2, b = 0.5, c = 0.5, e = 0.6 as defaults (``lr`` = α₀, ``beta`` = β₀).
"""

from __future__ import annotations

import torch

from ...operators import smoothed_clip
from ...validation import check_positive, check_range, check_step_size
from ..base import ALGORITHMS, Algorithm, Oracle, State


@ALGORITHMS.register("sclip-ef")
class SClipEF(Algorithm):
    """SClip-EF-Network: error-feedback momentum of smoothly clipped innovations."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.1,
        beta: float = 0.9,
        phi: float = 1.0,
        eps: float = 1.0,
        lr_power: float = 0.2,
        beta_power: float = 0.5,
        phi_power: float = 0.5,
        eps_power: float = 0.6,
    ):
        self.lr = check_step_size("lr", lr, self.name)
        self.beta = check_range("beta", beta, 0.0, 1.0, owner=self.name)
        self.phi = check_positive("phi", phi, self.name)
        self.eps = check_positive("eps", eps, self.name)
        self.lr_power, self.beta_power = lr_power, beta_power
        self.phi_power, self.eps_power = phi_power, eps_power

    def init(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "m": torch.zeros_like(x0)}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        k = t + 1.0
        alpha, beta = self.lr / k**self.lr_power, self.beta / k**self.beta_power
        phi, eps = self.phi / k**self.phi_power, self.eps * k**self.eps_power
        g = grad(s["x"])
        m = beta * s["m"] + (1.0 - beta) * smoothed_clip(g - s["m"], phi, eps)
        return {"x": comm.mix(s["x"] - alpha * m), "m": m}
