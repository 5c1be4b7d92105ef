"""Sign compressors: ``sign`` (1 bit per coordinate) and ``scaled-sign`` (‖x‖₁/d · sign(x)).

Convention: sign(0) = +1 (a bit holds two values). ``sign`` is biased and not a contraction (its output norm
is √d whatever x); ``scaled-sign`` is contractive with δ(x) = ‖x‖₁²/(d‖x‖²) ≥ 1/d, since
‖C(x) − x‖² = ‖x‖² − ‖x‖₁²/d exactly (Karimireddy et al. 2019, EF-SignSGD). Packet: the signs packed 8 to a
byte (+ the scale, one value per row, for scaled-sign).
"""

from __future__ import annotations

import torch

from ..comm.codec import Packet
from ..rng import Randomness
from .base import COMPRESSORS, Compressor
from .bits import pack, unpack


def sign_pm(z: torch.Tensor) -> torch.Tensor:
    """±1 with sign(0) = +1: what a packed sign bit decodes to."""
    return torch.where(z < 0, -torch.ones_like(z), torch.ones_like(z))


def _signs(packet_bits: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return 1.0 - 2.0 * unpack(packet_bits, 1, like.shape[1]).to(like.dtype)


@COMPRESSORS.register("sign")
class Sign(Compressor):
    """sign(x) ∈ {−1, +1}^d, 1 bit per coordinate (biased, no contraction)."""

    def bits(self, d: int, value_bits: int = 32) -> float:
        return 1.0

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        return (pack((z < 0).to(torch.int64), 1),)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return _signs(packet[0], like)


@COMPRESSORS.register("scaled-sign")
class ScaledSign(Compressor):
    """(‖x‖₁/d)·sign(x): 1 bit per coordinate + one scale (biased, δ ≥ 1/d)."""

    def delta(self, d: int) -> float:
        return 1.0 / d

    def bits(self, d: int, value_bits: int = 32) -> float:
        return 1.0 + value_bits / d

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        scale = z.abs().mean(dim=1, keepdim=True)
        return scale, pack((z < 0).to(torch.int64), 1)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        scale, b = packet
        return scale.to(like.dtype) * _signs(b, like)
