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
    assert 0 < u.min() and u.max() < 1
    assert abs(u.mean().item() - 0.5) < 2e-3 and abs(u.var().item() - 1 / 12) < 1e-3
    hist = torch.histc(u, bins=10, min=0, max=1) / u.numel()
    assert (hist - 0.1).abs().max() < 3e-3


def test_counters_give_independent_streams():
    base = rng.uniform(0, "x", torch.arange(4), 0, 1000)
    for other in (rng.uniform(1, "x", torch.arange(4), 0, 1000), rng.uniform(0, "y", torch.arange(4), 0, 1000),
                  rng.uniform(0, "x", torch.arange(4), 1, 1000), rng.uniform(0, "x", torch.arange(4), 0, 1000, 1)):
        assert not torch.equal(base, other)
        corr = torch.corrcoef(torch.stack([base.flatten(), other.flatten()]))[0, 1]
        assert abs(corr) < 0.05
    z = rng.normal(0, "z", torch.arange(50), 0, 2000)
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
