"""Clipping operators, applied per node (row) or per coordinate.

* :func:`clip_rows` — global-norm clipping ``min(1, γ/‖g‖)·g`` of each node's vector.
* :func:`clip_coords` — component-wise clipping ``clamp(g, −γ, γ)``.
* :func:`smoothed_clip` — ``φ u / sqrt(u² + ε)`` component-wise (Yu, Jakovetić, Kar 2023, arXiv 2310.16920).
* :func:`biclip` — clipping from above and below, ``sign(x)·min(u, max(d, |x|))`` with 0 kept at 0
  (Lee, Zaheer, Li 2025, arXiv 2502.04164).
"""

from __future__ import annotations

import torch

from .normalize import TINY, row_norms


def clip_rows(z: torch.Tensor, gamma: float) -> torch.Tensor:
    """Per-node L2 clipping to radius ``gamma``.

    Example:
        >>> clip_rows(torch.tensor([[3.0, 4.0], [0.3, 0.4]]), 1.0).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.30000001192092896, 0.4000000059604645]]
    """
    scale = (gamma / row_norms(z).clamp_min(TINY)).clamp(max=1.0)
    return z * scale


def clip_coords(z: torch.Tensor, gamma: float) -> torch.Tensor:
    """Component-wise clipping to ``[−gamma, gamma]``."""
    return z.clamp(-gamma, gamma)


def smoothed_clip(u: torch.Tensor, phi: float, eps: float) -> torch.Tensor:
    """Component-wise smoothed clipping ``ψ(u) = φ·u / sqrt(u² + ε)`` (bounded by φ, ≈ (φ/√ε)·u near 0)."""
    return phi * u / torch.sqrt(u * u + eps)


def biclip(z: torch.Tensor, upper: float, lower: float) -> torch.Tensor:
    """``BiClip(u, d; z)_j = sign(z_j)·min(u, max(d, |z_j|))``; zeros stay zero. ``lower = 0`` is coordinate
    clipping; ``lower = upper`` is the sign scaled by ``upper``."""
    return torch.sign(z) * z.abs().clamp(min=lower, max=upper)
