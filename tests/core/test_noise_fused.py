"""The compiled loops of the α-stable sampler (noise/fused.py) give the eager path's numbers bit for bit."""

from __future__ import annotations

import logging

import pytest
import torch

from tailtamer.noise import _draws, build_noise, fused
from tailtamer.noise.base import BLOCK, NoiseModel


def _draw(model, monkeypatch, flag: str, nodes: torch.Tensor, d: int, dtype: torch.dtype) -> torch.Tensor:
    monkeypatch.setenv("TAILTAMER_FUSED", flag)
    return model.sample(5, nodes, 9, d, call=1, dtype=dtype)


def test_compiled_uniforms_give_the_eager_draws_bit_for_bit(monkeypatch):
    """Tiny block shapes are compiled (seconds, once): a draw with one whole block (compiled) and a partial
    one (eager) equals the eager draw and the base sampler, in float32 with a scale and float64 without,
    at |β| = 1 and α = 2."""
    d = 64
    nodes = torch.arange(BLOCK // d + 3) + 7  # one whole block of BLOCK // d rows, then 3 rows
    for alpha, skew, scale, dtype in (
        (1.5, 0.5, 0.7, torch.float32),
        (2.0, -1.0, 1.0, torch.float64),
        (1.05, 1.0, 0.7, torch.float32),
        (1.2, 0.0, 1.0, torch.float64),
    ):
        model = build_noise("alpha-stable", {"alpha": alpha, "skew": skew, "scale": scale})
        compiled = _draw(model, monkeypatch, "1", nodes, d, dtype)
        eager = _draw(model, monkeypatch, "0", nodes, d, dtype)
        assert torch.equal(compiled, eager)
        assert torch.equal(eager, NoiseModel.sample(model, 5, nodes, 9, d, call=1, dtype=dtype))
        # a process hosting some of the rows (eager path: a partial block) draws the same rows
        part = nodes[100:140]
        assert torch.equal(_draw(model, monkeypatch, "1", part, d, dtype), compiled[100:140])
    if fused._STATE["failed"]:
        pytest.skip("no working torch.compile C++ backend here: only the eager fallback was checked")
    assert (BLOCK // d, d, torch.float32, True, 1) in fused._COMPILED and fused.compile_seconds() > 0


def test_a_failed_compile_falls_back_to_the_eager_draws_and_logs_once(monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(fused, "_COMPILED", {})
    monkeypatch.setitem(fused._STATE, "failed", False)
    monkeypatch.setattr(torch._inductor, "compile", broken)
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5})
    nodes, d = torch.arange(2 * BLOCK // 32), 32
    with caplog.at_level(logging.WARNING, logger=fused.__name__):
        first = _draw(model, monkeypatch, "1", nodes, d, torch.float64)
        again = _draw(model, monkeypatch, "1", nodes, d, torch.float64)
    assert torch.equal(first, _draw(model, monkeypatch, "0", nodes, d, torch.float64)) and torch.equal(first, again)
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1 and len(caplog.records) == 1
    assert "no C++ compiler" in caplog.records[0].message and not fused.enabled(10**9)


def test_the_compiled_loop_is_used_only_for_large_draws_unless_asked(monkeypatch):
    monkeypatch.setitem(fused._STATE, "failed", False)
    monkeypatch.delenv("TAILTAMER_FUSED", raising=False)
    assert not fused.enabled(fused.MIN_ENTRIES - 1) and fused.enabled(fused.MIN_ENTRIES)
    monkeypatch.setenv("TAILTAMER_FUSED", "0")
    assert not fused.enabled(10**9)
    monkeypatch.setenv("TAILTAMER_FUSED", "1")
    assert fused.enabled(1)


def test_blocks_run_one_after_another_on_the_run_threads_with_the_same_bits(monkeypatch):
    """With 2 intra-op threads and idle cores, the compiled loops run on both threads, one block at a time
    (Python worker threads would take turns at the GIL the compiled loops hold): the draws are the eager
    one-thread draws bit for bit, and the loops were compiled for 2 threads."""
    monkeypatch.setattr(_draws, "idle_cores", lambda own: 2)
    monkeypatch.setattr(fused, "PARALLEL_BLOCK", 2 * BLOCK)  # a small compiled shape, compiled fast
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5, "scale": 0.7})
    d = 64
    nodes = torch.arange(2 * (2 * BLOCK // d) + 5) + 3  # two whole blocks and a partial one
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = _draw(model, monkeypatch, "1", nodes, d, torch.float32)
        assert torch.get_num_threads() == 2
        torch.set_num_threads(1)
        one = _draw(model, monkeypatch, "0", nodes, d, torch.float32)
    finally:
        torch.set_num_threads(before)
    assert torch.equal(two, one)
    if not fused._STATE["failed"]:
        assert (2 * BLOCK // d, d, torch.float32, True, 2) in fused._COMPILED
