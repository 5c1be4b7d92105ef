"""Sparsifiers: identity, Bernoulli(q), rand-k and top-k (docs/compression.md §4, compressors).

* ``identity``: ω = 0, δ = 1; the packet is the dense row (the same tensor: bitwise the uncompressed method).
* ``bernoulli``: keep each coordinate with probability q, scale by 1/q; unbiased, ω = 1/q − 1 [D]. Its kept
  count varies per row and a packet has fixed-shape rows, so it travels as the dense masked row (no saving
  on the wire; it is the compressor of the SDE theory, E5). Use ``rand-k`` for fewer bytes.
* ``rand-k``: keep a uniformly random k-subset, scale by d/k; unbiased, ω = d/k − 1 [V scale d/k in
  epfml/ChocoSGD sparsification.py]. Packet: int32 indices + values.
* ``top-k``: keep the k largest magnitudes; biased, contractive with δ = k/d [R]. Packet: int32 indices + values.

``k`` is given directly, or as ``fraction`` of d (k = max(1, round(fraction·d))) — the *kept* fraction (the
epfml code's ``compress_ratio`` is the dropped one).
"""

from __future__ import annotations

import torch

from ..comm.codec import Packet
from ..rng import Randomness
from ..validation import check_int, check_range
from .base import COMPRESSORS, STREAM, Compressor, check_fraction, keep_count


def _scatter(packet: Packet, like: torch.Tensor) -> torch.Tensor:
    idx, val = packet
    return torch.zeros_like(like).scatter_(1, idx.long(), val.to(like.dtype))


@COMPRESSORS.register("identity")
class Identity(Compressor):
    """No compression: C(x) = x (ω = 0, δ = 1, dense values on the wire)."""

    unbiased = True

    def omega(self, d: int) -> float:
        return 0.0

    def delta(self, d: int) -> float:
        return 1.0

    def bits(self, d: int, value_bits: int = 32) -> float:
        return float(value_bits)

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        return (z,)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return packet[0].to(like.dtype)


@COMPRESSORS.register("bernoulli")
class Bernoulli(Compressor):
    """Bernoulli(q) sparsification: keep each coordinate with probability q, scale 1/q (ω = 1/q − 1)."""

    unbiased = True
    random = True

    def __init__(self, q: float = 0.5):
        self.q = check_range("q", q, 0.0, 1.0, lo_open=True, owner="compressor bernoulli")

    def omega(self, d: int) -> float:
        return 1.0 / self.q - 1.0

    def bits(self, d: int, value_bits: int = 32) -> float:
        return float(value_bits)

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        assert rng is not None, "a random compressor: codec() requires the step's randomness"
        keep = rng.uniform(STREAM, z.shape[1], call).to(z.device) < self.q
        return (torch.where(keep, z / self.q, torch.zeros_like(z)),)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return packet[0].to(like.dtype)


class _KSparse(Compressor):
    def __init__(self, k: int, fraction: float, owner: str):
        self.k = check_int("k", k, 0, owner, note=" (0: use fraction)")
        self.fraction = check_fraction(fraction, owner)

    def kept(self, d: int) -> int:
        return keep_count(d, self.k, self.fraction, f"compressor {self.name}")

    def bits(self, d: int, value_bits: int = 32) -> float:
        return self.kept(d) * (32 + value_bits) / d

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return _scatter(packet, like)


@COMPRESSORS.register("rand-k")
class RandK(_KSparse):
    """Rand-k: a uniformly random k-subset of coordinates, scaled by d/k (unbiased, ω = d/k − 1)."""

    unbiased = True
    random = True

    def __init__(self, k: int = 0, fraction: float = 0.01):
        super().__init__(k, fraction, "compressor rand-k")

    def omega(self, d: int) -> float:
        return d / self.kept(d) - 1.0

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        d = z.shape[1]
        k = self.kept(d)
        assert rng is not None, "a random compressor: codec() requires the step's randomness"
        idx = rng.uniform(STREAM, d, call).to(z.device).topk(k, dim=1).indices  # a uniform k-subset
        return idx.to(torch.int32), z.gather(1, idx) * (d / k)


@COMPRESSORS.register("top-k")
class TopK(_KSparse):
    """Top-k: the k largest magnitudes of each row (biased; contraction δ = k/d)."""

    def __init__(self, k: int = 0, fraction: float = 0.01):
        super().__init__(k, fraction, "compressor top-k")

    def delta(self, d: int) -> float:
        return self.kept(d) / d

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        idx = z.abs().topk(self.kept(z.shape[1]), dim=1).indices
        return idx.to(torch.int32), z.gather(1, idx)
