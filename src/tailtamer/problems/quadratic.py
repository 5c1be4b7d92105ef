"""Heterogeneous quadratics with diagonal Hessians: ``f_i(x) = ½(x − b_i)ᵀ H_i (x − b_i)``."""

from __future__ import annotations

import numpy as np
import torch

from ..validation import check_nonneg, check_range
from .base import PROBLEMS
from .synthetic import SyntheticProblem, check_int, data_rng


@PROBLEMS.register("quadratic")
class Quadratic(SyntheticProblem):
    """Heterogeneous quadratics, ``H_i = diag(h_i)``, so all n gradients ``h_i ⊙ (x_i − b_i)`` are one
    element-wise expression (n = d = 1000 is two ``[n, d]`` arrays).

    Data (a function of ``data_seed`` and n only):

    * the *average* Hessian is ``diag(λ)`` with λ log-spaced in ``[1, condition]`` (μ = 1, L = condition,
      so κ(f) = condition exactly);
    * ``h_i = λ ⊙ s_i`` with positive factors ``s_ij ∝ exp(hessian_spread · z_ij)``, z ~ N(0, 1), normalised
      so that ``mean_i s_ij = 1`` for every j (individual f_i may be steeper than L);
    * ``b_i = center + heterogeneity · ε_i`` with ``center, ε_i ~ N(0, I)``.

    ``heterogeneity = hessian_spread = 0`` gives identical f_i; ``heterogeneity = 0`` alone gives f_i with a
    common minimiser. x0 = 0; ``x* = (Σ H_i)⁻¹ Σ H_i b_i`` (element-wise since diagonal).

    Example:
        >>> p = Quadratic(n=8, dim=5)
        >>> p.local_grad(p.x_star.expand(8, 5), torch.arange(8)).mean(0).abs().max().item() < 1e-12
        True
    """

    def __init__(
        self,
        n: int,
        dim: int = 10,
        condition: float = 10.0,
        heterogeneity: float = 1.0,
        hessian_spread: float = 0.5,
        data_seed: int = 0,
    ):
        super().__init__(n, dim)
        owner = "quadratic"
        self.condition = float(check_range("condition", condition, 1.0, None, owner=owner))
        self.heterogeneity = float(check_nonneg("heterogeneity", heterogeneity, owner=owner))
        self.hessian_spread = float(check_nonneg("hessian_spread", hessian_spread, owner=owner))
        self.data_seed = check_int("data_seed", data_seed, 0, owner)
        gen = data_rng(self.data_seed, "quadratic")
        center = gen.standard_normal(self.dim)
        b = center + self.heterogeneity * gen.standard_normal((self.n, self.dim))
        s = np.exp(self.hessian_spread * gen.standard_normal((self.n, self.dim)))
        self.eigenvalues = np.logspace(0.0, np.log10(self.condition), self.dim)
        h = self.eigenvalues * (s / s.mean(0))
        self.store(h=h, b=b)  # [n, d] each
        self.set_x_star((h * b).sum(0) / h.sum(0))

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        idx = self.rows(nodes, x)
        e = x - self.data("b", x)[idx]
        return 0.5 * (self.data("h", x)[idx] * e * e).sum(1)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        idx = self.rows(nodes, x)
        return self.data("h", x)[idx] * (x - self.data("b", x)[idx])

    def stacked_loss(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_loss` of R stacked runs at once (``x``: ``[R·n, d]``, member r's node i on row
        ``r·n + i``), ``[R·n]``: the node data broadcast over the members, not gathered for every row."""
        e = x.reshape(-1, self.n, self.dim) - self.data("b", x)
        return (0.5 * (self.data("h", x) * e * e).sum(2)).reshape(-1)

    def stacked_grad(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_grad` of R stacked runs at once, ``[R·n, d]`` (the same element-wise operations)."""
        return (self.data("h", x) * (x.reshape(-1, self.n, self.dim) - self.data("b", x))).reshape(x.shape)
