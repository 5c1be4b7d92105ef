"""The contracting form C/(1+ω) of an unbiased compressor (Karimireddy et al., "Error feedback fixes SignSGD
and other gradient compression schemes", ICML 2019, Remark 6 / Stich et al. 2018: an unbiased C with variance
factor ω makes C/(1+ω) a δ-contraction with δ = 1/(1+ω)); docs/compression.md §4.

It is what error feedback (``ef``, ``ef21``) needs from rand-k, Bernoulli or unscaled QSGD, whose ω is often
≥ 1 (then C itself expands: E‖C(x) − x‖² = ω‖x‖²). The packet is the inner compressor's: the factor 1/(1+ω(d))
depends only on d, so the receiver applies it after decoding and no byte changes. QSGD's ``biased = true``
is the same scaling written into its norm.
"""

from __future__ import annotations

import torch

from ..comm.codec import Packet
from ..errors import ValidationError
from ..rng import Randomness
from .base import Compressor


class Scaled(Compressor):
    """C/(1+ω) for an unbiased compressor C (biased; contraction δ = 1/(1+ω))."""

    def __init__(self, inner: Compressor):
        if not inner.unbiased or inner.stateful:
            raise ValidationError(
                f"compressor '{inner.name}': the scaled form C/(1+ω) applies to an unbiased, "
                f"stateless compressor (rand-k, bernoulli, qsgd)"
            )
        self.inner = inner

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.inner.name}/(1+ω)"

    @property
    def random(self) -> bool:  # type: ignore[override]
        return self.inner.random

    def factor(self, d: int) -> float:
        omega = self.inner.omega(d)
        return 1.0 / (1.0 + (omega or 0.0))

    def delta(self, d: int) -> float:
        return self.factor(d)

    def bits(self, d: int, value_bits: int = 32) -> float:
        return self.inner.bits(d, value_bits)

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        return self.inner.encode(z, rng, call)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return self.inner.decode(packet, like) * self.factor(like.shape[1])
