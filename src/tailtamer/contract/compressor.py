"""The contract of a compressor (docs/compression.md §4, docs/extending.md): the packet round-trips, the bytes
counted equal the packet's size, a stated ω or δ holds empirically, and it is unbiased where it claims to be."""

from __future__ import annotations

import math
from typing import Any

import torch

from ..comm import SimulatedComm, packet_row_bytes
from ..compression import COMPRESSORS
from ..compression.base import Compressor
from ..rng import Randomness
from .result import Property, Skip
from .subject import Subject

ROWS, D, DRAWS = 4, 64, 20_000
X = torch.tensor([3.0, -1.0, 0.5, -4.0, 0.0, 2.0, -0.25, 1.5, -2.5, 0.75, 1.0, -0.1], dtype=torch.float64)


def subject(name: str, params: dict[str, Any]) -> Subject:
    """The compression component ``name`` with ``params``."""
    return Subject(COMPRESSORS, name, params, "compression", {})


def _rows() -> torch.Tensor:
    return torch.randn(ROWS, D, dtype=torch.float64, generator=torch.Generator().manual_seed(2))


def _stateless(c: Compressor) -> None:
    if getattr(c, "stateful", False):
        raise Skip("stateful: its codec is bound to the state an algorithm carries (checked through those methods)")


def round_trip(s: Subject) -> str:
    c, z = s.build(), _rows()
    _stateless(c)
    rng = Randomness(1, torch.arange(ROWS), 3)
    codec = c.codec(rng, 0)
    out = codec.decode(codec.encode(z), z)
    assert out.shape == z.shape and out.dtype == z.dtype, (
        f"decode returned {tuple(out.shape)} {out.dtype} for rows {tuple(z.shape)} {z.dtype}"
    )
    assert bool(torch.isfinite(out).all()), "decoded rows hold NaN or Inf"
    assert torch.equal(out, c(z, Randomness(1, torch.arange(ROWS), 3), 0)), (
        "encoding the same rows with the same (seed, node, step, call) gave another message"
    )
    part = c(z[2:4], Randomness(1, torch.tensor([2, 3]), 3), 0)
    assert torch.equal(part, out[2:4]), "rows 2-3 compressed alone differ from those rows compressed with all"
    return "decode(encode(z)) has z's shape and dtype, is pure, and rows compress independently"


def byte_count(s: Subject) -> str:
    c, z = s.build(), _rows()
    _stateless(c)
    rng = Randomness(1, torch.arange(ROWS), 3)
    packet = c.codec(rng, 0).encode(z)
    comm = SimulatedComm(None, n=ROWS)
    mean = comm.mean(z, codec=c.codec(rng, 0))
    size = packet_row_bytes(packet)
    assert comm.stats.bytes == ROWS * size, f"counted {comm.stats.bytes} bytes, the packets hold {ROWS}×{size}"
    torch.testing.assert_close(mean, c(z, rng, 0).mean(0, keepdim=True), rtol=1e-12, atol=1e-12)
    return f"{size} bytes a row of {D} float64 counted as sent"


def _errors(c: Compressor) -> tuple[torch.Tensor, torch.Tensor]:
    out = c(X.expand(DRAWS, -1).clone(), Randomness(seed=7, nodes=torch.arange(DRAWS), step=3), call=0)
    return out, ((out - X) ** 2).sum(1)


def omega_delta(s: Subject) -> str:
    c = s.build()
    _stateless(c)
    d, sq = len(X), float((X**2).sum())
    omega, delta = c.omega(d), c.delta(d)
    if omega is None and delta is None:
        raise Skip("states neither ω nor δ")
    _, err = _errors(c)
    mean, se = float(err.mean()), float(err.std()) / math.sqrt(DRAWS)
    bound, what = (omega * sq, f"ω = {omega:g}") if omega is not None else ((1 - delta) * sq, f"δ = {delta:g}")
    assert mean <= bound + 4 * se + 1e-12, (
        f"E‖C(x) − x‖² = {mean:.4g} exceeds the bound {bound:.4g} of {what} by more than 4 standard errors"
    )
    return f"E‖C(x) − x‖² = {mean:.4g} (± {se:.2g}) within {what}'s bound {bound:.4g} ({DRAWS} draws)"


def unbiased(s: Subject) -> str:
    c = s.build()
    if not c.unbiased:
        raise Skip("does not claim to be unbiased")
    _stateless(c)
    out, _ = _errors(c)
    sd = out.std(0) / math.sqrt(DRAWS)
    worst = float(((out.mean(0) - X).abs() / (sd + 1e-300)).max())
    assert bool(((out.mean(0) - X).abs() <= 5 * sd + 1e-12).all()), (
        f"E C(x) ≠ x: a coordinate's mean is {worst:.1f} standard errors off"
    )
    return f"E C(x) = x within 5 standard errors ({DRAWS} draws)"


PROPERTIES: dict[str, Property] = {
    "round-trip": round_trip,
    "bytes": byte_count,
    "omega-delta": omega_delta,
    "unbiased": unbiased,
}
