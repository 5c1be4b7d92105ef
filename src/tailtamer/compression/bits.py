"""Packing small unsigned integers into bytes: ``b``-bit codes (1 ≤ b ≤ 8) as one bit stream, most significant
bit first, padded with zero bits to a whole byte.

Widths 1, 2, 4 and 8 give ``8/b`` codes per byte, the first in the most significant bits; any other width
runs across byte boundaries (3-bit codes: 8 codes in 3 bytes). What travels:

* sign bits (``sign``, ``scaled-sign``, QSGD's signs): width 1, 8 to a byte;
* QSGD's magnitudes ``ℓ ∈ [0, s]`` (compression/quantize.py): width ⌈log₂(s+1)⌉, so s = 7 ("3-bit QSGD")
  takes 3 bits a coordinate and s = 15 ("4-bit QSGD") 4, plus the sign bit and one norm per row.

Example:
    >>> import torch
    >>> codes = torch.tensor([[1, 0, 1, 1, 0, 0, 0, 0, 1]])
    >>> packed = pack(codes, 1); packed.dtype, packed.shape
    (torch.uint8, torch.Size([1, 2]))
    >>> unpack(packed, 1, 9).tolist()
    [[1, 0, 1, 1, 0, 0, 0, 0, 1]]
    >>> pack(torch.tensor([[7, 0, 5]]), 3).tolist()          # 111 000 101 + 7 zero bits
    [[226, 128]]
"""

from __future__ import annotations

import math

import torch


def width_for(count: int) -> int:
    """Bits per code for ``count`` distinct values: ⌈log₂ count⌉ (at least 1, at most 8)."""
    need = max(1, math.ceil(math.log2(max(count, 2))))
    if need > 8:
        raise ValueError(f"{count} distinct codes do not fit in a byte")
    return need


def packed_len(d: int, width: int) -> int:
    """Bytes of ``d`` codes of ``width`` bits."""
    return math.ceil(d * width / 8)


def _msb_first(width: int, device: torch.device) -> torch.Tensor:
    return torch.arange(width - 1, -1, -1, dtype=torch.uint8, device=device)


def pack(codes: torch.Tensor, width: int) -> torch.Tensor:
    """``[rows, d]`` integer (or bool) codes in ``[0, 2^width)`` → ``uint8 [rows, ceil(d·width/8)]`` (one bit
    stream, most significant bit first)."""
    rows, d = codes.shape
    c = codes.to(torch.uint8)
    bits = ((c.unsqueeze(-1) >> _msb_first(width, c.device)) & 1).reshape(rows, d * width)
    pad = (-d * width) % 8
    if pad:
        bits = torch.cat([bits, bits.new_zeros(rows, pad)], dim=1)
    return (bits.reshape(rows, -1, 8) << _msb_first(8, c.device)).sum(-1, dtype=torch.uint8)


def unpack(packed: torch.Tensor, width: int, d: int) -> torch.Tensor:
    """Inverse of :func:`pack`: ``uint8 [rows, m]`` → ``uint8 [rows, d]`` codes."""
    rows = packed.shape[0]
    bits = ((packed.unsqueeze(-1) >> _msb_first(8, packed.device)) & 1).reshape(rows, -1)[:, : d * width]
    return (bits.reshape(rows, d, width) << _msb_first(width, packed.device)).sum(-1, dtype=torch.uint8)
