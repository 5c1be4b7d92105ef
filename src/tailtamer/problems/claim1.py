"""The Claim 1 counterexample: naive normalized DSGD never moves.

Source: Yu, Jakovetić, Kar (arXiv 2505.03736), Claim 1.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import ValidationError
from ..validation import check_positive, check_range
from .base import PROBLEMS
from .synthetic import SyntheticProblem


@PROBLEMS.register("claim1")
class Claim1(SyntheticProblem):
    """d = 1, n even, ``f_i(x) = ½(x − a_i)²`` with ``a_i = 0`` on nodes ``0 … n/2−1`` and ``A`` on the rest.

    The optimum is ``x* = A/2``. All nodes start at ``x0 ∈ (0, A)``, where the local gradients are
    ``x0 > 0`` and ``x0 − A < 0``: normalized they are +1 and −1 and cancel, so DSGD-N stays at x0 with
    ``‖∇f‖ = A/2 − x0`` forever, while GT-NSGDm converges. Paper example: n = 20, A = 10, x0 = 0.5.

    Example:
        >>> p = Claim1(n=4)
        >>> p.local_grad(torch.full((4, 1), 0.5, dtype=torch.float64), torch.arange(4)).flatten().tolist()
        [0.5, 0.5, -9.5, -9.5]
    """

    def __init__(self, n: int, A: float = 10.0, x0: float = 0.5):
        super().__init__(n, 1)
        if self.n % 2:
            raise ValidationError(f"claim1: n must be even (half the nodes at 0, half at A), got n = {n}")
        self.A = float(check_positive("A", A, owner="claim1"))
        self.start = float(check_range("x0", x0, 0.0, self.A, lo_open=True, hi_open=True, owner="claim1"))
        self.store(a=np.where(np.arange(self.n) < self.n // 2, 0.0, self.A)[:, None])  # [n, 1]
        self.set_x0(self.start)
        self.set_x_star(self.A / 2)

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return 0.5 * ((x - self.data("a", x)[self.rows(nodes, x)]) ** 2).sum(1)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return x - self.data("a", x)[self.rows(nodes, x)]
