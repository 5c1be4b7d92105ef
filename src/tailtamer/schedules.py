"""Step-size schedules shared by every algorithm: ``lr_t = lr · factor(t)``, with optional linear warm-up.

Config form (in ``[algorithm]``): ``schedule = "cosine"`` or an inline table
``schedule = {name = "poly", power = 0.5}``, and ``warmup = 100`` (steps).
"""
from __future__ import annotations

import math
from typing import Any, Callable

from .registry import Registry
from .validation import check_nonneg, check_positive, check_range, check_step_size

#: Registry of schedule factors; factories take ``steps`` (the horizon T) from the engine.
SCHEDULES: Registry[Callable[[int], float]] = Registry("schedule", context=("steps",))


@SCHEDULES.register("constant")
def constant(steps: int) -> Callable[[int], float]:
    """factor(t) = 1."""
    return lambda t: 1.0


@SCHEDULES.register("poly")
def poly(steps: int, power: float = 0.5, t0: float = 1.0) -> Callable[[int], float]:
    """Polynomial decay, factor(t) = (1 + t/t0)^(−power)."""
    check_nonneg("power", power, "schedule poly")
    check_positive("t0", t0, "schedule poly")
    return lambda t: (1.0 + t / t0) ** (-power)


@SCHEDULES.register("cosine")
def cosine(steps: int, final: float = 0.0) -> Callable[[int], float]:
    """Cosine annealing from 1 to ``final`` over the horizon T: final + (1−final)(1 + cos(π t/T))/2."""
    check_range("final", final, 0.0, 1.0, owner="schedule cosine")
    T = max(steps, 1)
    return lambda t: final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * min(t, T) / T))


def make_lr(lr: float, schedule: str | dict[str, Any], warmup: int, steps: int,
            owner: str = "") -> Callable[[int], float]:
    """The step size at step t: ``lr · min(1, (t+1)/warmup) · factor(t)``.

    Example:
        >>> f = make_lr(0.1, {"name": "poly", "power": 1.0}, warmup=0, steps=10)
        >>> round(f(0), 6), round(f(1), 6)
        (0.1, 0.05)
    """
    check_step_size("lr", lr, owner)
    check_nonneg("warmup", warmup, owner)
    spec = {"name": schedule} if isinstance(schedule, str) else dict(schedule)
    name = spec.pop("name", "constant")
    factor = SCHEDULES.build(name, spec, section="algorithm.schedule", steps=steps)
    if warmup <= 0:
        return lambda t: lr * factor(t)
    return lambda t: lr * min(1.0, (t + 1) / warmup) * factor(t)
