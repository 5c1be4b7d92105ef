"""Heavy-tailed gradient noise models (the laws of the GT-NSGDm paper's experiments, arXiv 2505.03736),
registered by name in :data:`NOISES`.

``none``, ``gaussian``, ``student-t``, ``alpha-stable``, ``pareto``, ``cauchy``. Every draw is a pure
function of (seed, node, step, call) built on :mod:`tailtamer.rng`.

Example:
    >>> import torch
    >>> noise = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5})
    >>> noise.sample(seed=0, nodes=torch.arange(2), step=0, d=3).shape
    torch.Size([2, 3])
    >>> noise.moments()
    {'mean': True, 'variance': False, 'max_moment': 1.5}
"""

from __future__ import annotations

from typing import Any

from . import pareto, simple, stable, student_t  # noqa: F401  (registers the models)
from .base import NOISE_STREAM, NOISES, NoiseModel
from .pareto import ParetoNoise, symmetric_lomax
from .simple import CauchyNoise, GaussianNoise, NoNoise
from .stable import AlphaStableNoise
from .student_t import StudentTNoise

__all__ = [
    "NOISES",
    "NOISE_STREAM",
    "NoiseModel",
    "build_noise",
    "NoNoise",
    "GaussianNoise",
    "CauchyNoise",
    "StudentTNoise",
    "AlphaStableNoise",
    "ParetoNoise",
    "symmetric_lomax",
]


def build_noise(name: str, params: dict[str, Any] | None = None) -> NoiseModel:
    """Build the noise model ``name`` from ``params`` (unknown names/keys: ConfigError with a suggestion;
    out-of-range values: ValidationError naming the parameter)."""
    return NOISES.build(name, params or {}, section="noise")
