"""The counter-based generator: exact SplitMix64 bits, purity over node subsets, range and independence."""

from __future__ import annotations

import torch

from tailtamer import rng

MASK = (1 << 64) - 1


def test_tensor_mixer_matches_the_scalar_splitmix64():
    xs = [0, 1, 2, 3, 12345, 2**40 + 7, 2**62 - 1]
    got = rng.mix64_tensor(torch.tensor(xs, dtype=torch.int64))
    assert [int(v) & MASK for v in got] == [rng.mix64(x) for x in xs]
    # mix64(k) is the k-th output of SplitMix64 seeded with 0 (Steele, Lea, Flood 2014): known values
    assert rng.mix64(1) == 0xE220A8397B1DCDAF and rng.mix64(2) == 0x6E789E6AA1B965F4


def test_draws_for_a_subset_of_nodes_equal_the_rows_of_all_nodes():
    full = rng.uniform(7, "noise", torch.arange(10), step=3, d=33, call=1)
    part = rng.uniform(7, "noise", torch.tensor([3, 7]), step=3, d=33, call=1)
    assert torch.equal(part, full[[3, 7]])
    nodes = torch.tensor([3, 7, 7, 0])
    coords = torch.tensor([0, 32, 5, 9])
    assert torch.equal(rng.uniform_at(7, "noise", nodes, coords, 3, 1), full[nodes, coords])


def test_uniforms_are_in_the_open_interval_and_look_uniform():
    u = rng.uniform(0, "x", torch.arange(100), 0, 10_000)
    assert u.min() > 0 and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 2e-3 and abs(u.var().item() - 1 / 12) < 1e-3
    hist = torch.histc(u, bins=10, min=0, max=1) / u.numel()
    assert (hist - 0.1).abs().max() < 3e-3


def test_counters_give_independent_streams():
    base = rng.uniform(0, "x", torch.arange(4), 0, 1000)
    for other in (
        rng.uniform(1, "x", torch.arange(4), 0, 1000),
        rng.uniform(0, "y", torch.arange(4), 0, 1000),
        rng.uniform(0, "x", torch.arange(4), 1, 1000),
        rng.uniform(0, "x", torch.arange(4), 0, 1000, 1),
    ):
        assert not torch.equal(base, other)
        corr = torch.corrcoef(torch.stack([base.flatten(), other.flatten()]))[0, 1]
        assert abs(corr) < 0.05
    z = rng.normal(0, "z", torch.arange(50), 0, 2000)
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02


SHAPES = [
    (1, 1),
    (3, 0),
    (0, 5),
    (20, 20),
    (7, 4099),
    (5, 32768),
    (2, 32769),
    (3, 70001),
    (40000, 1),
    (9000, 5),
    (333, 97),
]


def test_fast_path_equals_the_torch_reference_bit_for_bit_on_many_shapes():
    """The numpy block path and the torch int64 path (the one non-CPU tensors take) give the same bits, and
    uniforms, for shapes that fall inside one block, across block edges (rows and within a row) and empty."""
    for i, (n, d) in enumerate(SHAPES):
        nodes = torch.arange(n, dtype=torch.int64) * 7 + 2**40 * (i % 2)  # large global ids too
        b = rng.bits(11, "noise", nodes, 5 + i, d, call=i)
        ref = rng.bits_reference(11, "noise", nodes, 5 + i, d, call=i)
        assert b.dtype == torch.int64 and b.shape == (n, d) and torch.equal(b, ref), (n, d)
        assert torch.equal(rng.uniform(11, "noise", nodes, 5 + i, d, call=i), rng.to_unit(ref)), (n, d)
        assert torch.equal(
            rng.uniform(11, "noise", nodes, 5 + i, d, call=i, dtype=torch.float32), rng.to_unit(ref).to(torch.float32)
        ), (n, d)


def test_pairs_equal_the_grid_on_the_fast_and_reference_paths():
    full = rng.bits_reference(3, "x", torch.arange(50), 2, 300)
    r = torch.randint(0, 50, (1000,), generator=torch.Generator().manual_seed(0))
    c = torch.randint(0, 300, (1000,), generator=torch.Generator().manual_seed(1))
    assert torch.equal(rng.bits_at(3, "x", r, c, 2), full[r, c])


def test_a_distributed_row_block_equals_the_simulators_rows():
    """A process hosting the block [lo, hi) of nodes draws exactly the simulator's rows lo..hi-1, for every
    block split of n = 10 over 1..4 processes (comm.distributed.block_bounds) and a d that spans blocks."""
    from tailtamer.comm.distributed import block_bounds

    n, d = 10, rng.CHUNK // 3 + 5
    full = rng.Randomness(seed=4, nodes=torch.arange(n), step=9)
    sim = full.uniform("noise", d, call=1)
    for world in range(1, 5):
        for lo, hi in block_bounds(n, world):
            part = rng.Randomness(seed=4, nodes=torch.arange(lo, hi), step=9)
            assert torch.equal(part.uniform("noise", d, call=1), sim[lo:hi])
            assert torch.equal(part.normal("noise", 3), full.normal("noise", 3)[lo:hi])
