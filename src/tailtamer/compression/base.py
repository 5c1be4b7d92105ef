"""The compressor contract and its registry.

A :class:`Compressor` states its theory — variance factor ω (unbiased: ``E C(x) = x`` and
``E‖C(x) − x‖² ≤ ω‖x‖²``) or contraction δ (``E‖C(x) − x‖² ≤ (1 − δ)‖x‖²``), and bits per coordinate on the
wire — and yields, for one use in one step, a :class:`~tailtamer.comm.codec.Codec` whose packet is what
travels. Random compressors draw from the step's randomness handle (``grad.rng``, stream ``"compress"``,
one ``call`` per use in a step): :meth:`Compressor.codec` binds it, so encoding is a pure function of the
rows and the simulator and a torch.distributed run draw the same numbers for the same node.

Specification: docs/compression.md §4 (compressors). Config: a ``[compression]`` section, ``name`` plus
parameters, read by every algorithm whose class has ``compresses = True``.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ..comm.codec import Packet
from ..errors import ValidationError
from ..registry import Registry
from ..rng import Randomness

#: Registry of compressors (``[compression] name = ...``).
COMPRESSORS: Registry[Compressor] = Registry("compressor")

#: The named random stream every random compressor draws from.
STREAM = "compress"


class Compressor:
    """Base class: subclasses implement :meth:`encode` / :meth:`decode` (with ``rng``/``call`` bound)."""

    name: ClassVar[str] = ""
    unbiased: ClassVar[bool] = False
    random: ClassVar[bool] = False
    #: Keeps state between uses (powersgd's warm-start Q per node): an algorithm must carry it in its state
    #: (``carries_compressor_state``) and bind it with ``codec(rng, call, state=..., layout=...)``.
    stateful: ClassVar[bool] = False

    def init_state(self, x0: torch.Tensor) -> torch.Tensor:
        """A stateful compressor's initial node-stacked state for the rows of ``x0`` (carried in the method's
        state and bound per step); a stateless compressor keeps none."""
        raise NotImplementedError(f"compressor '{self.name}' keeps no state")

    def omega(self, d: int) -> float | None:
        """Variance factor ω for dimension d (unbiased compressors), else None."""
        return None

    def delta(self, d: int) -> float | None:
        """Contraction δ ∈ (0, 1] for dimension d (worst case over x), or None when there is none."""
        return None

    def bits(self, d: int, value_bits: int = 32) -> float:
        """Bits per coordinate on the wire for a row of d values of ``value_bits`` bits each."""
        raise NotImplementedError

    def encode(self, z: torch.Tensor, rng: Randomness | None, call: int) -> Packet:
        raise NotImplementedError

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def codec(self, rng: Randomness | None = None, call: int = 0) -> BoundCodec:
        """The codec of one use: ``rng`` (the step's randomness, required by random compressors) and ``call``
        (distinct for every use of ``"compress"`` in one step) bound in."""
        if self.random and rng is None:
            raise ValidationError(f"compressor '{self.name}' is random: give it the step's randomness (grad.rng)")
        return BoundCodec(self, rng, call)

    def __call__(self, z: torch.Tensor, rng: Randomness | None = None, call: int = 0) -> torch.Tensor:
        """``decode(encode(z))``: the rows as a receiver sees them."""
        return self.codec(rng, call).roundtrip(z)

    def describe(self, d: int, value_bits: int = 32) -> dict[str, object]:
        """What the compressor promises at dimension d (for ``tailtamer list`` and docs)."""
        return {
            "name": self.name,
            "unbiased": self.unbiased,
            "omega": self.omega(d),
            "delta": self.delta(d),
            "bits_per_coordinate": self.bits(d, value_bits),
        }


class BoundCodec:
    """A compressor with one use's randomness bound: a :class:`~tailtamer.comm.codec.Codec`."""

    __slots__ = ("compressor", "rng", "call")

    def __init__(self, compressor: Compressor, rng: Randomness | None, call: int):
        self.compressor, self.rng, self.call = compressor, rng, call

    def encode(self, z: torch.Tensor) -> Packet:
        if self.rng is not None and self.compressor.random and len(self.rng.nodes) != z.shape[0]:
            raise ValidationError(
                f"compressor '{self.compressor.name}': {z.shape[0]} rows but the randomness "
                f"handle hosts {len(self.rng.nodes)} nodes"
            )
        return self.compressor.encode(z, self.rng, self.call)

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        return self.compressor.decode(packet, like)

    def roundtrip(self, z: torch.Tensor) -> torch.Tensor:
        """``decode(encode(z))`` in the shape of ``z``."""
        flat = z.reshape(z.shape[0], -1)
        return self.decode(self.encode(flat), flat).reshape(z.shape)


def keep_count(d: int, k: int, fraction: float, owner: str) -> int:
    """``k`` when given (> 0), else ``max(1, round(fraction·d))``; refused when it exceeds d."""
    kk = k if k > 0 else max(1, round(fraction * d))
    if kk > d:
        raise ValidationError(f"{owner}: k = {kk} exceeds the dimension {d}")
    return kk


def check_fraction(fraction: float, owner: str) -> float:
    if not 0.0 < fraction <= 1.0:
        raise ValidationError(f"{owner}: fraction must be in (0, 1], got {fraction!r}")
    return float(fraction)


def value_bits(z: torch.Tensor) -> int:
    return z.element_size() * 8
