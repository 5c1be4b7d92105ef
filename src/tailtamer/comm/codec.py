"""Payload-aware messages: what a compressed row looks like on the wire.

A :class:`Codec` turns node-stacked rows ``[rows, d]`` into a *packet*: a tuple of tensors whose first axis is
the row axis (indices and values of top-k, sign bits packed 8 to a byte, QSGD levels plus a norm, ...), and
back. ``comm.mix(z, codec=c)`` and ``comm.mean(z, codec=c)`` send the packet instead of the dense rows, count
the packet's bytes as the traffic, and combine the *decoded* rows: every node, its own row included, uses
what it published (``W · decode(encode(Z))``), so the simulator and a torch.distributed run, which really
sends the packet, compute the same thing. Without a codec, messages are dense rows, as before.

Randomness a codec needs (rand-k, stochastic rounding) is bound into it before the call, from the step's
:class:`~tailtamer.rng.Randomness`, so encoding is a pure function of the rows.

Example:
    >>> import torch
    >>> class Half:                                  # keeps the first half of each row
    ...     def encode(self, z): return (z[:, : z.shape[1] // 2].contiguous(),)
    ...     def decode(self, packet, like):
    ...         out = torch.zeros_like(like); out[:, : packet[0].shape[1]] = packet[0]; return out
    >>> z = torch.arange(8.0).reshape(2, 4)
    >>> packet_row_bytes(Half().encode(z)), dense_row_bytes(z)     # two float32 values instead of four
    (8, 16)
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

Packet = tuple[torch.Tensor, ...]


@runtime_checkable
class Codec(Protocol):
    """Encodes rows for the wire and decodes them (see the module docstring)."""

    def encode(self, z: torch.Tensor) -> Packet:
        """``[rows, d]`` → a packet: tensors of shape ``[rows, ...]`` (one message per row)."""
        ...

    def decode(self, packet: Packet, like: torch.Tensor) -> torch.Tensor:
        """A packet of ``rows`` messages → dense ``[rows, d]`` rows with the dtype and device of ``like``."""
        ...


def packet_row_bytes(packet: Packet) -> int:
    """Bytes of one row's message: the sum over the packet's tensors of one row's elements × element size."""
    return sum(p[0].numel() * p.element_size() for p in packet) if packet and len(packet[0]) else 0


def dense_row_bytes(z: torch.Tensor) -> int:
    """Bytes of one dense row of ``z`` (what an uncompressed message carries)."""
    return z[0].numel() * z.element_size()
