"""Compressors for communication (docs/compression.md §4): a registry :data:`COMPRESSORS` of objects that state
ω or δ, bits per coordinate and bias, and yield a :class:`~tailtamer.comm.codec.Codec` per use.

Registered: ``identity``, ``bernoulli``, ``rand-k``, ``top-k``, ``qsgd``, ``sign``, ``scaled-sign``, ``powersgd``
(stateful: a warm-start Q per node, carried in the algorithm's state).

Example:
    >>> import torch
    >>> c = COMPRESSORS.build("top-k", {"k": 2})
    >>> c(torch.tensor([[3.0, -1.0, 0.5, -4.0]])).tolist()
    [[3.0, 0.0, 0.0, -4.0]]
    >>> c.delta(4), c.unbiased
    (0.5, False)
"""

from __future__ import annotations

from . import lowrank, quantize, sign, sparse  # noqa: F401  (registration)
from .base import COMPRESSORS, STREAM, BoundCodec, Compressor

__all__ = ["COMPRESSORS", "STREAM", "BoundCodec", "Compressor", "build_compressor"]


def build_compressor(section: dict | None) -> Compressor:
    """A ``[compression]`` section (``name`` + parameters; absent: identity) → the compressor."""
    spec = dict(section or {})
    name = spec.pop("name", "identity")
    return COMPRESSORS.build(name, spec, section="compression")
