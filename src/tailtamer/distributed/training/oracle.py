"""The gradient oracle a training wrapper hands to an algorithm's step: the one gradient ``backward()`` left."""

from __future__ import annotations

from typing import Any

import torch

from ...rng import Randomness
from .guard import SetupError


class BackwardOracle:
    """``grad(x)`` returns ``g`` once (a second call is refused: there is no other gradient); ``rng`` is the step's
    counter-based randomness (random compressors), ``layout`` the parameters' layout where known (PowerSGD)."""

    def __init__(self, g: torch.Tensor, rng: Randomness, method: str, layout: Any = None):
        self.g, self.rng, self.method, self.layout, self.calls = g, rng, method, layout, 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls > 1:
            raise SetupError(
                f"'{self.method}' asks for several gradients per step; a training script has only "
                f"the one computed by backward()"
            )
        return self.g

    def exact_grad(self, x: torch.Tensor) -> torch.Tensor:
        """Refused: a training script has no noiseless gradient (the oracle step rules need one)."""
        raise SetupError(
            f"'{self.method}' asks for the exact gradient (the 'oracle' step rule); a training "
            f"script has only the stochastic one computed by backward()"
        )
