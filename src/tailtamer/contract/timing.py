"""The contract of a compute-time model (async.md §2, docs/extending.md): positive and finite, reproducible,
and the same draws in a simulated and a real run (a pure function of (seed, worker, job): a real server asks in
arrival order, the simulator in event order)."""

from __future__ import annotations

import math
import random
from typing import Any

from ..timing import TIMINGS, TimingModel
from .result import Property
from .subject import Subject

N, JOBS = 4, 64


def subject(name: str, params: dict[str, Any]) -> Subject:
    """The timing component ``name`` with ``params``."""
    return Subject(TIMINGS, name, params, "timing", {"n": N, "seed": 3})


def _table(model: TimingModel, order: list[tuple[int, int]]) -> dict[tuple[int, int], float]:
    return {(w, j): model.duration(w, j) for w, j in order}


def _jobs() -> list[tuple[int, int]]:
    return [(w, j) for j in range(JOBS) for w in range(N)]


def positive(s: Subject) -> str:
    times = _table(s.build(), _jobs())
    bad = [(k, v) for k, v in times.items() if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0)]
    assert not bad, f"duration(worker, job) = {bad[0][1]!r} at {bad[0][0]} (must be a finite number > 0)"
    return f"{len(times)} durations finite and > 0 (min {min(times.values()):.3g})"


def reproducible(s: Subject) -> str:
    assert _table(s.build(), _jobs()) == _table(s.build(), _jobs()), "two models with one seed drew different times"
    return "one seed, the same times"


def same_in_real_runs(s: Subject) -> str:
    order = _jobs()
    want = _table(s.build(), order)
    shuffled = order[:]
    random.Random(0).shuffle(shuffled)
    got = _table(s.build(), shuffled)
    assert got == want, "the times depend on the order they are asked for (a real run asks in arrival order)"
    worker = [(1, j) for j in range(JOBS)]
    assert _table(s.build(), worker) == {k: want[k] for k in worker}, (
        "a worker asking for its own jobs alone gets other times"
    )
    return "a pure function of (seed, worker, job): any order, any process"


PROPERTIES: dict[str, Property] = {
    "positive": positive,
    "reproducible": reproducible,
    "same-in-real-runs": same_in_real_runs,
}
