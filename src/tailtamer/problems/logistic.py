"""Synthetic binary logistic regression, optionally with a nonconvex regulariser."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..validation import check_nonneg
from .base import PROBLEMS
from .synthetic import SyntheticProblem, check_int, data_rng, shard_indices


@PROBLEMS.register("logistic")
class Logistic(SyntheticProblem):
    """``f_i(x) = (1/m) Σ_{k∈shard i} log(1 + exp(−y_k a_kᵀx)) + reg · Σ_j x_j²/(1 + x_j²)``.

    Data (a function of ``data_seed`` only): ``a_k ~ N(0, I_d)``, ``w_true ~ N(0, I_d)``; labels
    ``y_k ∈ {−1, +1}`` with ``P(y_k = 1) = σ(a_kᵀ w_true)`` (logistic link), or ``y_k = sign(a_kᵀ w_true)``
    when ``separable`` (then with ``reg = 0`` no minimiser exists). The regulariser is the smooth nonconvex
    penalty of the nonconvex-logistic benchmarks (e.g. Antonakopoulos et al.); ``reg = 0`` disables it.
    Shards as in E1 (``split``: contiguous or iid). x0 = 0; no closed-form x*, so the headline metric is
    ``grad_norm``. The softplus and sigmoid are the numerically stable torch ones.

    Example:
        >>> p = Logistic(n=10, samples=100, dim=3)
        >>> p.local_loss(p.x0().expand(10, 3), torch.arange(10)).tolist()[0] == float(np.log(2))
        True
    """

    def __init__(
        self,
        n: int,
        samples: int = 1000,
        dim: int = 10,
        data_seed: int = 0,
        reg: float = 0.0,
        separable: bool = False,
        split: str = "contiguous",
    ):
        super().__init__(n, dim)
        owner = "logistic"
        self.samples = check_int("samples", samples, 1, owner)
        self.data_seed = check_int("data_seed", data_seed, 0, owner)
        self.reg = float(check_nonneg("reg", reg, owner=owner))
        self.separable = bool(separable)
        gen = data_rng(self.data_seed, "logistic")
        features = gen.standard_normal((self.samples, self.dim))
        self.w_true = gen.standard_normal(self.dim)
        logits = features @ self.w_true
        u = gen.random(self.samples)
        positive = logits > 0 if self.separable else u < 0.5 * (1.0 + np.tanh(0.5 * logits))  # σ, overflow-free
        labels = np.where(positive, 1.0, -1.0)
        self.shards = shard_indices(self.samples, self.n, split, gen, owner)
        self.features, self.labels = features, labels
        self.store(yA=(labels[:, None] * features)[self.shards])  # [n, m, d]: y_k a_k

    def margins(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """``y_k a_kᵀ x_i`` over each row's local samples, ``[n_local, m]``."""
        return torch.einsum("nmd,nd->nm", self.data("yA", x)[self.rows(nodes, x)], x)

    def penalty(self, x: torch.Tensor) -> torch.Tensor:
        """The regulariser of every row, ``reg · Σ_j x_j²/(1 + x_j²)``, ``[rows]``."""
        return self.reg * (x * x / (1.0 + x * x)).sum(1)

    def penalty_grad(self, x: torch.Tensor) -> torch.Tensor:
        """Its gradient, ``reg · 2x/(1 + x²)²`` element-wise."""
        return self.reg * 2.0 * x / (1.0 + x * x) ** 2

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return F.softplus(-self.margins(x, nodes)).mean(1) + self.penalty(x)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        yA = self.data("yA", x)[self.rows(nodes, x)]
        weights = -torch.sigmoid(-self.margins(x, nodes))  # d softplus(−t)/dt
        return torch.einsum("nm,nmd->nd", weights, yA) / yA.shape[1] + self.penalty_grad(x)

    def stacked_margins(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`margins` of R stacked runs at once, ``[n, m, R]`` (``x``: ``[R·n, d]``, member r's node i on
        row ``r·n + i``): one product ``(yA)_i X_iᵀ`` per node, no copy of the data per member."""
        return torch.bmm(self.data("yA", x), self.node_major(x))

    def stacked_loss(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_loss` of R stacked runs at once, ``[R·n]``."""
        return F.softplus(-self.stacked_margins(x)).mean(1).t().reshape(-1) + self.penalty(x)

    def stacked_grad(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`local_grad` of R stacked runs at once, ``[R·n, d]``."""
        yA = self.data("yA", x)
        weights = -torch.sigmoid(-self.stacked_margins(x))  # [n, m, R]
        return self.member_major(torch.bmm(yA.transpose(1, 2), weights) / yA.shape[1]) + self.penalty_grad(x)
