"""Nonconvex linear regression on tokenized synthetic data with Tukey's biweight loss (docs/e1.md).

Source: Yu, Jakovetić, Kar, *Decentralized Nonconvex Optimization under Heavy-Tailed Noise: Normalization
and Optimal Convergence* (arXiv 2505.03736), synthetic experiment.
"""

from __future__ import annotations

import numpy as np
import torch

from ..validation import check_positive
from .base import PROBLEMS
from .synthetic import SyntheticProblem, check_int, data_rng, shard_indices

#: Bernoulli probabilities of the token indicators: 2 columns at 0.9, 2 at 0.5, the rest at 0.1.
TOKEN_PROBS = (0.9, 0.9, 0.5, 0.5)
RARE_PROB = 0.1


def token_probs(dim: int) -> np.ndarray:
    """Per-column Bernoulli probability ``[dim]``: 0.9, 0.9, 0.5, 0.5, then 0.1 (truncated if dim < 4)."""
    return np.array((TOKEN_PROBS + (RARE_PROB,) * dim)[:dim])


def tukey(r: torch.Tensor, c: float) -> torch.Tensor:
    """Tukey's biweight ``ρ_c(r) = c²/6·[1 − (1 − (r/c)²)³]`` for ``|r| < c``, ``c²/6`` otherwise (≤ c²/6)."""
    u = torch.clamp(1.0 - (r / c) ** 2, min=0.0)
    return c * c / 6.0 * (1.0 - u**3)


def tukey_prime(r: torch.Tensor, c: float) -> torch.Tensor:
    """``ρ'_c(r) = r·(1 − (r/c)²)²`` for ``|r| < c``, 0 otherwise (one buffer, worked in place: the same bits as
    ``r * clamp(1 − (r/c)², 0)²``, since −s + 1 = 1 − s and products commute exactly)."""
    u = torch.div(r, c).square_().neg_().add_(1.0).clamp_(min=0.0)
    return u.square_().mul_(r)


@PROBLEMS.register("tokenized-regression")
class TokenizedRegression(SyntheticProblem):
    """Linear regression (no bias) on Bernoulli token features with Tukey's biweight loss (E1).

    Data (a function of ``data_seed`` only): ``X ∈ {0,1}^{samples×dim}`` with columns 1–2 ~ Bern(0.9),
    3–4 ~ Bern(0.5), the rest ~ Bern(0.1); ``w* ~ N(0, I)``; ``y = X w*`` (no label noise). Node i holds
    the i-th of n equal shards (``split="contiguous"``: samples ``i·m … i·m+m−1``; ``"iid"``: after a
    seeded shuffle). ``f_i(x) = (1/m) Σ_{k∈shard i} ρ_c(a_kᵀx − y_k)``; x0 = 0; ``x_star = w*`` (f ≥ 0 and
    f(w*) = 0). The defaults are the paper's: 1000 samples, d = 20, c = 4.6851 (use n = 20).

    Example:
        >>> p = TokenizedRegression(n=20)
        >>> p.local_grad(p.x_star.expand(20, 20), torch.arange(20)).abs().max().item() < 1e-12
        True
    """

    def __init__(
        self,
        n: int,
        samples: int = 1000,
        dim: int = 20,
        c: float = 4.6851,
        data_seed: int = 0,
        split: str = "contiguous",
    ):
        super().__init__(n, dim)
        owner = "tokenized-regression"
        self.samples = check_int("samples", samples, 1, owner)
        self.c = float(check_positive("c", c, owner=owner))
        self.data_seed = check_int("data_seed", data_seed, 0, owner)
        self.split = split
        gen = data_rng(self.data_seed, "tokenized-regression")
        features = (gen.random((self.samples, self.dim)) < token_probs(self.dim)).astype(np.float64)
        w_star = gen.standard_normal(self.dim)
        self.shards = shard_indices(self.samples, self.n, split, gen, owner)  # [n, m] sample ids
        self.features, self.labels = features, features @ w_star  # global data (numpy)
        self.store(A=features[self.shards], y=self.labels[self.shards])  # [n, m, d], [n, m]
        self.set_x_star(w_star)

    def residuals(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """``r_{ik} = a_kᵀ x_i − y_k`` over each row's local samples, ``[n_local, m]``."""
        idx = self.rows(nodes, x)
        return torch.einsum("nmd,nd->nm", self.data("A", x)[idx], x) - self.data("y", x)[idx]

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return tukey(self.residuals(x, nodes), self.c).mean(1)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        idx = self.rows(nodes, x)
        weights = tukey_prime(self.residuals(x, nodes), self.c)  # [n_local, m]
        return torch.einsum("nm,nmd->nd", weights, self.data("A", x)[idx]) / weights.shape[1]

    def stacked_residuals(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`residuals` of R stacked runs at once, ``[n, m, R]``: ``x`` is ``[R·n, d]`` (member r's node i
        on row ``r·n + i``, :mod:`tailtamer.engine.stacked.loop`). Per node i, the R members' residuals are one
        product ``A_i X_iᵀ`` (``[m, d] × [d, R]``), with no copy of the data per member."""
        return torch.bmm(self.data("A", x), self.node_major(x)) - self.data("y", x).unsqueeze(2)

    def stacked_loss(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_loss` of R stacked runs at once (layout of :meth:`stacked_residuals`), ``[R·n]``."""
        return tukey(self.stacked_residuals(x), self.c).mean(1).t().reshape(-1)

    def stacked_grad(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_grad` of R stacked runs at once (layout of :meth:`stacked_residuals`), ``[R·n, d]``."""
        weights = tukey_prime(self.stacked_residuals(x), self.c)  # [n, m, R]
        return self.member_major(torch.bmm(self.data("A", x).transpose(1, 2), weights) / weights.shape[1])
