"""Packing small unsigned integers into bytes: ``b``-bit codes, ``8/b`` to a byte (b ∈ {1, 2, 4, 8}).

Sign bits travel 1 to a bit (8 to a byte) and QSGD levels ``ℓ + s ∈ [0, 2s]`` in the smallest of 1, 2, 4 or 8
bits that holds them (s = 7, "4-bit QSGD", packs two levels per byte).

Example:
    >>> import torch
    >>> codes = torch.tensor([[1, 0, 1, 1, 0, 0, 0, 0, 1]])
    >>> packed = pack(codes, 1); packed.dtype, packed.shape
    (torch.uint8, torch.Size([1, 2]))
    >>> unpack(packed, 1, 9).tolist()
    [[1, 0, 1, 1, 0, 0, 0, 0, 1]]
"""
from __future__ import annotations

import math

import torch

WIDTHS = (1, 2, 4, 8)


def width_for(count: int) -> int:
    """The smallest width in :data:`WIDTHS` whose codes hold ``count`` distinct values."""
    need = max(1, math.ceil(math.log2(max(count, 2))))
    for w in WIDTHS:
        if w >= need:
            return w
    raise ValueError(f"{count} distinct codes do not fit in a byte")


def packed_len(d: int, width: int) -> int:
    """Bytes of ``d`` codes of ``width`` bits."""
    return math.ceil(d * width / 8)


def pack(codes: torch.Tensor, width: int) -> torch.Tensor:
    """``[rows, d]`` integer (or bool) codes in ``[0, 2^width)`` → ``uint8 [rows, ceil(d·width/8)]`` (first
    code in the most significant bits)."""
    per = 8 // width
    rows, d = codes.shape
    pad = (-d) % per
    c = codes.to(torch.uint8)
    if pad:
        c = torch.cat([c, c.new_zeros(rows, pad)], dim=1)
    c = c.reshape(rows, -1, per)
    out = c[..., 0] << (8 - width)
    for j in range(1, per):
        out |= c[..., j] << (8 - width * (j + 1))
    return out


def unpack(packed: torch.Tensor, width: int, d: int) -> torch.Tensor:
    """Inverse of :func:`pack`: ``uint8 [rows, m]`` → ``uint8 [rows, d]`` codes."""
    shifts = torch.arange(8 - width, -1, -width, dtype=torch.uint8, device=packed.device)
    codes = (packed.unsqueeze(-1) >> shifts) & ((1 << width) - 1)
    return codes.reshape(packed.shape[0], -1)[:, :d]
