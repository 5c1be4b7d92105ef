"""GT-Clip: gradient tracking of per-node clipped stochastic gradients. With ``Y₋₁ = C₋₁ = 0``::

    C_t     = clip_γ(G_t)                      (per-node L2 clipping to radius γ)
    Y_t     = W (Y_{t−1} + C_t − C_{t−1})      (tracks the mean of the clipped gradients)
    X_{t+1} = W (X_t − α Y_t)

It builds on GT-DSGD (Pu & Nedić, "Distributed stochastic gradient tracking methods", Math. Program. 2021;
Xin, Khan & Kar, IEEE TSP 2021), whose tracked quantity it replaces by clipped gradients as DSGD-Clip clips
plain DSGD's (Sun & Chen, arXiv 2312.15847, 2024): tracking keeps ``mean(Y_t) = mean(C_t)`` for a doubly
stochastic W, while clipping bounds what one heavy-tailed draw can inject. Clipping biases the tracked
direction (γ large recovers GT-DSGD); compare it with ``gt-nsgdm`` (Yu, Jakovetić & Kar, arXiv 2505.03736),
which normalizes a tracked momentum instead. An example of the algorithm contract, not a published method.
"""

from __future__ import annotations

from typing import Any

import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.algorithms.base import Algorithm, Oracle, State
from tailtamer.operators import clip_rows, track
from tailtamer.schedules import make_lr
from tailtamer.validation import check_positive


@ALGORITHMS.register("gt-clip")
class GTClip(Algorithm):
    """GT-Clip: gradient tracking of per-node clipped gradients (an example plugin).

    Args:
        steps: the horizon T (given by the engine).
        lr: step size α > 0.
        gamma: clipping radius γ > 0.
        schedule, warmup: the step-size schedule (:func:`tailtamer.schedules.make_lr`).
    """

    family = "decentralized"
    requires = "doubly_stochastic"

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        gamma: float = 1.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)  # refuses lr ≤ 0, ∞ and NaN
        self.gamma = check_positive("gamma", gamma, owner=self.name)

    def init(self, x0: torch.Tensor, comm) -> State:
        zeros = torch.zeros_like(x0)
        return {"x": x0.clone(), "y": zeros, "c": zeros.clone()}

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        c = clip_rows(grad(s["x"]), self.gamma)
        y = track(comm.mix, s["y"], c, s["c"])
        return {"x": comm.mix(s["x"] - self._lr(t) * y), "y": y, "c": c}
