"""GT-DSGD: gradient tracking (Pu & Nedić 2021; Xin, Khan, Kar 2021).

With ``Y₋₁ = G₋₁ = 0``::

    Y_t     = W (Y_{t−1} + G_t − G_{t−1})
    X_{t+1} = W (X_t − α Y_t)
"""

from __future__ import annotations

from typing import Any

import torch

from ...operators import track
from ...schedules import make_lr
from ..base import ALGORITHMS, Algorithm, Oracle, State


@ALGORITHMS.register("gt-dsgd")
class GTDSGD(Algorithm):
    """GT-DSGD: tracked gradient, plain step, two gossips per step."""

    def __init__(self, steps: int, lr: float = 0.01, schedule: str | dict[str, Any] = "constant", warmup: int = 0):
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        zeros = torch.zeros_like(x0)
        return {"x": x0.clone(), "y": zeros, "g": zeros.clone()}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        y = track(comm.mix, s["y"], g, s["g"])
        x = comm.mix(s["x"] - self._lr(t) * y)
        return {"x": x, "y": y, "g": g}
