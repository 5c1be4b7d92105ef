"""DSGD and its normalized and clipped variants: ``X⁺ = W(X − α·T(G))`` for a per-node map T.

* ``dsgd``: T = identity (Lian et al. 2017, in ATC form).
* ``dsgd-n``: T = rownorm — the naive normalized DSGD that Claim 1 of Yu, Jakovetić, Kar (arXiv 2505.03736)
  shows can stall forever.
* ``dsgd-gclip``: T = per-node global-norm clipping ``min(1, γ/‖g‖)·g``.
* ``dsgd-cclip``: T = component-wise clipping to [−γ, γ].
* ``dsgd-clip``: DSGD-GClip with ``α_t = α₀/(t+1)`` and ``γ_t = γ₀(t+1)^κ`` (Sun & Chen 2024,
  arXiv 2312.15847; κ is a parameter because the authors' two scripts disagree on its sign).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch

from ...operators import clip_rows, rownorm
from ...operators.transform import TRANSFORMS
from ...schedules import make_lr
from ...validation import check_positive, check_range
from ..base import ALGORITHMS, Algorithm, Oracle, State


class _MappedDSGD(Algorithm):
    """``X_{t+1} = W (X_t − α_t · T_t(G_t))``; subclasses define the map ``T_t``."""

    def __init__(self, steps: int, lr: float = 0.01, schedule: str | dict[str, Any] = "constant", warmup: int = 0):
        self.lr = lr
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)

    def direction(self, g: torch.Tensor, t: int) -> torch.Tensor:
        raise NotImplementedError

    def step(self, s: State, grad: Oracle, comm, t: int) -> State:
        g = grad(s["x"])
        return {"x": comm.mix(s["x"] - self._lr(t) * self.direction(g, t))}


@ALGORITHMS.register("dsgd")
class DSGD(_MappedDSGD):
    """DSGD: X⁺ = W(X − αG)."""

    def direction(self, g: torch.Tensor, t: int) -> torch.Tensor:
        return g


@ALGORITHMS.register("dsgd-n")
class DSGDN(_MappedDSGD):
    """DSGD-N (naive normalized DSGD): X⁺ = W(X − α·rownorm(G))."""

    def direction(self, g: torch.Tensor, t: int) -> torch.Tensor:
        return rownorm(g)


class _ClippedDSGD(_MappedDSGD):
    """T = a fixed-level clipping transform of :mod:`tailtamer.operators.transforms`, named by ``transform``."""

    transform: ClassVar[str]

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        gamma: float = 1.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        super().__init__(steps, lr, schedule, warmup)
        self._clip = TRANSFORMS.build(self.transform, {"gamma": gamma}, owner=self.name)
        self.gamma = gamma  # validated by the transform just built

    def direction(self, g: torch.Tensor, t: int) -> torch.Tensor:
        return self._clip.update(g, {})[0]


@ALGORITHMS.register("dsgd-gclip")
class DSGDGClip(_ClippedDSGD):
    """DSGD-GClip: X⁺ = W(X − α·clip_γ(G)), per-node L2 clipping."""

    transform = "l2clip"


@ALGORITHMS.register("dsgd-cclip")
class DSGDCClip(_ClippedDSGD):
    """DSGD-CClip: X⁺ = W(X − α·clamp(G, −γ, γ))."""

    transform = "cclip"


@ALGORITHMS.register("dsgd-clip")
class DSGDClip(_MappedDSGD):
    """DSGD-Clip (Sun & Chen 2024): α_t = α₀/(t+1), γ_t = γ₀(t+1)^κ, per-node L2 clipping."""

    def __init__(self, steps: int, lr: float = 0.1, gamma: float = 1.0, kappa: float = 0.4):
        super().__init__(steps, lr, {"name": "poly", "power": 1.0, "t0": 1.0}, 0)
        self.gamma = check_positive("gamma", gamma, self.name)
        self.kappa = check_range("kappa", kappa, -1.0, 1.0, owner=self.name)

    def direction(self, g: torch.Tensor, t: int) -> torch.Tensor:
        return clip_rows(g, self.gamma * (t + 1) ** self.kappa)
