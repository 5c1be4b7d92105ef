"""Step-size schedules shared by every algorithm: ``lr_t = lr · factor(t)``, with optional linear warm-up.

Config form (in ``[algorithm]``): ``schedule = "cosine"`` or an inline table
``schedule = {name = "poly", power = 0.5}``, and ``warmup = 100`` (steps).

The step size and the factors are small frozen dataclasses, not closures: two members of a stacked sweep
with the same schedule compare equal, so a stacked run evaluates the shared factor once per step and scales
the per-member rates by it (:meth:`StepSize.stack_members`) instead of calling every member's function.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .registry import Registry
from .validation import check_nonneg, check_positive, check_range, check_step_size

#: Registry of schedule factors; factories take ``steps`` (the horizon T) from the engine.
SCHEDULES: Registry[Callable[[int], float]] = Registry("schedule", context=("steps",))


@dataclass(frozen=True)
class Constant:
    """factor(t) = 1."""

    def __call__(self, t: int) -> float:
        return 1.0


@dataclass(frozen=True)
class Poly:
    """factor(t) = (1 + t/t0)^(−power)."""

    power: float
    t0: float

    def __call__(self, t: int) -> float:
        return (1.0 + t / self.t0) ** (-self.power)


@dataclass(frozen=True)
class Cosine:
    """factor(t) = final + (1−final)(1 + cos(π min(t, T)/T))/2."""

    final: float
    T: int

    def __call__(self, t: int) -> float:
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * min(t, self.T) / self.T))


@SCHEDULES.register("constant")
def constant(steps: int) -> Callable[[int], float]:
    """factor(t) = 1."""
    return Constant()


@SCHEDULES.register("poly")
def poly(steps: int, power: float = 0.5, t0: float = 1.0) -> Callable[[int], float]:
    """Polynomial decay, factor(t) = (1 + t/t0)^(−power)."""
    check_nonneg("power", power, "schedule poly")
    check_positive("t0", t0, "schedule poly")
    return Poly(power, t0)


@SCHEDULES.register("cosine")
def cosine(steps: int, final: float = 0.0) -> Callable[[int], float]:
    """Cosine annealing from 1 to ``final`` over the horizon T: final + (1−final)(1 + cos(π t/T))/2."""
    check_range("final", final, 0.0, 1.0, owner="schedule cosine")
    return Cosine(final, max(steps, 1))


@dataclass(frozen=True)
class StepSize:
    """``lr_t = lr · min(1, (t+1)/warmup) · factor(t)`` (the warm-up term only when ``warmup > 0``), in that
    order of operations, so the value is the same float however it is computed."""

    lr: float
    factor: Callable[[int], float]
    warmup: int = 0

    def __call__(self, t: int) -> float:
        if self.warmup <= 0:
            return self.lr * self.factor(t)
        return self.lr * min(1.0, (t + 1) / self.warmup) * self.factor(t)

    def stack_members(self, members: Sequence[StepSize], expand: Any) -> StackedStepSize | None:
        """The step size of a stacked run whose members share ``factor`` and ``warmup``: the members' rates as
        float64 rows (``expand.rows64``, a :class:`tailtamer.engine.stacked.rows.RowExpander`), scaled per step by
        the one shared factor, then cast to the run's dtype (``expand.cast``). None when the schedules differ
        (the caller then calls each member's own function)."""
        if any(m.factor != self.factor or m.warmup != self.warmup for m in members):
            return None
        return StackedStepSize(StepSize(expand.rows64([m.lr for m in members]), self.factor, self.warmup), expand.cast)


class StackedStepSize:
    """Every member's ``lr_t`` as one tensor of rows: a :class:`StepSize` whose ``lr`` is the members' float64
    rate rows, cast to the run's dtype.

    Its products are float64 tensor-by-scalar multiplications in the standalone order, each correctly rounded,
    so every row holds exactly the float its member's :class:`StepSize` returns; the cast to the run's dtype
    then rounds it as converting that float does."""

    def __init__(self, rates: StepSize, cast: Callable[[Any], Any]):
        self.rates, self.cast = rates, cast

    def __call__(self, t: int) -> Any:
        return self.cast(self.rates(t))


def make_lr(
    lr: float, schedule: str | dict[str, Any], warmup: int, steps: int, owner: str = ""
) -> Callable[[int], float]:
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
    return StepSize(lr, factor, warmup)
