"""The gradient oracle a training wrapper hands to an algorithm's step: the one gradient ``backward()`` left."""

from __future__ import annotations

from typing import Any

import torch

from ...rng import Randomness
from .guard import SetupError


class BackwardOracle:
    """``grad(x)`` returns ``g`` once (a second call is refused: there is no other gradient); ``rng`` is the step's
    counter-based randomness (random compressors), ``problem.layout`` where a layout is known (PowerSGD)."""

    def __init__(self, g: torch.Tensor, rng: Randomness, method: str, problem: Any = None):
        self.g, self.rng, self.method, self.problem, self.calls = g, rng, method, problem, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 1:
            raise SetupError(
                f"'{self.method}' asks for several gradients per step; a training script has only "
                f"the one computed by backward()"
            )
        return self.g
