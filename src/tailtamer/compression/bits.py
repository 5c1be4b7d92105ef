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
    """``[rows, d]`` integer codes in ``[0, 2^width)`` → ``uint8 [rows, ceil(d·width/8)]`` (first code in the
    most significant bits)."""
    per = 8 // width
    rows, d = codes.shape
    pad = (-d) % per
    c = codes.to(torch.int32)
    if pad:
        c = torch.cat([c, c.new_zeros(rows, pad)], dim=1)
    shifts = torch.arange(per - 1, -1, -1, dtype=torch.int32, device=c.device) * width
    return (c.reshape(rows, -1, per) << shifts).sum(-1).to(torch.uint8)


def unpack(packed: torch.Tensor, width: int, d: int) -> torch.Tensor:
    """Inverse of :func:`pack`: ``uint8 [rows, m]`` → ``int64 [rows, d]`` codes."""
    per = 8 // width
    shifts = torch.arange(per - 1, -1, -1, dtype=torch.int64, device=packed.device) * width
    codes = (packed.to(torch.int64).unsqueeze(-1) >> shifts) & ((1 << width) - 1)
    return codes.reshape(packed.shape[0], -1)[:, :d]
