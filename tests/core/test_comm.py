"""The simulated comm: every mixing kernel computes W @ Z; accounting; kernel choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailtamer.comm import SimulatedComm
from tailtamer.comm.codec import from_bytes, to_bytes
from tailtamer.comm.kernels import choose, wrapped_diagonals
from tailtamer.topology import build_topology

TOPOLOGIES = [
    ("ring", 100, {}),
    ("ring", 101, {"k": 3}),
    ("exponential", 100, {}),
    ("torus", 120, {}),
    ("hypercube", 128, {}),
    ("erdos-renyi", 80, {"p": 0.05}),
    ("star", 70, {}),
    ("complete", 9, {}),
]


@pytest.mark.parametrize("name,n,params", TOPOLOGIES)
@pytest.mark.parametrize("kernel", ["dense", "sparse", "diagonals", "auto"])
def test_every_kernel_computes_the_matrix_product(name, n, params, kernel):
    W = build_topology(name, n, params).W
    z = torch.randn(n, 3, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    comm = SimulatedComm(W, kernel=kernel)
    expected = torch.as_tensor(W) @ z.reshape(n, 15)
    assert torch.allclose(comm.mix(z).reshape(n, 15), expected, rtol=0, atol=1e-13)


def test_wrapped_diagonals_of_a_ring_and_the_automatic_choice():
    ring = build_topology("ring", 100, {}).W
    diags = wrapped_diagonals(ring)
    assert [o for o, _ in diags] == [0, 1, 99] and all(np.allclose(w, 1 / 3) for _, w in diags)
    assert choose(ring) == "diagonals"
    assert choose(build_topology("ring", 20, {"k": 2}).W) == "dense"  # small: dense
    assert choose(build_topology("erdos-renyi", 200, {"p": 0.03}).W) == "sparse"  # irregular: CSR
    with pytest.raises(ValueError, match="unknown mixing kernel"):
        SimulatedComm(ring, kernel="banded")


def test_accounting_counts_one_message_per_directed_edge_and_per_node_for_mean():
    W = build_topology("exponential", 8, {}).W  # 3 in-neighbours each
    comm = SimulatedComm(W)
    z = torch.zeros(8, 4, dtype=torch.float32)
    comm.mix(z)
    comm.mean(z)
    assert comm.stats.as_dict() == {"messages": 24 + 8, "bytes": (24 + 8) * 4 * 4, "mixes": 1, "means": 1}
    with comm.stats.paused():
        comm.mix(z)
    assert comm.stats.mixes == 1


def test_a_packet_travels_as_one_byte_buffer_bit_for_bit():
    """``to_bytes``/``from_bytes``: every tensor of a packet (ints, floats with NaN and -0.0, packed bits,
    matrix-shaped rows) comes back bit for bit, so a compressed average can be one all-gather."""
    g = torch.Generator().manual_seed(0)
    values = torch.randn(5, 7, generator=g, dtype=torch.float64)
    values[0, 0], values[1, 1] = float("nan"), -0.0
    packet = (
        torch.randint(0, 1000, (5, 7), generator=g, dtype=torch.int32),
        values,
        torch.randint(0, 256, (5, 3), generator=g, dtype=torch.int64).to(torch.uint8),
        torch.randn(5, 2, 4, generator=g, dtype=torch.float32),
    )
    buf, layout = to_bytes(packet)
    assert buf.dtype == torch.uint8 and buf.shape == (5, 7 * 4 + 7 * 8 + 3 + 8 * 4)
    back = from_bytes(torch.cat([buf, buf]), layout)  # as gathered: more rows than were sent
    for a, b in zip(packet, back, strict=True):
        assert b.dtype == a.dtype and b.shape[1:] == a.shape[1:]
        bits = (lambda t: t.view(torch.uint8)) if a.is_floating_point() else (lambda t: t)
        assert torch.equal(bits(b[:5]), bits(a)) and torch.equal(bits(b[5:]), bits(a))
