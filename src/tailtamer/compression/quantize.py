"""QSGD(s): stochastic quantization to s levels of the row norm (Alistarh et al. 2017; docs/compression.md §4
[V epfml/ChocoSGD quantization]).

``ℓ = s|x_j|/‖x‖``, rounded up with probability ``ℓ − ⌊ℓ⌋`` (down otherwise), output
``sign(x_j)·‖x‖·ℓ_round/s``. Unbiased with ω = min(d/s², √d/s). ``biased = true`` multiplies by 1/(1+ω)
(then contractive with δ = 1/(1+ω)). "b-bit QSGD" is s = 2^b − 1 levels (``levels = 15`` for 4 bits).

Packet: the row's norm (one value), the signs packed 8 to a byte, and the magnitudes ``ℓ_round ∈ [0, s]``
in ⌈log₂(s+1)⌉ bits each, one bit stream (compression/bits.py): 1 + 3 bits per coordinate for s = 7, 1 + 4
for s = 15 ("4-bit QSGD"), plus the norm.
"""

from __future__ import annotations

import math

import torch

from ..comm.codec import Packet
from ..errors import ValidationError
from ..rng import Randomness
from .base import COMPRESSORS, STREAM, Compressor
from .bits import pack, unpack, width_for


@COMPRESSORS.register("qsgd")
class QSGD(Compressor):
    """QSGD with ``levels`` = s quantization levels (unbiased, ω = min(d/s², √d/s); ``biased``: scaled 1/(1+ω))."""

    random = True

    def __init__(self, levels: int = 15, biased: bool = False):
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= 255:
            raise ValidationError(f"compressor qsgd: levels must be an integer in [1, 255], got {levels!r}")
        if not isinstance(biased, bool):
            raise ValidationError(f"compressor qsgd: biased must be true or false, got {biased!r}")
        self.levels, self.biased = levels, biased
        self._width = width_for(levels + 1)

    @property
    def unbiased(self) -> bool:  # type: ignore[override]
        return not self.biased

    def _omega(self, d: int) -> float:
        s = self.levels
        return min(d / s**2, math.sqrt(d) / s)

    def omega(self, d: int) -> float | None:
        return None if self.biased else self._omega(d)

    def delta(self, d: int) -> float | None:
        return 1.0 / (1.0 + self._omega(d)) if self.biased else None

    def bits(self, d: int, value_bits: int = 32) -> float:
        return 1.0 + self._width + value_bits / d

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        s, d = self.levels, z.shape[1]
        norm = z.norm(dim=1, keepdim=True)
        ell = s * z.abs() / norm.clamp_min(torch.finfo(z.dtype).tiny)
        low = ell.floor()
        assert rng is not None, "a random compressor: codec() requires the step's randomness"
        up = rng.uniform(STREAM, d, call).to(device=z.device, dtype=z.dtype) < (ell - low)
        level = (low + up.to(z.dtype)).clamp_(0, s)
        if self.biased:
            norm = norm / (1.0 + self._omega(d))
        return norm, pack((z < 0).to(torch.int64), 1), pack(level.to(torch.int64), self._width)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        norm, signs, levels = packet
        d = like.shape[1]
        sign = 1.0 - 2.0 * unpack(signs, 1, d).to(like.dtype)
        return sign * unpack(levels, self._width, d).to(like.dtype) * (norm.to(like.dtype) / self.levels)
