"""Threshold schedules for BiClip (Lee, Zaheer, Li 2025, arXiv 2502.04164): the upper threshold may grow and
the lower one shrink over rounds, so that BiClip moves from a scaled sign towards the identity.

``u_t = u·(1 + t)^{growth}`` and ``d_t = min(d·(1 + t)^{−decay}, u_t)``; ``growth = decay = 0`` is the
constant schedule. ``t`` is the round (engine step) index, starting at 0.

Example:
    >>> biclip_thresholds(1.0, 0.5, 0.5, 1.0, 3)
    (2.0, 0.125)
"""
from __future__ import annotations


def biclip_thresholds(u: float, d: float, growth: float, decay: float, t: int) -> tuple[float, float]:
    """``(u_t, d_t)`` of the polynomial schedule above (``d_t ≤ u_t`` always)."""
    u_t = u * (1.0 + t) ** growth
    d_t = d * (1.0 + t) ** (-decay)
    return u_t, min(d_t, u_t)
