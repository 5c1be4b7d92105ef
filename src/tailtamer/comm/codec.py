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


#: What :func:`to_bytes` needs to undo itself: each packet tensor's dtype and shape past the row axis.
Layout = tuple[tuple[torch.dtype, tuple[int, ...]], ...]


def to_bytes(packet: Packet) -> tuple[torch.Tensor, Layout]:
    """A packet as ONE ``[rows, bytes]`` uint8 tensor (its tensors' bytes side by side, row by row) and its layout:
    a transport sends one buffer, one message of latency, instead of one per packet tensor."""
    rows = packet[0].shape[0]
    parts = [t.contiguous().reshape(rows, -1).view(torch.uint8) for t in packet]
    return torch.cat(parts, dim=1), tuple((t.dtype, tuple(t.shape[1:])) for t in packet)


def from_bytes(buf: torch.Tensor, layout: Layout) -> Packet:
    """The packet :func:`to_bytes` turned into ``buf`` (any number of rows), bit for bit."""
    rows, out, at = buf.shape[0], [], 0
    for dtype, shape in layout:
        width = torch.empty((), dtype=dtype).element_size()
        for s in shape:
            width *= s
        out.append(buf[:, at : at + width].contiguous().view(dtype).reshape(rows, *shape))
        at += width
    return tuple(out)
