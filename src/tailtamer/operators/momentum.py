"""Momentum and tracking building blocks shared by the algorithm recipes."""

from __future__ import annotations

from collections.abc import Callable

import torch


def ema(m: torch.Tensor, g: torch.Tensor, beta: float) -> torch.Tensor:
    """Exponential moving average ``β·m + (1−β)·g`` (the momentum of GT-NSGDm, GT-Adam, Adam), computed
    as the single fused kernel ``g + β(m − g)``."""
    return torch.lerp(g, m, beta)


def track(
    mix: Callable[[torch.Tensor], torch.Tensor], y: torch.Tensor, new: torch.Tensor, old: torch.Tensor
) -> torch.Tensor:
    """Gradient tracking ``W (y + new − old)``: keeps ``mean(y) = mean(new)`` for doubly stochastic W
    (Pu & Nedić 2021; Xin, Khan, Kar 2021)."""
    return mix(y + new - old)
