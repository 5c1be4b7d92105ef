"""Symmetric Pareto (Lomax) noise: ξ = ±scale · ((1 − U)^(−1/c) − 1), a random sign times Lomax(c).

Lomax 1954 (*Business failures: another example of the analysis of failure data*, JASA 49:847–852) is
the Pareto type II law with support [0, ∞): ``P(|ξ| > x) = (1 + x/scale)^(−c)``, so ``E|ξ|^q < ∞`` iff q < c.
It is sampled by inversion. ``scipy.stats`` has no symmetric Lomax, so :func:`symmetric_lomax` defines
one (density ``½·lomax.pdf(|x|)``) for tests and plots; ``scipy.stats.lomax(c, scale=scale)`` is the law of ``|ξ|``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.stats
import torch

from . import _draws
from .base import NOISES, NoiseModel, check_finite_positive, check_has_mean, moments_from_tail


class _SymmetricLomax(scipy.stats.rv_continuous):
    """Symmetric Lomax with shape c: density ``½·c·(1 + |x|)^(−c−1)`` on the real line."""

    def _pdf(self, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        return 0.5 * c * (1.0 + np.abs(x)) ** (-c - 1.0)

    def _cdf(self, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        tail = 0.5 * (1.0 + np.abs(x)) ** (-c)
        return np.where(x < 0, tail, 1.0 - tail)

    def _ppf(self, q: np.ndarray, c: np.ndarray) -> np.ndarray:
        m = np.expm1(-np.log(2.0 * np.minimum(q, 1.0 - q)) / c)
        return np.where(q < 0.5, -m, m)


#: ``symmetric_lomax(c, scale=s)`` is the law of ``pareto(shape=c, scale=s)`` as a scipy distribution.
symmetric_lomax = _SymmetricLomax(name="symmetric_lomax")


@NOISES.register("pareto")
class ParetoNoise(NoiseModel):
    """Symmetric Pareto / Lomax noise: a random sign times Lomax(shape, scale) (zero mean if shape > 1).

    Args:
        shape: tail index c > 1 (``E|ξ|^q < ∞`` iff q < c; c ≤ 2: infinite variance; c ≤ 1 has no mean
            and is refused unless ``allow_no_mean``).
        scale: scale > 0.
        allow_no_mean: accept 0 < c ≤ 1 (a law without a mean, for stress tests, like ``cauchy``).
    """

    name = "pareto"
    draws_from_row_keys = True

    def __init__(self, shape: float = 2.0, scale: float = 1.0, allow_no_mean: bool = False) -> None:
        self.shape = check_has_mean(
            "shape", check_finite_positive("shape", shape, owner=self.name), self.name, allow_no_mean
        )
        self.scale = check_finite_positive("scale", scale, owner=self.name)
        self.allow_no_mean = bool(allow_no_mean)

    def standard(self, seed: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
        magnitude = _draws.uniform(seed, 0, nodes, step, d, call).log_().mul_(-1.0 / self.shape).expm1_()
        sign = _draws.uniform(seed, 1, nodes, step, d, call) < 0.5
        return torch.where(sign, -magnitude, magnitude)

    def moments(self) -> dict[str, Any]:
        return moments_from_tail(self.shape)

    def scipy(self) -> Any:
        """The frozen :data:`symmetric_lomax` (``|ξ|`` is ``scipy.stats.lomax(shape, scale=scale)``)."""
        return symmetric_lomax(self.shape, scale=self.scale)
