"""Threshold schedules for BiClip (Lee, Zaheer, Li 2025, arXiv 2502.04164): the upper threshold may grow and
the lower one shrink over rounds, so that BiClip moves from a scaled sign towards the identity.

``u_t = u·(1 + t)^{growth}`` and ``d_t = min(d·(1 + t)^{−decay}, u_t)``; ``growth = decay = 0`` is the
constant schedule. ``t`` is the round (engine step) index, starting at 0.

Example:
    >>> biclip_thresholds(1.0, 0.5, 0.5, 1.0, 3)
    (2.0, 0.125)
"""

from __future__ import annotations

from typing import TypeVar

import torch

Value = TypeVar("Value", float, torch.Tensor)


def biclip_thresholds(u: Value, d: Value, growth: Value, decay: Value, t: int) -> tuple[Value, Value]:
    """``(u_t, d_t)`` of the polynomial schedule above (``d_t ≤ u_t`` always). Floats, or per-row tensors where
    the members of a stacked sweep differ (:mod:`tailtamer.engine.stacked.rows`): then the minimum is element-wise."""
    u_t: Value = u * (1.0 + t) ** growth
    d_t: Value = d * (1.0 + t) ** (-decay)
    if isinstance(u_t, torch.Tensor) or isinstance(d_t, torch.Tensor):
        return u_t, torch.minimum(torch.as_tensor(d_t), torch.as_tensor(u_t))
    return u_t, min(d_t, u_t)
