"""Compute-time models: counter-based paired draws, the models' defining formulas, validation."""

from __future__ import annotations

import math

import pytest
import torch

from tailtamer import rng
from tailtamer.comm import SimulatedComm
from tailtamer.config import resolve
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.timing import TIMINGS, draws


def test_scalar_draws_equal_the_tensor_generator():
    for seed, w, j in [(0, 0, 0), (3, 7, 11), (12345, 999, 10**6)]:
        assert draws.uniform(seed, "timing", w, j) == float(rng.uniform(seed, "timing", torch.tensor([w]), j, 1)[0, 0])
        assert draws.normal(seed, "timing", w, j) == float(rng.normal(seed, "timing", torch.tensor([w]), j, 1)[0, 0])


def test_times_are_a_function_of_seed_worker_and_job_only():
    a = TIMINGS.build("sqrt", {}, n=8, seed=4)
    b = TIMINGS.build("sqrt", {}, n=8, seed=4)
    c = TIMINGS.build("sqrt", {}, n=8, seed=5)
    seq = [(i, j) for j in range(5) for i in range(8)]
    assert [a.duration(i, j) for i, j in seq] == [b.duration(i, j) for i, j in reversed(seq)][::-1]
    assert [a.duration(i, j) for i, j in seq] != [c.duration(i, j) for i, j in seq]


def test_sqrt_model_is_base_plus_half_normal_jitter():
    m = TIMINGS.build("sqrt", {"jitter": 0.05}, n=4, seed=0)
    for i in range(4):
        for j in range(20):
            extra = m.duration(i, j) - (1 + math.sqrt(i + 1))
            assert extra >= 0
            assert extra == pytest.approx(abs(draws.normal(0, "timing", i, j)) * 0.05 * math.sqrt(i + 1), rel=1e-12)
    assert TIMINGS.build("sqrt", {"jitter": 0.0}, n=3, seed=0).duration(2, 7) == 1 + math.sqrt(3)


def test_fixed_straggler_trace_and_heavy_tailed_models(tmp_path):
    assert TIMINGS.build("fixed", {"times": [1.0, 2.0]}, n=2, seed=0).duration(1, 9) == 2.0
    s = TIMINGS.build("straggler", {"factor": 100.0, "workers": [1]}, n=3, seed=2)
    base = TIMINGS.build("sqrt", {}, n=3, seed=2)
    assert s.duration(1, 4) == 100.0 * base.duration(1, 4) and s.duration(0, 4) == base.duration(0, 4)
    f = tmp_path / "t.csv"
    f.write_text("w0,w1\n1.0,2.0\n3.0,4.0\n")
    t = TIMINGS.build("trace", {"path": str(f)}, n=2, seed=0)
    assert [t.duration(1, j) for j in range(3)] == [2.0, 4.0, 2.0]
    p = TIMINGS.build("pareto", {"alpha": 1.5}, n=2, seed=0)
    ln = TIMINGS.build("lognormal", {"sigma": 1.0}, n=2, seed=0)
    assert all(p.duration(1, j) >= 1 + math.sqrt(2) and ln.duration(1, j) > 1 + math.sqrt(2) for j in range(50))
    e = TIMINGS.build("exponential", {"mean": 2.0}, n=1, seed=0)
    mean = sum(e.duration(0, j) for j in range(4000)) / 4000
    assert mean == pytest.approx(2.0, rel=0.08)


def test_bad_timing_configs_fail_early():
    with pytest.raises(ValidationError, match="2 entries for 3 workers"):
        TIMINGS.build("fixed", {"times": [1.0, 2.0]}, n=3, seed=0)
    with pytest.raises(ValidationError, match="outside"):
        TIMINGS.build("straggler", {"workers": [5]}, n=3, seed=0)
    with pytest.raises(ValidationError, match="CSV"):
        TIMINGS.build("trace", {"path": "/nonexistent.csv"}, n=3, seed=0)
    base = {"problem": {"name": "quadratic"}, "algorithm": {"name": "asgd"}, "topology": {"name": "server", "n": 2}}
    with pytest.raises(ConfigError, match="did you mean 'sqrt'"):
        resolve({**base, "timing": {"name": "sqrtt"}})
    with pytest.raises(ConfigError, match="did you mean 'jitter'"):
        resolve({**base, "timing": {"jiter": 0.1}})


def test_timing_section_is_filled_for_async_methods_only():
    base = {"problem": {"name": "quadratic"}, "topology": {"name": "server", "n": 2}}
    assert resolve({**base, "algorithm": {"name": "asgd"}})["timing"] == {"name": "sqrt", "jitter": 0.05, "scale": 1.0}
    sync = resolve(
        {"problem": {"name": "quadratic"}, "algorithm": {"name": "dsgd"}, "topology": {"name": "ring", "n": 4}}
    )
    assert "timing" not in sync and sync["run"]["time"] == 0.0


def test_least_squares_minibatch_gradient_is_the_sampled_rows_formula_and_unbiased():
    from tailtamer.problems import build_problem

    p = build_problem("least-squares", 2, {"dim": 6, "samples": 40, "batch": 5})
    x = torch.randn(2, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    nodes = torch.arange(2)
    g = p.grad(x, nodes, seed=1, step=3, call=2)
    idx = (rng.uniform(1, "batch", nodes, 3, 5, 2) * 40).long()
    A, b = p._data["A"], p._data["b"]
    for r in range(2):
        Ab = A[idx[r]]
        assert torch.allclose(g[r], Ab.T @ (Ab @ x[r] - b[idx[r]]) / 5, rtol=0, atol=1e-13)
    mean = sum(p.grad(x, nodes, seed=0, step=s) for s in range(3000)) / 3000
    assert torch.allclose(mean, p.local_grad(x, nodes), rtol=0.1, atol=0.02)
    assert p.metrics(p.x_star.reshape(1, -1), SimulatedComm(None, n=1))["gap"] == pytest.approx(0.0, abs=1e-12)


def test_delay_rules_and_scheme_options_validate_early():
    from tailtamer.algorithms import ALGORITHMS
    from tailtamer.algorithms.asynchronous import DELAY_RULES

    mish = DELAY_RULES.build("mishchenko", {}, n=4)
    assert [mish(d) for d in (0, 4, 8, 16)] == [1.0, 1.0, 0.5, 0.25]
    thr = DELAY_RULES.build("threshold", {"R": 3}, n=4)
    assert [thr(d) for d in (0, 2, 3, 9)] == [1.0, 1.0, None, None]
    assert DELAY_RULES.build("poly", {"power": 1.0}, n=4)(3) == 0.25
    assert DELAY_RULES.build("inverse", {"c": 2.0}, n=4)(8) == 0.25
    with pytest.raises(ConfigError, match="did you mean 'mishchenko'"):
        ALGORITHMS.build("asgd", {"delay": "mishenko"}, steps=10)
    with pytest.raises(ConfigError, match="did you mean 'l2clip'"):
        ALGORITHMS.build("asgd", {"operator": {"name": "l2clp", "gamma": 1.0}}, steps=10)
    with pytest.raises(ConfigError, match="did you mean 'lam'"):
        ALGORITHMS.build("dc-asgd", {"compensation": {"name": "dc", "lamda": 1.0}}, steps=10)
    with pytest.raises(ValidationError, match="order"):
        ALGORITHMS.build("asgd", {"order": "clip-last"}, steps=10)
    with pytest.raises(ValidationError, match="variant"):
        ALGORITHMS.build("ringmaster", {"variant": "stopp"}, steps=10)
