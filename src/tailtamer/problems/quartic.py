"""The (L0, L1)-smooth quartic ``f(x) = Σ_j x_j⁴/4`` on every node (docs/compression.md).

Source: Compagnoni, Islamov, Orvieto, Gorbunov (arXiv 2506.00181): it is (3, 3)-smooth but not L-smooth,
so fixed-step (compressed) SGD can diverge where sign and adaptive steps converge.
"""

from __future__ import annotations

import math

import torch

from ..errors import ValidationError
from .base import PROBLEMS
from .synthetic import SyntheticProblem


@PROBLEMS.register("quartic")
class Quartic(SyntheticProblem):
    """Homogeneous quartic ``f_i(x) = Σ_j x_j⁴/4`` (∇f_i = x³ element-wise); x0 = ``x0``·1, x* = 0.

    Example:
        >>> p = Quartic(n=2, dim=3)
        >>> p.local_grad(p.x0().expand(2, 3), torch.arange(2)).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, n: int, dim: int = 10, x0: float = 1.0):
        super().__init__(n, dim)
        if not math.isfinite(x0):
            raise ValidationError(f"quartic: x0 must be a finite number, got {x0!r}")
        self.set_x0(float(x0))
        self.set_x_star(0.0)

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return (x**4).sum(1) / 4.0

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return x**3
