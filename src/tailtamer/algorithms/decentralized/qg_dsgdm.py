"""QG-DSGDm: quasi-global momentum (Lin, Karimireddy, Stich, Jaggi, ICML 2021)::

    M_t      = μ M̂_{t−1} + G_t
    X^{½}    = X_t − η_t D_t            D_t = M_t   (or G_t + μ M_t with ``nesterov = true``, a choice)
    X_{t+1}  = W X^{½}
    M̂_t      = μ M̂_{t−1} + (1−μ)(X_t − X_{t+1}) / η_t

``beta`` is μ.
"""

from __future__ import annotations

from typing import Any

import torch

from ...schedules import make_lr
from ...validation import check_range
from ..base import ALGORITHMS, Algorithm, Oracle, State


@ALGORITHMS.register("qg-dsgdm")
class QGDSGDm(Algorithm):
    """QG-DSGDm: momentum buffer built from the model difference after gossip."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        beta: float = 0.9,
        nesterov: bool = False,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)
        self.beta = check_range("beta", beta, 0.0, 1.0, hi_open=True, owner=self.name)
        self.nesterov = nesterov

    def init(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "m_hat": torch.zeros_like(x0)}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        eta, mu = self._lr(t), self.beta
        g = grad(s["x"])
        m = mu * s["m_hat"] + g
        direction = g + mu * m if self.nesterov else m
        x = comm.mix(s["x"] - eta * direction)
        m_hat = mu * s["m_hat"] + (1.0 - mu) * (s["x"] - x) / eta
        return {"x": x, "m_hat": m_hat}
