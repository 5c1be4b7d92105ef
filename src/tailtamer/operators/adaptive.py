"""Adaptive moment updates shared by the inner and outer optimizers (Adam, AdamW, RMSProp, Adagrad).

Every function is element-wise on node-stacked tensors (``[n_local, ...]``) or on a server tensor (``[1, ...]``)
and returns new tensors (nothing is modified in place). The formulas are those of ``torch.optim`` so that a
recipe built from them can be checked against it:

* Adam (Kingma & Ba 2015): ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``,
  direction ``(m/(1−β₁ᵏ)) / (√v/√(1−β₂ᵏ) + ε)`` — ε added *after* the bias correction of v, as in
  ``torch.optim.Adam``. ``k`` (the number of updates so far, ≥ 1) may be a tensor broadcasting against m
  (per-client step counts).
* AdamW (Loshchilov & Hutter 2019): the Adam direction plus ``λ·x`` (decoupled weight decay: with step size
  η, ``x − η(dir + λx) = x(1 − ηλ) − η·dir``, which is ``torch.optim.AdamW``).
* RMSProp: ``v ← β₂v + (1−β₂)g²``, direction ``g/(√v + ε)`` (``torch.optim.RMSprop`` with ``alpha = β₂``).
* Adagrad: ``v ← v + g²``, direction ``g/(√v + ε)`` (``torch.optim.Adagrad`` with a zero initial accumulator).

Example:
    >>> import torch
    >>> z = torch.zeros(1, 2, dtype=torch.float64)
    >>> m, v = adam_moments(z, z, torch.tensor([[2.0, -1.0]], dtype=torch.float64), 0.9, 0.999)
    >>> adam_direction(m, v, 1, 0.9, 0.999, 0.0).tolist()   # first Adam step is the sign
    [[1.0, -1.0]]
"""

from __future__ import annotations

import math

import torch

from .momentum import ema


def adam_moments(
    m: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta1: float, beta2: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two exponential moving averages of Adam: ``(β₁m + (1−β₁)g, β₂v + (1−β₂)g²)``."""
    return ema(m, g, beta1), ema(v, g * g, beta2)


def _pow(beta: float, k: int | float | torch.Tensor) -> float | torch.Tensor:
    return beta**k


def adam_direction(
    m: torch.Tensor, v: torch.Tensor, k: int | float | torch.Tensor, beta1: float, beta2: float, eps: float
) -> torch.Tensor:
    """Bias-corrected Adam direction ``(m/(1−β₁ᵏ)) / (√v/√(1−β₂ᵏ) + ε)`` (k ≥ 1 updates so far)."""
    bc1 = 1.0 - _pow(beta1, k)
    bc2 = 1.0 - _pow(beta2, k)
    bc2_sqrt = math.sqrt(bc2) if not isinstance(bc2, torch.Tensor) else torch.sqrt(bc2)
    return (m / bc1) / (torch.sqrt(v) / bc2_sqrt + eps)


def rmsprop_moment(v: torch.Tensor, g: torch.Tensor, beta2: float) -> torch.Tensor:
    """``β₂v + (1−β₂)g²`` (the RMSProp second moment)."""
    return ema(v, g * g, beta2)


def adagrad_moment(v: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """``v + g²`` (the Adagrad accumulator)."""
    return v + g * g


def scaled_direction(g: torch.Tensor, v: torch.Tensor, eps: float) -> torch.Tensor:
    """``g/(√v + ε)``: the RMSProp and Adagrad direction."""
    return g / (torch.sqrt(v) + eps)
