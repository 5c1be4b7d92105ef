"""Clipping transforms: L2 (whole-row) clipping, coordinate clipping, and BiClip with its threshold schedule.

BiClip is from Lee, Zaheer, Li, *Efficient Distributed Optimization under Heavy-Tailed Noise*, ICML 2025,
arXiv 2502.04164 (docs/tailopt.md). All three are stateless; the formulas are :mod:`tailtamer.operators.clip`.

Example:
    >>> import torch
    >>> T = BiClip(u=1.0, d=0.5)
    >>> T.update(torch.tensor([[3.0, -0.1, 0.0]]), T.init(torch.zeros(1, 3)))[0].tolist()
    [[1.0, -0.5, 0.0]]
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ..clip import biclip, clip_coords, clip_rows
from ..thresholds import biclip_thresholds
from ..transform import TRANSFORMS, Transform
from .checks import Checks


class _FixedClip(Transform):
    """``clip(g, gamma)`` with a fixed level; subclasses name the clipping operator."""

    clip: ClassVar[staticmethod[[torch.Tensor, float], torch.Tensor]]

    def __init__(self, gamma: float = 1.0, *, owner: str = "", prefix: str = ""):
        self.gamma = Checks(owner or self.name, prefix).positive("gamma", gamma)

    def update(self, g, state, *, t=0, k=1, x=None):
        return type(self).clip(g, self.gamma), state


@TRANSFORMS.register("l2clip")
class L2Clip(_FixedClip):
    """L2 (whole-vector) clipping to radius gamma"""

    clip = staticmethod(clip_rows)


@TRANSFORMS.register("cclip")
class CClip(_FixedClip):
    """coordinate-wise clipping to [-gamma, gamma]"""

    clip = staticmethod(clip_coords)


@TRANSFORMS.register("biclip")
class BiClip(Transform):
    """BiClip: coordinate clipping from above (u) and below (d)

    ``BiClip(u_t, d_t)`` with ``u_t = u(1+t)^u_growth`` and ``d_t = min(d(1+t)^(−d_decay), u_t)``
    (t: the step or round; see :func:`tailtamer.operators.biclip_thresholds`).
    """

    def __init__(
        self,
        u: float = 1.0,
        d: float = 0.01,
        u_growth: float = 0.0,
        d_decay: float = 0.0,
        *,
        owner: str = "",
        prefix: str = "",
    ):
        c = Checks(owner or self.name, prefix)
        self.u, self.d = c.positive("u", u), c.nonneg("d", d)
        self.u_growth, self.d_decay = c.nonneg("u_growth", u_growth), c.nonneg("d_decay", d_decay)
        c.require(
            self.d <= self.u, f"{c.key('d')} must be ≤ {c.key('u')} (0 ≤ d ≤ u), got d = {self.d:g} > u = {self.u:g}"
        )

    def thresholds(self, t: int) -> tuple[float, float]:
        """``(u_t, d_t)`` at step or round t."""
        return biclip_thresholds(self.u, self.d, self.u_growth, self.d_decay, t)

    def update(self, g, state, *, t=0, k=1, x=None):
        u_t, d_t = self.thresholds(t)
        return biclip(g, u_t, d_t), state
