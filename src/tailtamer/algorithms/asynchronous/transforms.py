"""On-arrival heavy-tail operators, as :mod:`tailtamer.operators.transform` transforms.

Registered in :data:`~tailtamer.operators.transform.TRANSFORMS` here because the shared ones (branch
``core``) are not merged yet; each registration is skipped when a transform of that name already exists,
so the shared ones win once they land. Config form: ``operator = "clip"`` or
``operator = {name = "biclip", upper = 1.0, lower = 0.1}``.

* ``identity`` — g;
* ``clip`` — ``min(1, gamma/‖g‖)·g`` (:func:`~tailtamer.operators.clip_rows`);
* ``cclip`` — ``clamp(g, −gamma, gamma)`` (:func:`~tailtamer.operators.clip_coords`);
* ``biclip`` — ``sign(g)·min(upper, max(lower, |g|))`` (:func:`~tailtamer.operators.biclip`; Lee, Zaheer,
  Li 2025);
* ``normalize`` — ``g/‖g‖`` (:func:`~tailtamer.operators.rownorm`);
* ``adam`` — the bias-corrected Adam direction (:func:`~tailtamer.operators.adam_moments`,
  :func:`~tailtamer.operators.adam_direction`; an outer optimizer of the asynchronous local update).
"""
from __future__ import annotations

from typing import Any, Callable

import torch

from ...operators import TRANSFORMS, Transform, adam_direction, adam_moments, biclip, clip_coords, clip_rows, rownorm
from ...validation import check_nonneg, check_positive, check_range


def _register(name: str) -> Callable[[type], type]:
    if name in TRANSFORMS:
        return lambda cls: cls
    return TRANSFORMS.register(name)


@_register("identity")
class Identity(Transform):
    """direction = g."""


@_register("clip")
class Clip(Transform):
    """Norm clipping ``min(1, gamma/‖g‖)·g`` of each row."""

    def __init__(self, gamma: float = 1.0):
        self.gamma = check_positive("gamma", gamma, "transform clip")

    def update(self, g, state, *, t=0, k=1, x=None):
        return clip_rows(g, self.gamma), state


@_register("cclip")
class CoordClip(Transform):
    """Coordinate clipping ``clamp(g, −gamma, gamma)``."""

    def __init__(self, gamma: float = 1.0):
        self.gamma = check_positive("gamma", gamma, "transform cclip")

    def update(self, g, state, *, t=0, k=1, x=None):
        return clip_coords(g, self.gamma), state


@_register("biclip")
class BiClip(Transform):
    """BiClip ``sign(g)·min(upper, max(lower, |g|))`` coordinate-wise (zeros stay zero)."""

    def __init__(self, upper: float = 1.0, lower: float = 0.0):
        self.upper = check_positive("upper", upper, "transform biclip")
        self.lower = check_range("lower", lower, 0.0, self.upper, owner="transform biclip")

    def update(self, g, state, *, t=0, k=1, x=None):
        return biclip(g, self.upper, self.lower), state


@_register("normalize")
class Normalize(Transform):
    """Row normalization ``g/‖g‖``."""

    def update(self, g, state, *, t=0, k=1, x=None):
        return rownorm(g), state


@_register("adam")
class Adam(Transform):
    """Adam's bias-corrected direction (Kingma & Ba 2015), ε after the bias correction as in torch.optim."""

    buffers = ("m", "v")
    counted = True

    def __init__(self, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.beta1 = check_range("beta1", beta1, 0.0, 1.0, hi_open=True, owner="transform adam")
        self.beta2 = check_range("beta2", beta2, 0.0, 1.0, hi_open=True, owner="transform adam")
        self.eps = check_nonneg("eps", eps, "transform adam")

    def update(self, g, state, *, t=0, k=1, x=None):
        m, v = adam_moments(state["m"], state["v"], g, self.beta1, self.beta2)
        return adam_direction(m, v, k, self.beta1, self.beta2, self.eps), {"m": m, "v": v}


def make_transform(value: str | dict[str, Any], owner: str, key: str = "operator") -> Transform:
    """``"name"`` or ``{name = ..., ...}`` → a built transform (``"none"`` is ``identity``)."""
    params = {} if isinstance(value, str) else dict(value)
    name = value if isinstance(value, str) else str(params.pop("name", ""))
    name = "identity" if name == "none" else name
    return TRANSFORMS.build(name, params, section=f"algorithm.{key} ({owner})")


class Applied:
    """A transform with its buffers and update count kept in a scheme's state under ``prefix``."""

    def __init__(self, transform: Transform, prefix: str):
        self.T, self.prefix = transform, prefix

    def init(self, like: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {self.prefix + b: v for b, v in self.T.init(like).items()}
        if self.T.counted:
            out[self.prefix + "k"] = torch.zeros(1, dtype=torch.int64, device=like.device)
        return out

    def __call__(self, g: torch.Tensor, s: dict[str, torch.Tensor], t: int,
                 x: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        mine = {b: s[self.prefix + b] for b in self.T.buffers}
        k = int(s[self.prefix + "k"][0]) + 1 if self.T.counted else 1
        d, mine = self.T.update(g, mine, t=t, k=k, x=x)
        out = {self.prefix + b: v for b, v in mine.items()}
        if self.T.counted:
            out[self.prefix + "k"] = s[self.prefix + "k"] + 1
        return d, out
