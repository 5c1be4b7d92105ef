"""Uniform draws on numbered sub-streams of :data:`~tailtamer.noise.base.NOISE_STREAM`.

A model that needs several independent uniforms per entry takes them from sub-streams
``stream_id(NOISE_STREAM) + k`` (k = 0, 1, ...). Rejection samplers redraw only the rejected entries with
:func:`uniform_at`, which returns, for arbitrary (node, coordinate) pairs, exactly the numbers
:func:`tailtamer.rng.uniform` gives at those positions; each entry's sequence of proposals is therefore a
pure function of (seed, node, step, call, coordinate) whatever else is drawn alongside it.
"""
from __future__ import annotations

import torch

from .. import rng
from .base import NOISE_STREAM

_BASE = rng.stream_id(NOISE_STREAM)
_G = 0x9E3779B97F4A7C15  # the multipliers rng.bits uses to combine node and coordinate
_M2 = 0x94D049BB133111EB


def sub_stream(k: int) -> int:
    """The integer stream of sub-stream ``k``."""
    return _BASE + k


def _signed(v: int) -> int:
    v &= (1 << 64) - 1
    return v - (1 << 64) if v >= 1 << 63 else v


def uniform(seed: int, k: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
    """Float64 uniforms on (0, 1) of shape ``[len(nodes), d]`` from sub-stream ``k``."""
    return rng.uniform(seed, sub_stream(k), nodes, step, d, call)


def uniform_at(seed: int, k: int, node_ids: torch.Tensor, coords: torch.Tensor, step: int,
               call: int = 0) -> torch.Tensor:
    """Float64 uniforms of sub-stream ``k`` at the pairs ``(node_ids[i], coords[i])`` (1-D, same length).

    Equals ``uniform(seed, k, nodes, step, d, call)[row, coord]`` entry by entry; it mirrors
    :func:`tailtamer.rng.bits` (key → node key → coordinate key, SplitMix64 finaliser) and a test pins the
    equality, so a change to ``rng.bits`` that is not mirrored here fails loudly.
    """
    key = _signed(rng.base_key(seed, sub_stream(k), step, call))
    node_key = rng.mix64_tensor(node_ids * _signed(_G) + key)
    b = rng.mix64_tensor(node_key + coords * _signed(_M2))
    b = (b >> 11) & ((1 << 53) - 1)
    return (b.to(torch.float64) + 0.5) * 2.0 ** -53
