"""Scalar counter-based draws for compute times: pure Python, no tensor per event.

``uniform(seed, stream, worker, job)`` equals ``tailtamer.rng.uniform(seed, stream, [worker], job, d=1)``
bit for bit (the same SplitMix64 keys, computed on Python ints), so a timing model's draws are a function
of ``(seed, worker, job index)`` only: the j-th job of worker i takes the same time under every method run
with the same seed, which makes comparisons across methods paired.
"""

from __future__ import annotations

import math

from ..rng import _G, _M2, _MASK, base_key, mix64, stream_id


def uniform(seed: int, stream: str | int, worker: int, job: int, call: int = 0) -> float:
    """A uniform draw on (0, 1) (53 random bits), equal to :func:`tailtamer.rng.uniform` at coordinate 0."""
    key = base_key(seed, stream, job, call)
    node_key = mix64((worker * _G + key) & _MASK)
    b = mix64((node_key + 0 * _M2) & _MASK)
    return (((b >> 11) & ((1 << 53) - 1)) + 0.5) * 2.0**-53


def normal(seed: int, stream: str | int, worker: int, job: int, call: int = 0) -> float:
    """A standard normal draw (Box–Muller, the pair of streams :func:`tailtamer.rng.normal` uses)."""
    s = stream_id(stream)
    u1 = uniform(seed, s, worker, job, call)
    u2 = uniform(seed, s ^ 0x5A5A5A5A, worker, job, call)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
