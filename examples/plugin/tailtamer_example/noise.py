"""Tukey's contaminated Gaussian: ξ ~ N(0, σ²) with probability 1 − ε, else N(0, (kσ)²) (Tukey, "A survey of
sampling from contaminated distributions", 1960; Huber's ε-contamination model of outliers).

Every draw comes from :mod:`tailtamer.rng` with the ``seed`` and ``nodes`` it is given (two streams: the
normal and the mixture indicator), so the model declares ``draws_from_row_keys``: the engine may draw several
steps or stacked members in one call. A model that reads ``nodes`` as node ids into its own data, or keeps
state, must leave it False (the default), and is then called one step at a time.
"""

from __future__ import annotations

import math
from typing import Any

import scipy.stats
import torch

from tailtamer import rng
from tailtamer.noise import NOISE_STREAM, NOISES, NoiseModel
from tailtamer.validation import check_positive, check_range


class _Contaminated(scipy.stats.rv_continuous):
    """The law as a scipy distribution (its CDF is what ``tailtamer check`` tests the draws against)."""

    def _cdf(self, x: Any, eps: float, k: float) -> Any:
        return (1 - eps) * scipy.stats.norm.cdf(x) + eps * scipy.stats.norm.cdf(x / k)


@NOISES.register("contaminated")
class ContaminatedNoise(NoiseModel):
    """Contaminated Gaussian noise: N(0, σ²) w.p. 1 − ε, N(0, (kσ)²) w.p. ε (all moments finite).

    Args:
        scale: σ > 0.
        eps: contamination probability ε in [0, 1].
        k: outlier scale factor k ≥ 1.
    """

    draws_from_row_keys = True

    def __init__(self, scale: float = 1.0, eps: float = 0.05, k: float = 10.0) -> None:
        self.scale = check_positive("scale", scale, owner=self.name)
        self.eps = check_range("eps", eps, 0.0, 1.0, owner=self.name)
        self.k = check_range("k", k, 1.0, math.inf, hi_open=True, owner=self.name)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        z = rng.normal(seed, NOISE_STREAM, nodes, step, d, call)
        outlier = rng.uniform(seed, "noise-contamination", nodes, step, d, call) < self.eps
        return torch.where(outlier, z * self.k, z)

    def moments(self) -> dict[str, Any]:
        return {"mean": True, "variance": True, "max_moment": math.inf}

    def scipy(self) -> Any:
        return _Contaminated(name="contaminated")(self.eps, self.k, scale=self.scale)
