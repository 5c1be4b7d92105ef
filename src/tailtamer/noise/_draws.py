"""Uniform draws on numbered sub-streams of :data:`~tailtamer.noise.base.NOISE_STREAM`.

A model that needs several independent uniforms per entry takes them from sub-streams
``stream_id(NOISE_STREAM) + k`` (k = 0, 1, ...). Rejection samplers redraw only the rejected entries with
:func:`uniform_at`, which returns, for arbitrary (node, coordinate) pairs, exactly the numbers
:func:`tailtamer.rng.uniform` gives at those positions; each entry's sequence of proposals is therefore a
pure function of (seed, node, step, call, coordinate) whatever else is drawn alongside it.
"""
from __future__ import annotations

import numpy as np
import torch

from .. import rng
from .base import NOISE_STREAM

_BASE = rng.stream_id(NOISE_STREAM)


def sub_stream(k: int) -> int:
    """The integer stream of sub-stream ``k``."""
    return _BASE + k


def uniform(seed: int, k: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
    """Float64 uniforms on (0, 1) of shape ``[len(nodes), d]`` from sub-stream ``k``."""
    return rng.uniform(seed, sub_stream(k), nodes, step, d, call)


def uniform_at(seed: int, k: int, node_ids: torch.Tensor, coords: torch.Tensor, step: int,
               call: int = 0) -> torch.Tensor:
    """Float64 uniforms of sub-stream ``k`` at the pairs ``(node_ids[i], coords[i])`` (1-D, same length);
    equal entry by entry to :func:`uniform` (see :func:`tailtamer.rng.uniform_at`)."""
    return rng.uniform_at(seed, sub_stream(k), node_ids, coords, step, call)


def uniform_at_rounds(seed: int, ks: range, node_ids: torch.Tensor, coords: torch.Tensor, step: int,
                      call: int = 0) -> torch.Tensor:
    """``[len(ks), m]`` float64: row j equals :func:`uniform_at` of sub-stream ``ks[j]`` at the m pairs, bit for bit.

    One vectorised pass for many sub-streams, so a rejection sampler can take several rounds of proposals for
    its rejected entries at once instead of one small draw per round (the per-call overhead dominated).
    The same SplitMix64 keys as :func:`tailtamer.rng.bits_at`: ``mix(mix(node·γ + key(stream)) + coord·M2)``.
    """
    ids = node_ids.numpy().reshape(-1).astype(np.uint64)
    base = np.array([rng.base_key(seed, sub_stream(k), step, call) for k in ks], dtype=np.uint64)
    b = ids[None, :] * rng._G_NP + base[:, None]
    tmp = np.empty_like(b)
    rng._mix_np(b, tmp)
    b += coords.numpy().reshape(-1).astype(np.uint64)[None, :] * rng._M2_NP
    rng._mix_np(b, tmp)
    out = np.empty(b.shape, dtype=np.float64)
    rng._unit_np(b, out)
    return torch.from_numpy(out)
