"""Least squares with shared data, as in Mishchenko, Bach, Even, Woodworth (NeurIPS 2022,
``konstmish/asynchronous_sgd``): every node (worker) samples minibatches from the same N rows.

``f(x) = (1/2N)‖Ax − b‖²`` with ``A ~ U[0, 1]/√d`` (``[N, d]``), ``x_true ~ N(0, I)`` and
``b = A x_true + label_noise·N(0, I)``; each node's f_i is f. A gradient call draws ``batch`` rows with
replacement (``batch = 0``: the full gradient), a pure function of (seed, node, step, call) — in the
asynchronous engine step is the worker's job index. Metrics add ``gap = f(x̄) − f*`` (f* from the
least-squares solution x*) in front of the synthetic ones.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..comm.base import Comm
from ..rng import uniform
from ..validation import check_nonneg
from .base import PROBLEMS
from .synthetic import SyntheticProblem, check_int, data_rng


@functools.lru_cache(maxsize=2)
def _data(
    dim: int, samples: int, label_noise: float, data_seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """``(A, b, x*, f*)``, computed once per process for each setting: the least-squares solve of the default
    10,000 × 400 system takes seconds on a loaded core, far more than a short asynchronous run of it (the
    arrays are read-only, so every problem built from them sees the same numbers)."""
    gen = data_rng(data_seed, "least-squares")
    A = gen.random((samples, dim)) / np.sqrt(dim)
    b = A @ gen.standard_normal(dim) + label_noise * gen.standard_normal(samples)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    for a in (A, b, x_star):
        a.flags.writeable = False
    return A, b, x_star, float(0.5 * np.mean((A @ x_star - b) ** 2))


@PROBLEMS.register("least-squares")
class LeastSquares(SyntheticProblem):
    """Shared-data least squares (Mishchenko et al. 2022): d = 400, N = 10 000 rows by default; batch 32."""

    #: every node samples from the same rows, and its minibatch is drawn by tailtamer.rng alone
    grad_takes_row_seeds = True

    def __init__(
        self,
        n: int,
        dim: int = 400,
        samples: int = 10000,
        batch: int = 32,
        label_noise: float = 0.0,
        data_seed: int = 0,
    ):
        super().__init__(n, dim)
        owner = "least-squares"
        self.samples = check_int("samples", samples, 1, owner)
        self.batch = check_int("batch", batch, 0, owner)
        self.label_noise = float(check_nonneg("label_noise", label_noise, owner))
        self.data_seed = check_int("data_seed", data_seed, 0, owner)
        A, b, x_star, self.f_star = _data(self.dim, self.samples, self.label_noise, self.data_seed)
        self.store(A=A, b=b)
        self.set_x_star(x_star)

    @property
    def metric_names(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("gap",) + super().metric_names

    def _full(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.data("A", x).T - self.data("b", x)  # [n_local, N]

    def local_loss(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        r = self._full(x)
        return 0.5 * (r * r).mean(1)

    def local_grad(self, x: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        return self._full(x) @ self.data("A", x) / self.samples

    def grad(self, x: torch.Tensor, nodes: torch.Tensor, seed: int, step: int, call: int = 0) -> torch.Tensor:
        """Minibatch gradient ``(1/B) A_Bᵀ(A_B x − b_B)`` per row, rows drawn with replacement."""
        if self.batch == 0:
            return self.local_grad(x, nodes)
        u = uniform(seed, "batch", torch.as_tensor(nodes, dtype=torch.int64), step, self.batch, call)
        idx = (u * self.samples).long().clamp_(max=self.samples - 1).to(x.device)  # [n_local, B]
        A = self.data("A", x)[idx]  # [n_local, B, d]
        r = torch.einsum("nbd,nd->nb", A, x) - self.data("b", x)[idx]
        return torch.einsum("nb,nbd->nd", r, A) / self.batch

    @torch.no_grad()
    def metrics(self, x: torch.Tensor, comm: Comm) -> dict[str, float]:
        """The synthetic metrics computed once at x̄ (every f_i is f), plus ``gap = f(x̄) − f*``."""
        with comm.stats.paused():
            xbar = comm.mean(x)
            r = self._full(xbar)
            loss = float(0.5 * (r * r).mean())
            g = r @ self.data("A", x) / self.samples
            dist = float(comm.mean(torch.linalg.vector_norm(x - self.data_x_star(x), dim=1, keepdim=True))[0, 0])
            consensus = float(comm.mean(((x - xbar) ** 2).sum(1, keepdim=True))[0, 0])
        return {
            "gap": loss - self.f_star,
            "dist_to_opt": dist,
            "grad_norm": float(torch.linalg.vector_norm(g)),
            "loss": loss,
            "consensus": consensus,
        }
