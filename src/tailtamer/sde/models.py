"""The three methods as a discrete update and as an SDE (docs/compression.md §4, "SDEs"; structure after
Compagnoni, Islamov, Orvieto, Gorbunov, arXiv 2506.00181 [R], constants [D]). N workers, g_i = ∇f + σ z_i.

=========  ======================================  ==========================================================
method     discrete direction u (x ← x − η_k u)    SDE: drift b, diagonal diffusion Σ (dX = b dt + √η Σ^½ dW)
=========  ======================================  ==========================================================
dsgd       (1/N) Σ_i g_i                           b = −∇f;  Σ_jj = σ²s²/N (s² = Var z; undefined for ν ≤ 2)
dcsgd      (1/N) Σ_i C_i(g_i), C Bernoulli(q),     b = −∇f;  Σ_jj = (1/N)[ω(∂_j f)² + (1+ω)σ²s²]
           ω = 1/q − 1
dsignsgd   (1/N) Σ_i sign(g_i)                     b = −m, m_j = 2F(∂_j f/σ) − 1;  Σ_jj = (1 − m_j²)/N
=========  ======================================  ==========================================================

(Workers are homogeneous here: one σ and one ω for all; Σ in the table is already the per-coordinate
variance of the averaged direction.) A step-size factor s_k multiplies drift and diffusion alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..errors import ValidationError
from ..registry import Registry
from ..validation import check_int
from .laws import NoiseLaw

#: Registry of lab methods: name → class with ``direction`` (discrete) and ``drift_diffusion`` (SDE).
LAB_METHODS: Registry[LabMethod] = Registry("SDE-lab method", context=("law", "workers"))


@dataclass
class LabMethod:
    """A method of the lab: N workers, one noise law; subclasses give the two forms."""

    #: The registered name (set by :data:`LAB_METHODS` at registration).
    name: ClassVar[str] = ""
    law: NoiseLaw
    workers: int

    def __post_init__(self) -> None:
        check_int("workers", self.workers, 1, "SDE lab")

    def direction(self, grad: torch.Tensor, gen: np.random.Generator) -> torch.Tensor:
        """u for M paths: ``grad`` is ``[M, d]``; draws N workers' noise for every path."""
        raise NotImplementedError

    def drift_diffusion(self, grad: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(b, √Σ_jj) at ∇f = ``grad`` (``[M, d]`` each)."""
        raise NotImplementedError

    def noisy(self, grad: torch.Tensor, gen: np.random.Generator) -> torch.Tensor:
        """g_i = ∇f + σz_i for every path and worker, ``[M, N, d]``."""
        m, d = grad.shape
        return grad.unsqueeze(1) + self.law.sample(gen, (m, self.workers, d)).to(grad)

    def _finite_variance(self) -> float:
        s2 = self.law.variance
        if not np.isfinite(s2):
            raise ValidationError(
                f"the {self.name} SDE needs finite noise variance; {self.law.label} has none "
                f"(ν ≤ 2): run the discrete method only, or dsignsgd"
            )
        return s2


@LAB_METHODS.register("dsgd")
class DSGDLab(LabMethod):
    """DSGD: u = mean_i g_i; SDE drift −∇f, diffusion σ s/√N."""

    def __init__(self, law: NoiseLaw, workers: int):
        super().__init__(law, workers)

    def direction(self, grad, gen):
        return self.noisy(grad, gen).mean(1)

    def drift_diffusion(self, grad):
        s2 = self._finite_variance()
        return -grad, torch.full_like(grad, self.law.sigma * float(np.sqrt(s2 / self.workers)))


@LAB_METHODS.register("dcsgd")
class DCSGDLab(LabMethod):
    """DCSGD with Bernoulli(q = 1/(1+ω)) sparsification: u = mean_i C_i(g_i); diffusion grows with ‖∇f‖."""

    def __init__(self, law: NoiseLaw, workers: int, omega: float = 1.0):
        super().__init__(law, workers)
        if not omega >= 0:
            raise ValidationError(f"dcsgd: omega must be ≥ 0, got {omega!r}")
        self.omega, self.q = float(omega), 1.0 / (1.0 + float(omega))

    def direction(self, grad, gen):
        g = self.noisy(grad, gen)
        if self.omega == 0:
            return g.mean(1)
        keep = torch.from_numpy(gen.random(g.shape) < self.q)
        return torch.where(keep, g / self.q, torch.zeros_like(g)).mean(1)

    def drift_diffusion(self, grad):
        s2 = self._finite_variance()
        var = (self.omega * grad**2 + (1 + self.omega) * self.law.sigma**2 * s2) / self.workers
        return -grad, var.sqrt()


@LAB_METHODS.register("dsignsgd")
class DSignSGDLab(LabMethod):
    """DSignSGD: u = mean_i sign(g_i); SDE drift −(2F(∇f/σ) − 1), diffusion √((1 − m²)/N) — bounded for every
    tail."""

    def __init__(self, law: NoiseLaw, workers: int):
        super().__init__(law, workers)

    def direction(self, grad, gen):
        g = self.noisy(grad, gen)
        return torch.where(g < 0, -1.0, 1.0).to(g).mean(1)

    def drift_diffusion(self, grad):
        m = self.law.sign_mean(grad)
        return -m, ((1.0 - m**2).clamp_min(0.0) / self.workers).sqrt()
