"""Light-tailed and reference noise: ``none``, ``gaussian`` and ``cauchy``.

Cauchy noise (the α = 1 stable law, no mean) is for stress tests.
"""

from __future__ import annotations

import math
from typing import Any

import scipy.stats
import torch

from .. import rng
from . import _draws
from .base import NOISE_STREAM, NOISES, NoiseModel, check_finite_positive, moments_from_tail


@NOISES.register("none")
class NoNoise(NoiseModel):
    """No injected noise: ξ = 0 (every moment exists)."""

    name = "none"
    draws_from_row_keys = True

    def __init__(self) -> None:
        pass

    def sample(
        self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0, dtype: torch.dtype = torch.float64
    ) -> torch.Tensor:
        nodes = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
        return torch.zeros(len(nodes), d, dtype=dtype, device=nodes.device)

    def moments(self) -> dict[str, Any]:
        return {"mean": True, "variance": True, "max_moment": math.inf}

    def scipy(self) -> None:
        return None


@NOISES.register("gaussian")
class GaussianNoise(NoiseModel):
    """Gaussian noise ξ ~ N(0, scale²), by the Box–Muller transform in :func:`tailtamer.rng.normal`.

    Args:
        scale: standard deviation σ > 0.
    """

    name = "gaussian"
    draws_from_row_keys = True

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = check_finite_positive("scale", scale, owner=self.name)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        return rng.normal(seed, NOISE_STREAM, nodes, step, d, call)

    def moments(self) -> dict[str, Any]:
        return {"mean": True, "variance": True, "max_moment": math.inf}

    def scipy(self) -> Any:
        return scipy.stats.norm(loc=0.0, scale=self.scale)


@NOISES.register("cauchy")
class CauchyNoise(NoiseModel):
    """Cauchy noise ξ = scale · tan(π(U − ½)) (inverse CDF; no mean, ``E|ξ|^q < ∞`` iff q < 1).

    Args:
        scale: half-width at half-maximum > 0.
    """

    name = "cauchy"
    draws_from_row_keys = True

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = check_finite_positive("scale", scale, owner=self.name)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        u = _draws.uniform(seed, 0, nodes, step, d, call)
        return torch.tan(math.pi * (u - 0.5))

    def moments(self) -> dict[str, Any]:
        return moments_from_tail(1.0)

    def scipy(self) -> Any:
        return scipy.stats.cauchy(loc=0.0, scale=self.scale)
