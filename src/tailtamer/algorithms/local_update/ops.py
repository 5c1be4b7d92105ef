"""The inner (client) and outer (server) optimizers of the TailOPT framework (algorithms.md §2).

Each operator turns a gradient-like input into an update *direction*; the caller applies
``x ← x − step·direction``. Inner operators see a client's stochastic gradient ``g`` (rows ``[n_local, ...]``),
outer operators see the averaged pseudo-gradient ``Δ_t`` (``[1, ...]``). An operator declares:

* ``params`` — its hyperparameters ``(name, default, annotation, check)``; outer ones are exposed to configs
  with the prefix ``outer_`` (``u`` of the inner BiClip, ``outer_u`` of the outer one);
* ``buffers`` — the names of its state tensors (each the shape of the model), which is also what the
  memory accounting counts;
* ``counted`` — whether it needs the number of its own updates so far (bias correction).

Every formula is a shared operator of :mod:`tailtamer.operators`; nothing here loops over nodes.
"""
from __future__ import annotations

from typing import Any, Callable, ClassVar

import torch

from ...operators import (adagrad_moment, adam_direction, adam_moments, biclip, biclip_thresholds, clip_coords,
                          clip_rows, rmsprop_moment, scaled_direction)
from ...validation import check_nonneg, check_positive, check_range
from ...errors import ValidationError

Buffers = dict[str, torch.Tensor]
Check = Callable[[str, Any, str], Any]


def _beta(name: str, v: float, owner: str) -> float:
    return check_range(name, v, 0.0, 1.0, hi_open=True, owner=owner)


def _pos(name: str, v: float, owner: str) -> float:
    return check_positive(name, v, owner)


def _nonneg(name: str, v: float, owner: str) -> float:
    return check_nonneg(name, v, owner)


def _bool(name: str, v: bool, owner: str) -> bool:
    if not isinstance(v, bool):
        raise ValidationError(f"{owner}: {name} must be true or false, got {v!r}")
    return v


class Operator:
    """Base of inner and outer operators (see module docstring)."""

    key: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    params: ClassVar[tuple[tuple[str, Any, Any, Check], ...]] = ()
    buffers: tuple[str, ...] = ()
    counted: ClassVar[bool] = False

    def __init__(self, owner: str, prefix: str = "", **values: Any):
        self.owner, self.prefix = owner, prefix
        for name, default, _annotation, check in self.params:
            setattr(self, name, check(prefix + name, values.get(name, default), owner))
        self.validate()

    def validate(self) -> None:
        """Cross-parameter checks (after each parameter was checked on its own)."""

    def init(self, like: torch.Tensor) -> Buffers:
        return {b: torch.zeros_like(like) for b in self.buffers}

    def direction(self, g: torch.Tensor, x: torch.Tensor, st: Buffers, k: Any, t: int) -> tuple[torch.Tensor, Buffers]:
        """``(direction, new buffers)`` for input ``g`` at iterate ``x``; ``k`` counts this operator's updates
        including this one (≥ 1; an int or a tensor broadcasting against ``g``); ``t`` is the round."""
        raise NotImplementedError


# ---------------------------------------------------------------- operators usable on both sides
class Identity(Operator):
    key, summary = "sgd", "plain gradient step"

    def direction(self, g, x, st, k, t):
        return g, st


class L2Clip(Operator):
    key, summary = "l2clip", "L2 (whole-vector) clipping to radius gamma"
    params = (("gamma", 1.0, float, _pos),)

    def direction(self, g, x, st, k, t):
        return clip_rows(g, self.gamma), st


class CClip(Operator):
    key, summary = "cclip", "coordinate-wise clipping to [-gamma, gamma]"
    params = (("gamma", 1.0, float, _pos),)

    def direction(self, g, x, st, k, t):
        return clip_coords(g, self.gamma), st


class BiClip(Operator):
    """BiClip(u_t, d_t) with ``u_t = u(1+t)^u_growth``, ``d_t = d(1+t)^(−d_decay)`` (t: the round)."""

    key, summary = "biclip", "BiClip: coordinate clipping from above (u) and below (d)"
    params = (("u", 1.0, float, _pos), ("d", 0.01, float, _nonneg), ("u_growth", 0.0, float, _nonneg),
              ("d_decay", 0.0, float, _nonneg))

    def validate(self) -> None:
        if self.d > self.u:
            raise ValidationError(f"{self.owner}: {self.prefix}d must be ≤ {self.prefix}u (0 ≤ d ≤ u), "
                                  f"got d = {self.d:g} > u = {self.u:g}")

    def thresholds(self, t: int) -> tuple[float, float]:
        return biclip_thresholds(self.u, self.d, self.u_growth, self.d_decay, t)

    def direction(self, g, x, st, k, t):
        u_t, d_t = self.thresholds(t)
        return biclip(g, u_t, d_t), st


class Adam(Operator):
    key, summary = "adam", "Adam (torch.optim.Adam: bias-corrected, eps outside the square root)"
    params = (("beta1", 0.9, float, _beta), ("beta2", 0.999, float, _beta), ("eps", 1e-8, float, _pos))
    buffers = ("m", "v")
    counted = True

    def direction(self, g, x, st, k, t):
        m, v = adam_moments(st["m"], st["v"], g, self.beta1, self.beta2)
        return adam_direction(m, v, k, self.beta1, self.beta2, self.eps), {"m": m, "v": v}


class AdamW(Adam):
    key, summary = "adamw", "AdamW (Adam with decoupled weight decay, torch.optim.AdamW)"
    params = Adam.params + (("weight_decay", 0.01, float, _nonneg),)

    def direction(self, g, x, st, k, t):
        d, st = super().direction(g, x, st, k, t)
        return d + self.weight_decay * x, st


class RMSProp(Operator):
    key, summary = "rmsprop", "RMSProp (torch.optim.RMSprop with alpha = beta2)"
    params = (("beta2", 0.99, float, _beta), ("eps", 1e-8, float, _pos))
    buffers = ("v",)

    def direction(self, g, x, st, k, t):
        v = rmsprop_moment(st["v"], g, self.beta2)
        return scaled_direction(g, v, self.eps), {"v": v}


class Adagrad(Operator):
    key, summary = "adagrad", "Adagrad (torch.optim.Adagrad, zero initial accumulator)"
    params = (("eps", 1e-10, float, _pos),)
    buffers = ("v",)

    def direction(self, g, x, st, k, t):
        v = adagrad_moment(st["v"], g)
        return scaled_direction(g, v, self.eps), {"v": v}


# ---------------------------------------------------------------- outer-only variants
class Average(Identity):
    key, summary = "avg", "averaging: x ← x − η·Δ (η = 1 is FedAvg / local SGD)"


class OuterSGD(Operator):
    """Heavy-ball or Nesterov momentum as ``torch.optim.SGD`` (dampening 0): ``m ← μm + Δ``;
    direction ``m`` (heavy ball) or ``Δ + μm`` (Nesterov)."""

    key, summary = "sgd", "SGD with (Nesterov) momentum on the pseudo-gradient (torch.optim.SGD)"
    params = (("momentum", 0.0, float, lambda n, v, o: check_range(n, v, 0.0, 1.0, hi_open=True, owner=o)),
              ("nesterov", False, bool, _bool))

    def validate(self) -> None:
        if self.nesterov and self.momentum == 0:
            raise ValidationError(f"{self.owner}: {self.prefix}nesterov needs {self.prefix}momentum > 0")
        self.buffers = ("m",) if self.momentum > 0 else ()

    def direction(self, g, x, st, k, t):
        if self.momentum == 0:
            return g, st
        m = self.momentum * st["m"] + g          # torch: the first buffer is the gradient (m starts at 0)
        return (g + self.momentum * m if self.nesterov else m), {"m": m}


class OuterAdam(Adam):
    """Adam on the pseudo-gradient (FedAdam, Reddi et al. 2021) in the ``torch.optim.Adam`` form; ``eps`` is the
    adaptivity ε (τ in Reddi et al.); ``bias_correction = false`` gives Reddi et al.'s uncorrected form."""

    summary = "Adam on the pseudo-gradient (FedAdam; torch.optim.Adam form, eps = adaptivity)"
    params = (("beta1", 0.9, float, _beta), ("beta2", 0.99, float, _beta), ("eps", 1e-3, float, _pos),
              ("bias_correction", True, bool, _bool))

    def direction(self, g, x, st, k, t):
        m, v = adam_moments(st["m"], st["v"], g, self.beta1, self.beta2)
        if self.bias_correction:
            return adam_direction(m, v, k, self.beta1, self.beta2, self.eps), {"m": m, "v": v}
        return scaled_direction(m, v, self.eps), {"m": m, "v": v}


class OuterRMSProp(RMSProp):
    summary = "RMSProp on the pseudo-gradient (FedRMSProp-style; eps = adaptivity)"
    params = (("beta2", 0.99, float, _beta), ("eps", 1e-3, float, _pos))


class OuterAdagrad(Adagrad):
    summary = "Adagrad on the pseudo-gradient (FedAdagrad; eps = adaptivity)"
    params = (("eps", 1e-3, float, _pos),)


#: Inner (client) optimizers, in the order of algorithms.md §2.
INNER: dict[str, type[Operator]] = {c.key: c for c in (Identity, L2Clip, CClip, BiClip, Adam, AdamW, RMSProp,
                                                       Adagrad)}
#: Outer (server) optimizers.
OUTER: dict[str, type[Operator]] = {c.key: c for c in (Average, OuterSGD, OuterAdagrad, OuterRMSProp, OuterAdam,
                                                       L2Clip, BiClip)}
#: Default outer step size η per outer optimizer.
OUTER_LR = {"avg": 1.0, "sgd": 1.0, "adagrad": 0.01, "rmsprop": 0.01, "adam": 0.01, "l2clip": 1.0, "biclip": 1.0}
