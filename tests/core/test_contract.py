"""The contract every registered algorithm keeps, whatever its family (iterates the whole ALGORITHMS registry,
so families registered later are covered without editing this file).

For each one, on a tiny easy problem (quadratic, d = 3, n = 4, mild Student-t noise, float64):
* it knows its registered name, and its hyperparameters are JSON data (what a run folder records);
* the state keeps its keys, shapes and dtypes from ``init`` through every step, and stays finite (the event
  engine's bookkeeping, ``engine.*``, holds ∞ for idle workers and a growing delay histogram);
* a run stopped after 3 steps, checkpointed (rundir/checkpoint.py), loaded into a fresh loop and resumed
  equals the uninterrupted run bitwise — state and communication counters.
"""
from __future__ import annotations

import json

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.api import build
from tailtamer.engine.callbacks import Callback
from tailtamer.rundir.checkpoint import load_checkpoint, save_checkpoint

STEPS, CUT, N = 6, 3, 4
NAMES = ALGORITHMS.names()


def config(name: str) -> dict:
    graph = ALGORITHMS.build(name, {}, steps=STEPS).uses_graph()
    return {"problem": {"name": "quadratic", "dim": 3},
            "algorithm": {"name": name},
            "topology": {"name": "ring" if graph else "server", "n": N},
            "noise": {"name": "student-t", "df": 2.5, "scale": 0.1},
            "run": {"steps": STEPS, "seed": 5, "eval_every": STEPS, "dtype": "float64"}}


def layout(state: dict) -> dict:
    """Keys, shapes and dtypes of the algorithm's state. The event engine's own bookkeeping (``engine.*``: job
    clock, in-flight events, a delay histogram that grows with the largest delay seen) keeps its keys and
    dtypes, not its shapes."""
    return {k: ((None if k.startswith("engine.") else tuple(v.shape)), v.dtype) for k, v in state.items()}


class Layouts(Callback):
    """Records the state's layout after every step."""

    def __init__(self):
        self.seen: list[dict] = []

    def on_step(self, loop, step, state):
        self.seen.append(layout(state))


def test_every_family_is_covered():
    families = {ALGORITHMS.build(name, {}, steps=STEPS).family for name in NAMES}
    assert {"decentralized", "local-update"} <= families
    assert len(NAMES) >= 70                     # 10 decentralized + 56 TailOPT pairs + 4 named instances


@pytest.mark.parametrize("name", NAMES)
def test_algorithm_contract(name, tmp_path):
    alg = ALGORITHMS.build(name, {}, steps=STEPS)
    assert alg.name == name
    json.dumps(alg.hyperparameters())

    cfg = config(name)
    layouts = Layouts()
    loop = build(cfg, callbacks=[layouts])
    start = loop.initial_state()
    full = loop.run()
    assert "x" in start and all(seen == layout(start) for seen in layouts.seen), name
    assert all(bool(torch.isfinite(v).all()) for k, v in full.items() if not k.startswith("engine.")), name
    assert (full["x"] - start["x"]).abs().max() > 0, name                      # it stepped

    half_loop = build(cfg)
    half_loop.steps = CUT                       # stop early; the algorithm keeps the horizon STEPS
    half = half_loop.run()
    save_checkpoint(tmp_path, half_loop, CUT, half)
    resumed_loop = build(cfg)
    state, step = load_checkpoint(tmp_path, resumed_loop)
    assert step == CUT
    resumed = resumed_loop.run(state, start_step=step)
    assert set(resumed) == set(full)
    for k in full:
        assert resumed[k].dtype == full[k].dtype and torch.equal(resumed[k], full[k]), (name, k)
    assert resumed_loop.comm.stats.as_dict() == loop.comm.stats.as_dict(), name


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 0.0, -1.0])
def test_every_step_size_is_finite_and_positive(value):
    """An infinite, NaN, zero or negative ``lr`` is refused at construction by every algorithm that has one."""
    from tailtamer.errors import TailtamerError

    with_lr = [name for name in NAMES if "lr" in ALGORITHMS.params(name)]
    assert len(with_lr) > 80
    accepted = []
    for name in with_lr:
        try:
            ALGORITHMS.build(name, {"lr": value}, steps=STEPS)
            accepted.append(name)
        except TailtamerError:
            pass
    assert accepted == []
