"""Row-block filling of noise draws (noise/_draws.fill_rows): the values do not depend on the worker threads."""

from __future__ import annotations

import torch

from tailtamer.noise import _draws, build_noise
from tailtamer.noise.base import BLOCK, NoiseModel


def test_parallel_blocks_equal_one_thread_and_the_base_sampler_bit_for_bit(monkeypatch):
    """α-stable draws filled by 2 worker threads equal the 1-thread fill and base ``NoiseModel.sample`` (one
    block after another), in float64 and float32, on a shape whose last block ends mid-array."""
    monkeypatch.setattr(_draws, "idle_cores", lambda own: 2)  # the parallel path, whatever the load
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5, "scale": 0.7})
    d = 997
    nodes = torch.arange(3 * BLOCK // d + 5) + 11
    before = torch.get_num_threads()
    try:
        for dtype in (torch.float64, torch.float32):
            torch.set_num_threads(1)
            one = model.sample(3, nodes, 4, d, call=2, dtype=dtype)
            torch.set_num_threads(2)
            two = model.sample(3, nodes, 4, d, call=2, dtype=dtype)
            assert torch.get_num_threads() == 2  # restored after the one-thread blocks
            base = NoiseModel.sample(model, 3, nodes, 4, d, call=2, dtype=dtype)
            assert one.dtype == dtype and torch.equal(one, two) and torch.equal(one, base)
    finally:
        torch.set_num_threads(before)


def test_fill_rows_hands_each_row_to_exactly_one_block(monkeypatch):
    monkeypatch.setattr(_draws, "idle_cores", lambda own: 2)
    seen = torch.zeros(50, dtype=torch.int64)

    def fill(ids: torch.Tensor, rows: torch.Tensor) -> None:
        seen[ids] += 1
        rows.copy_(ids.to(torch.float64)[:, None].expand_as(rows))

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        out = _draws.fill_rows(torch.arange(50), 7, torch.float64, block=21, fill=fill)
    finally:
        torch.set_num_threads(before)
    assert bool((seen == 1).all()) and torch.equal(out[:, 3], torch.arange(50, dtype=torch.float64))


def test_idle_cores_discounts_other_load(monkeypatch):
    from tailtamer import threads

    monkeypatch.setattr(threads, "cores", lambda: 2)
    for load, own, free in ((2.0, 2, 2), (3.1, 2, 1), (0.3, 1, 2), (9.0, 2, 1)):
        monkeypatch.setattr(_draws.os, "getloadavg", lambda load=load: (load, load, load))
        assert _draws.idle_cores(own) == free, (load, own)
