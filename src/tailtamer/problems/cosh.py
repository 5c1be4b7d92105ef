"""An (L0, L1)-smooth test problem besides the quartic: ``f(x) = Σ_j cosh(x_j)`` on every node.

Its Hessian is diag(cosh x_j) and its gradient (sinh x_j), and ``cosh t ≤ 1 + |sinh t|``, so
``‖∇²f(x)‖₂ = max_j cosh x_j ≤ 1 + max_j |sinh x_j| ≤ 1 + ‖∇f(x)‖``: it is (L0, L1) = (1, 1)-smooth
(Zhang, He, Sra, Jadbabaie 2020, the (L0, L1) condition), and not L-smooth for any L (cosh grows without
bound). Unlike the quartic's, its curvature at the minimum is 1, not 0. Minimum x* = 0, f* = d.
"""

from __future__ import annotations

import math

import torch

from ..errors import ValidationError
from .base import PROBLEMS
from .synthetic import SyntheticProblem


@PROBLEMS.register("cosh")
class Cosh(SyntheticProblem):
    """Homogeneous ``f_i(x) = Σ_j cosh(x_j)`` (∇f_i = sinh x), (1, 1)-smooth; x0 = ``x0``·1, x* = 0.

    Example:
        >>> p = Cosh(n=1, dim=2, x0=0.0)
        >>> p.local_grad(p.x0().unsqueeze(0), torch.arange(1)).tolist(), Cosh.smoothness
        ([[0.0, 0.0]], (1.0, 1.0))
    """

    #: (L0, L1) of the (L0, L1)-smoothness condition ‖∇²f‖ ≤ L0 + L1‖∇f‖.
    smoothness = (1.0, 1.0)

    def __init__(self, n: int, dim: int = 10, x0: float = 2.0):
        super().__init__(n, dim)
        if not math.isfinite(x0):
            raise ValidationError(f"cosh: x0 must be a finite number, got {x0!r}")
        self.set_x0(float(x0))
        self.set_x_star(0.0)

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return torch.cosh(x).sum(1)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return torch.sinh(x)
