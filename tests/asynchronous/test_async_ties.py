"""Rennala as published and simultaneous arrivals (issue 29, items 1–2), on deterministic timing models."""

from __future__ import annotations

import pytest
import torch

from async_reference import simulate
from tailtamer.api import build, build_components
from tailtamer.engine import History
from tailtamer.engine.events.oracle import job_oracle

torch.set_num_threads(1)


def cfg(name: str, params: dict, n: int, steps: int, times: float | list[float], eval_every: int = 1) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": 3, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": name, **params},
        "topology": {"name": "server", "n": n},
        "noise": {"name": "gaussian", "scale": 0.1},
        "timing": {"name": "fixed", "times": times},
        "run": {"steps": steps, "eval_every": eval_every},
    }


def update_times(c: dict) -> tuple[list[float], object]:
    h = History()
    loop = build(c, callbacks=[h])
    loop.run()
    return [r["time"] for r in h.rows[1:]], loop.events


def test_rennala_as_published_discards_stale_gradients_and_never_stops_a_worker():
    """τ = (1, 2, 5), B = 3, ties in worker order, each worker restarting right after its arrival on the
    current model (Tyurin & Richtárik 2023, Alg. 3). By hand:
    round 0: w0 at 1, 2 and w1 at 2 → x_1 at t = 2 (w0 restarted at 2 on x_0, before the step);
    round 1: w0's x_0 job at 3 dropped; w0, w1 at 4; w0 at 5 → x_2 at 5; w2's x_0 job at 5 dropped;
    round 2: w0 at 6, 7, 8 → x_3 at 8; w1's x_1 jobs at 6 and 8 dropped;
    round 3: w0 at 9, 10, w1 at 10 → x_4 at 10; w2's x_2 job at 10 dropped;
    round 4: w0's x_3 job at 11 dropped; w0 at 12, w1 at 12, w0 at 13 → x_5 at 13;
    round 5: w1's x_4 job at 14 and w2's at 15 dropped; w0 at 14, 15, 16 → x_6 at 16.
    Eight dropped, none cancelled. The cancel variant (ringmaster-lmo) restarts everyone at each step:
    w0 at +1, +2 and w1 at +2 give a step every 2 s, w2's job cancelled each time — faster."""
    times, e = update_times(cfg("rennala", {"lr": 0.01, "B": 3}, 3, 6, [1.0, 2.0, 5.0]))
    assert times == [2.0, 5.0, 8.0, 10.0, 13.0, 16.0]
    assert (e.dropped, e.cancelled, e.arrivals) == (8, 0, 6 * 3 + 8)
    times, e = update_times(cfg("rennala", {"lr": 0.01, "B": 3, "variant": "cancel"}, 3, 6, [1.0, 2.0, 5.0]))
    assert times == [2.0, 4.0, 6.0, 8.0, 10.0, 12.0]
    assert (e.dropped, e.cancelled) == (0, 6)


def test_rennala_default_is_the_paper_and_applies_only_gradients_at_the_current_point():
    c = cfg("rennala", {"lr": 0.01, "B": 3}, 3, 40, [1.0, 2.0, 5.0], eval_every=40)
    loop = build(c)
    loop.run()
    assert loop.algorithm.variant == "discard"
    e = loop.events
    assert e.arrivals == 3 * 40 + e.dropped and e.dropped == sum(e.hist[1:])


def reference(c: dict, method: str, hp: dict) -> dict:
    loop = build(c)
    comp = build_components(c)

    def grad(i, j, x, call):
        o = job_oracle(comp.problem, comp.noise, 0, i, j)
        o.calls = call
        return o(x.reshape(1, -1))[0]

    return simulate(
        method, hp, c["topology"]["n"], comp.problem.x0(torch.float64), c["run"]["steps"], loop.timing.duration, grad
    )


@pytest.mark.parametrize(
    "name,params,method",
    [
        ("asgd", {"lr": 0.05}, "asgd"),
        ("ringmaster", {"lr": 0.05, "R": 3}, "ringmaster-discard"),
        ("ringmaster", {"lr": 0.05, "R": 3, "variant": "stop"}, "ringmaster-stop"),
        ("delay-adaptive-asgd", {"lr": 0.05}, "delay-adaptive"),
        ("rennala", {"lr": 0.05, "B": 3}, "rennala"),
    ],
)
def test_tied_times_follow_the_papers_loop(name, params, method):
    """Every worker takes 1.0: each arrival's worker restarts on the model right after its own update."""
    c = cfg(name, params, 6, 50, 1.0, eval_every=50)
    loop = build(c)
    x = loop.run()["x"][0]
    ref = reference(c, method, {k: v for k, v in params.items() if k != "variant"})
    assert torch.allclose(x, ref["x"], rtol=0, atol=1e-12)
    assert (loop.events.clock, loop.events.dropped, loop.events.cancelled) == (
        ref["clock"],
        ref["dropped"],
        ref["cancelled"],
    )


def test_asgd_mean_delay_with_tied_times_is_the_papers_loop():
    """n = 8 workers, time 1.0 each, 400 updates. At t = 1 the eight arrivals (worker order) see delays
    0, 1, …, 7, each worker restarting on the model its own update left; from then on every worker read the
    model 7 updates before its next arrival, so delay 7. Mean = (0+…+7 + 7·392)/400 = 5572/400 = 13.93/2.
    (The batch rule restarts all eight after the eighth update: delays 0…7 each round, mean 3.5.)"""
    loop = build(cfg("asgd", {"lr": 0.01}, 8, 400, 1.0, eval_every=400))
    loop.run()
    m = loop.events.metrics()
    assert m["mean_delay"] == pytest.approx((28 + 7 * 392) / 400, abs=1e-15) == pytest.approx(6.93)
    assert m["max_delay"] == 7 and m["time"] == 50.0 and m["utilization"] == 1.0
