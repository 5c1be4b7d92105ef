"""The event engine: reference per-event loops, reductions to lockstep SGD, caps, checkpoints, time limit."""

from __future__ import annotations

import json
import math

import pytest
import torch

from async_reference import simulate
from tailtamer.algorithms import ALGORITHMS
from tailtamer.api import build, build_components, make_async_loop
from tailtamer.engine import History
from tailtamer.engine.events.loop import AsyncLoop
from tailtamer.engine.events.oracle import job_oracle
from tailtamer.experiments.runner import run_config
from tailtamer.testing.interrupt import StopAt

torch.set_num_threads(1)

N, D = 4, 5


def cfg(
    name: str,
    params: dict | None = None,
    *,
    n: int = N,
    steps: int = 40,
    timing: dict | None = None,
    noise: dict | None = None,
    problem: dict | None = None,
    run: dict | None = None,
) -> dict:
    return {
        "problem": problem or {"name": "quadratic", "dim": D, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": name, **(params or {})},
        "topology": {"name": "server", "n": n},
        "noise": noise or {"name": "student-t", "df": 2.5, "scale": 0.5},
        "timing": timing or {"name": "sqrt", "jitter": 0.3},
        "run": {"steps": steps, "eval_every": 10, **(run or {})},
    }


def reference(c: dict, method: str, hp: dict) -> dict:
    loop = build(c)
    comp = build_components(c)

    def grad(i, j, x, call):
        o = job_oracle(comp.problem, comp.noise, c["run"].get("seed", 0), i, j)
        o.calls = call
        return o(x.reshape(1, -1))[0]

    x0 = comp.problem.x0(torch.float64)
    return simulate(method, hp, c["topology"]["n"], x0, c["run"]["steps"], loop.timing.duration, grad)


CASES = [
    ("asgd", {"lr": 0.05}, "asgd", {"lr": 0.05}),
    ("delay-adaptive-asgd", {"lr": 0.05}, "delay-adaptive", {"lr": 0.05}),
    ("clipped-asgd", {"lr": 0.05, "operator": {"name": "l2clip", "gamma": 0.5}}, "clipped", {"lr": 0.05, "gamma": 0.5}),
    ("dc-asgd", {"lr": 0.05, "compensation": {"name": "dc", "lam": 0.01}}, "dc", {"lr": 0.05, "lam": 0.01}),
    (
        "dc-asgd",
        {"lr": 0.05, "compensation": {"name": "dc-adaptive", "lam0": 0.2}},
        "dc-a",
        {"lr": 0.05, "lam0": 0.2, "m": 0.95, "eps": 1e-7},
    ),
    ("ringmaster", {"lr": 0.05, "R": 2}, "ringmaster-discard", {"lr": 0.05, "R": 2}),
    ("ringmaster", {"lr": 0.05, "R": 2, "variant": "stop"}, "ringmaster-stop", {"lr": 0.05, "R": 2}),
    ("nm-asgd", {"lr": 0.05, "alpha": 0.3, "R": 3}, "nm", {"lr": 0.05, "alpha": 0.3, "R": 3}),
    ("nm-asgd", {"lr": 0.2, "agnostic": True}, "nm-agnostic", {"lr": 0.2}),
    ("rennala", {"lr": 0.05, "B": 3}, "rennala", {"lr": 0.05, "B": 3}),
    ("rennala", {"lr": 0.05, "B": 3, "variant": "cancel"}, "rennala-cancel", {"lr": 0.05, "B": 3}),
    ("sync-sgd", {"lr": 0.05}, "sync", {"lr": 0.05}),
    ("m-sync", {"lr": 0.05, "m": 2}, "m-sync", {"lr": 0.05, "m": 2}),
    (
        "fedbuff",
        {"lr": 0.8, "local_lr": 0.05, "local_steps": 3, "K": 2},
        "fedbuff",
        {"lr": 0.8, "local_lr": 0.05, "Q": 3, "K": 2},
    ),
]


@pytest.mark.parametrize("name,params,method,hp", CASES, ids=[c[2] for c in CASES])
def test_engine_matches_the_per_event_reference_loop(name, params, method, hp):
    c = cfg(name, params)
    loop = build(c)
    state = loop.run()
    ref = reference(c, method, hp)
    assert torch.allclose(state["x"][0], ref["x"], rtol=0, atol=1e-12), (state["x"][0] - ref["x"]).abs().max()
    assert loop.events.clock == ref["clock"]
    assert loop.events.dropped == ref["dropped"]
    assert loop.events.cancelled == ref["cancelled"]


def lockstep(n: int, steps: int, lr: float, noise: dict) -> torch.Tensor:
    """Lockstep DSGD on the complete graph: x ← mean_i(x − lr·g_i(x, step t)) — minibatch SGD over n nodes."""
    c = {
        "problem": {"name": "quadratic", "dim": D, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": "dsgd", "lr": lr},
        "topology": {"name": "complete", "n": n},
        "noise": noise,
        "run": {"steps": steps, "eval_every": steps},
    }
    return build(c).run()["x"]


def test_one_worker_with_a_fixed_time_is_sequential_sgd():
    noise = {"name": "student-t", "df": 2.5, "scale": 0.5}
    loop = build(cfg("asgd", {"lr": 0.05}, n=1, steps=30, noise=noise, timing={"name": "fixed", "times": 2.0}))
    x = loop.run()["x"]
    assert torch.allclose(x, lockstep(1, 30, 0.05, noise), rtol=0, atol=1e-12)
    assert loop.events.clock == 60.0 and loop.events.delay_max == 0


def test_zero_delays_ringmaster_stop_with_R1_is_sequential_sgd_of_the_fastest_worker():
    """R = 1 cancels every other job at each update, so every applied gradient has delay 0 and comes from
    the fastest worker (worker 0, τ = 1): SGD on node 0's oracle, one update per τ_0."""
    noise = {"name": "student-t", "df": 2.5, "scale": 0.5}
    c = cfg(
        "ringmaster",
        {"lr": 0.05, "R": 1, "variant": "stop"},
        n=3,
        steps=25,
        noise=noise,
        timing={"name": "fixed", "times": [1.0, 1.5, 2.5]},
    )
    loop = build(c)
    x = loop.run()["x"]
    assert loop.events.delay_max == 0 and loop.events.clock == 25.0
    # node 0 of a lockstep run on one node sees node 0's noise: compare with the lockstep n = 1 run's oracle
    assert torch.allclose(x, lockstep(1, 25, 0.05, noise), rtol=0, atol=1e-12)


def test_sync_sgd_is_minibatch_sgd_and_a_round_costs_the_slowest_worker():
    noise = {"name": "student-t", "df": 2.5, "scale": 0.5}
    loop = build(cfg("sync-sgd", {"lr": 0.05}, steps=20, noise=noise))
    x = loop.run()["x"]
    ref = lockstep(N, 20, 0.05, noise)
    assert torch.allclose(x[0], ref[0], rtol=0, atol=1e-12)
    rounds = sum(max(loop.timing.duration(i, r) for i in range(N)) for r in range(20))
    assert loop.events.clock == pytest.approx(rounds, rel=1e-14)
    assert loop.events.delay_max == 0


def test_m_sync_round_costs_the_mth_order_statistic():
    loop = build(cfg("m-sync", {"lr": 0.05, "m": 2}, steps=10))
    loop.run()
    # job index of every worker equals the round: all restart each round
    rounds = sum(sorted(loop.timing.duration(i, r) for i in range(N))[1] for r in range(10))
    assert loop.events.clock == pytest.approx(rounds, rel=1e-14)
    assert loop.events.cancelled == 10 * (N - 2)


def test_ringmaster_discard_drops_exactly_the_jobs_with_delay_at_least_R():
    for R in (1, 2, 3):
        loop = build(cfg("ringmaster", {"lr": 0.05, "R": R}, n=6, steps=60))
        loop.run()
        e = loop.events
        assert e.dropped == sum(e.hist[R:]) and e.arrivals == e.updates + e.dropped
        assert e.dropped > 0


def test_ringmaster_stop_never_applies_a_delay_of_R_or_more():
    loop = build(cfg("ringmaster", {"lr": 0.05, "R": 2, "variant": "stop"}, n=6, steps=60))
    loop.run()
    assert loop.events.delay_max < 2 and loop.events.cancelled > 0 and loop.events.dropped == 0


def test_fedbuff_with_K_n_and_equal_times_is_fedavg():
    Q, lr_l, lr_g, rounds = 3, 0.05, 0.7, 8
    noise = {"name": "gaussian", "scale": 0.5}
    c = cfg(
        "fedbuff",
        {"lr": lr_g, "local_lr": lr_l, "local_steps": Q, "K": N},
        steps=rounds,
        noise=noise,
        timing={"name": "fixed", "times": 1.0},
    )
    loop = build(c)
    x = loop.run()["x"][0]
    comp = build_components(c)
    y = comp.problem.x0(torch.float64)
    for r in range(rounds):
        deltas = []
        for i in range(N):
            o = job_oracle(comp.problem, comp.noise, 0, i, r)
            z = y.reshape(1, -1)
            for _ in range(Q):
                z = z - lr_l * o(z)
            deltas.append(y - z[0])
        y = y - lr_g * torch.stack(deltas).mean(0)
    assert torch.allclose(x, y, rtol=0, atol=1e-12)
    assert loop.events.delay_max == 0 and loop.events.clock == rounds * 1.0


def test_asgd_converges_on_a_quadratic():
    c = cfg(
        "asgd",
        {"lr": 0.01},
        n=8,
        steps=1500,
        noise={"name": "gaussian", "scale": 0.1},
        problem={"name": "quadratic", "dim": D, "heterogeneity": 0.0, "hessian_spread": 0.0},
    )
    h = History()
    build(c, callbacks=[h]).run()
    assert h.rows[-1]["dist_to_opt"] < 0.05 * h.rows[0]["dist_to_opt"]


@pytest.mark.parametrize(
    "name,params",
    [
        ("clipped-asgd", {"lr": 0.02}),
        ("asgd", {"lr": 0.02, "operator": {"name": "biclip", "u": 1.0, "d": 0.01}}),
        ("asgd", {"lr": 0.02, "operator": {"name": "cclip", "gamma": 1.0}}),
        ("nm-asgd", {"lr": 0.02, "alpha": 0.2, "R": 4}),
        ("ringmaster", {"lr": 0.02, "R": 4, "operator": {"name": "l2clip", "gamma": 1.0}}),
        ("dc-asgd", {"lr": 0.02, "operator": {"name": "l2clip", "gamma": 1.0}, "order": "compensate-first"}),
    ],
)
def test_clipped_methods_stay_finite_and_progress_under_cauchy_noise(name, params):
    c = cfg(
        name,
        params,
        n=8,
        steps=800,
        noise={"name": "cauchy", "scale": 1.0},
        problem={"name": "quadratic", "dim": D, "heterogeneity": 0.0, "hessian_spread": 0.0},
    )
    h = History()
    state = build(c, callbacks=[h]).run()
    assert bool(torch.isfinite(state["x"]).all())
    assert h.rows[-1]["dist_to_opt"] < 0.3 * h.rows[0]["dist_to_opt"]


@pytest.mark.parametrize(
    "name,params",
    [
        ("ringmaster", {"lr": 0.05, "R": 2, "variant": "stop"}),
        ("fedbuff", {"lr": 0.5, "local_steps": 2, "K": 3}),
        ("rennala", {"lr": 0.05, "B": 3}),
        ("dc-asgd", {"lr": 0.05, "compensation": {"name": "dc-adaptive", "lam0": 0.2}}),
    ],
)
def test_a_stopped_run_resumes_bitwise_identically(tmp_path, name, params):
    c = cfg(name, params, n=5, steps=60, run={"checkpoint_every": 20})
    full = run_config(c, tmp_path / "full", progress=False, plot=False)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_config(c, part, progress=False, plot=False, callbacks=[StopAt(50)])
    resumed = run_config(c, part, resume=True, progress=False, plot=False)
    assert resumed["metrics"] == full["metrics"] and resumed["comm"] == full["comm"]

    def strip(p):
        return [
            {k: v for k, v in json.loads(x).items() if k != "wall_time_s"}
            for x in (p / "metrics.jsonl").read_text().splitlines()
        ]

    assert strip(part) == strip(tmp_path / "full")
    a = torch.load(tmp_path / "full" / "checkpoint.pt", weights_only=True)["state"]
    b = torch.load(part / "checkpoint.pt", weights_only=True)["state"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_time_limit_stops_at_a_simulated_time():
    limit = 50.0
    loop = build(cfg("asgd", {"lr": 0.05}, steps=10_000, run={"time": limit}))
    loop.run()
    assert loop.step < 10_000 and loop.events.clock <= limit < loop.events.peek()
    assert loop.last_metrics["time"] == loop.events.clock


def test_metrics_carry_time_delays_utilization_and_job_counters():
    h = History()
    build(cfg("ringmaster", {"lr": 0.05, "R": 2}, n=6, steps=40), callbacks=[h]).run()
    last = h.rows[-1]
    for key in ("time", "arrivals", "dropped", "cancelled", "mean_delay", "max_delay", "utilization"):
        assert key in last
    assert 0.99 <= last["utilization"] <= 1.0 + 1e-12  # ringmaster keeps every worker busy
    assert last["arrivals"] == 40 + last["dropped"]


def test_sync_workers_idle_while_waiting():
    h = History()
    build(
        cfg("sync-sgd", {"lr": 0.05}, n=4, steps=20, timing={"name": "fixed", "times": [1.0, 1.0, 1.0, 4.0]}),
        callbacks=[h],
    ).run()
    assert h.rows[-1]["utilization"] == pytest.approx((1 + 1 + 1 + 4) / 16)


def test_registered_names_and_engine_choice():
    for name in (
        "asgd",
        "ringmaster",
        "rennala",
        "fedbuff",
        "dc-asgd",
        "sync-sgd",
        "m-sync",
        "nm-asgd",
        "clipped-asgd",
        "delay-adaptive-asgd",
        "async-local",
    ):
        assert ALGORITHMS.get(name).family == "async"
    assert isinstance(build(cfg("asgd")), AsyncLoop)
    c = build_components(cfg("asgd"))
    assert c.topology is None and make_async_loop(c).n == N
    assert not math.isnan(make_async_loop(c).timing.duration(0, 0))


def test_run_folder_holds_the_async_report(tmp_path):
    c = cfg("ringmaster", {"lr": 0.05, "R": 2}, n=5, steps=30)
    summary = run_config(c, tmp_path / "r", progress=False, plot=True)
    rep = json.loads((tmp_path / "r" / "async.json").read_text())
    assert sum(rep["delay_histogram"]) == rep["arrivals"] == 30 + rep["dropped"]
    assert rep["dropped"] == sum(rep["delay_histogram"][2:]) and len(rep["utilization"]) == 5
    assert summary["metrics"]["time"] == rep["time"] and summary["steps"] == 30
    for png in ("metrics.png", "metrics_time.png", "delays.png", "utilization.png"):
        assert (tmp_path / "r" / png).stat().st_size > 0


def test_async_local_with_identity_outer_is_fedbuff_and_adam_outer_first_step_is_a_sign_step():
    inner = {"name": "l2clip", "gamma": 0.5}
    common = {"lr": 0.7, "local_lr": 0.05, "local_steps": 2, "K": 2, "inner": inner}
    a = build(cfg("fedbuff", common)).run()["x"]
    b = build(cfg("async-local", {**common, "outer": "identity"})).run()["x"]
    assert torch.equal(a, b)
    loop = build(cfg("async-local", {"lr": 0.01, "K": 1, "inner": inner}, steps=1))
    x0 = loop.problem.x0(torch.float64)
    x1 = loop.run()["x"][0]
    assert torch.allclose((x0 - x1).abs(), torch.full_like(x0, 0.01), rtol=1e-4)  # Adam's first step: lr·sign


def test_fedbuff_concurrency_cap_and_max_staleness():
    h = History()
    loop = build(cfg("fedbuff", {"lr": 0.5, "K": 2, "concurrency": 2}, n=5, steps=40), callbacks=[h])
    loop.run()
    assert all(j > 0 for j in loop.events.jobs)  # round-robin uses every worker
    assert h.rows[-1]["utilization"] == pytest.approx(2 / 5, rel=1e-9)  # exactly 2 in flight at all times
    loop = build(cfg("fedbuff", {"lr": 0.5, "K": 2, "max_staleness": 1}, n=6, steps=40))
    loop.run()
    e = loop.events
    assert e.dropped == sum(e.hist[2:]) > 0


def test_async_methods_refuse_a_real_comm_and_lockstep_methods_refuse_a_time_limit():
    from tailtamer.api import make_loop
    from tailtamer.comm import SimulatedComm
    from tailtamer.errors import ValidationError

    with pytest.raises(ValidationError, match="asynchronous"):
        make_loop(build_components(cfg("asgd")), comm=SimulatedComm(None, n=N))
    lock = {
        "problem": {"name": "quadratic"},
        "algorithm": {"name": "dsgd"},
        "topology": {"name": "ring", "n": 4},
        "run": {"time": 5.0},
    }
    with pytest.raises(ValidationError, match="asynchronous methods only"):
        build_components(lock)
