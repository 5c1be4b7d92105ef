"""One budget for every family: a horizon of simulated seconds on the cluster (issue 28; docs/crossfamily.md).

An event-driven method takes the horizon as its ``[run] time``. A lockstep method (decentralized, local-update,
compressed) takes steps, so its budget is ``ceil(horizon / t)`` steps (rounds for a local-update method), where
``t`` is the simulated seconds one step costs on the cluster: the slowest worker's compute plus the step's
communication (:mod:`tailtamer.cluster`). ``t`` is measured, not re-derived: a probe runs a few steps of the same
method, topology, codec and cluster on a stand-in problem of the same dimension and dtype (a quadratic, no noise:
a step's simulated time depends on the compute model and the bytes sent, never on the gradients' values, so the
probe does not check them for finiteness) and
reads ``loop.clock.now``. An event-driven probe runs a slice of the horizon to count the server updates per
simulated second, which sets ``eval_every`` for about ``evals`` evaluations per run.

Probes are memoized per process (a study lists its runs several times); each takes milliseconds.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from dataclasses import dataclass
from typing import Any

from ....algorithms import ALGORITHMS
from ....api import build, problem_size
from ....engine import Callback
from ....errors import ConfigError

#: Steps of a lockstep probe; its rate is taken between the first and the last (EF21's first step is dense).
PROBE_STEPS = 5
#: An event-driven probe runs this share of the horizon (the whole horizon if that holds too few updates).
PROBE_SHARE = 0.05
PROBE_MIN_UPDATES = 20
#: The largest step count a lockstep run may be given (a cluster whose steps cost nearly nothing).
MAX_STEPS = 10**7


class _Clock(Callback):
    """Records the simulated time after each step."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_step(self, loop: Any, step: int, state: Any) -> None:
        self.times.append(float(loop.sim_time))


@functools.cache
def _dimension(problem: str, n: int) -> int:
    """The dimension of the problem (a JSON ``[problem]`` section) at n nodes (built once per process)."""
    cfg = {"problem": json.loads(problem), "algorithm": {"name": "dsgd"}, "topology": {"name": "ring", "n": n}}
    return problem_size(cfg)[1]


def stand_in(cfg: dict[str, Any]) -> dict[str, Any]:
    """``cfg`` with its problem replaced by a quadratic of the same dimension and no noise (a probe's config)."""
    n = int(cfg["topology"]["n"])
    out = copy.deepcopy(cfg)
    out["problem"] = {"name": "quadratic", "dim": _dimension(json.dumps(cfg["problem"], sort_keys=True), n)}
    out["noise"] = {"name": "none"}
    out.setdefault("run", {})["check_finite"] = False  # a probe times steps: its iterates may blow up
    return out


@functools.cache
def _seconds_per_step(key: str) -> float:
    cfg = json.loads(key)
    cfg["run"] = {**cfg.get("run", {}), "steps": PROBE_STEPS, "eval_every": PROBE_STEPS, "seed": 0, "time": 0.0}
    clock = _Clock()
    loop = build(cfg, [clock])
    loop.run()
    t = clock.times
    return (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else t[-1]


def seconds_per_step(cfg: dict[str, Any]) -> float:
    """Simulated seconds one step (one round) of a lockstep ``cfg`` costs on its cluster (a probe; memoized)."""
    return _seconds_per_step(json.dumps(stand_in(cfg), sort_keys=True))


@functools.cache
def _updates_per_second(key: str, horizon: float) -> float:
    cfg = json.loads(key)
    window = horizon * PROBE_SHARE
    while True:
        cfg["run"] = {**cfg.get("run", {}), "steps": MAX_STEPS, "eval_every": MAX_STEPS, "seed": 0, "time": window}
        loop = build(cfg)
        loop.run()
        if loop.step >= PROBE_MIN_UPDATES or window >= horizon:
            return loop.step / window
        window = min(horizon, window * 4)


def updates_per_second(cfg: dict[str, Any], horizon: float) -> float:
    """Server updates per simulated second of an event-driven ``cfg`` on its cluster (a probe; memoized)."""
    return _updates_per_second(json.dumps(stand_in(cfg), sort_keys=True), horizon)


@functools.cache
def family(name: str) -> str:
    """The family of the registered algorithm ``name`` (``Algorithm.family``: decentralized, local-update, async,
    compressed)."""
    return ALGORITHMS.build(name, {}, steps=10).family


def event_driven(cfg: dict[str, Any]) -> bool:
    """Whether ``cfg``'s method runs on the event engine (its budget is ``[run] time``, not steps)."""
    return family(cfg["algorithm"]["name"]) == "async"


@dataclass(frozen=True)
class Budget:
    """What a run gets within the horizon: ``steps`` (a lockstep method's steps or rounds; ``MAX_STEPS`` for an
    event-driven one, which stops at ``time``) and the server ``updates`` an event-driven one is expected to make
    (from its probe; equal to ``steps`` for a lockstep method)."""

    steps: int
    time: float
    updates: float
    event_driven: bool


def measure(cfg: dict[str, Any], horizon: float, dtype: str) -> Budget:
    """The :class:`Budget` of ``cfg`` (its ``[run]``, if any, ignored) for ``horizon`` simulated seconds."""
    base = {**cfg, "run": {"dtype": dtype}}
    if event_driven(cfg):
        return Budget(MAX_STEPS, float(horizon), updates_per_second(base, horizon) * horizon, True)
    t = seconds_per_step(base)
    if not t > 0 or not math.isfinite(t):
        raise ConfigError(f"'{cfg['algorithm']['name']}': a step on this cluster takes {t} simulated seconds")
    steps = min(MAX_STEPS, max(1, math.ceil(horizon / t - 1e-9)))
    return Budget(steps, 0.0, float(steps), False)


def run_section(cfg: dict[str, Any], horizon: float, evals: int, seed: int, dtype: str) -> dict[str, Any]:
    """The ``[run]`` section giving ``cfg`` ``horizon`` simulated seconds on its cluster with about ``evals``
    evaluations."""
    b = measure(cfg, horizon, dtype)
    run: dict[str, Any] = {"steps": b.steps, "eval_every": max(1, round(b.updates / evals)), "seed": seed}
    if b.event_driven:
        run["time"] = b.time
    return {**run, "dtype": dtype}
