"""Callbacks observe the loop; they never change the iterate."""

from __future__ import annotations

from typing import Any

from ..algorithms.base import State


class Callback:
    """Hooks called by :meth:`tailtamer.engine.loop.Loop.run` (all optional)."""

    def on_start(self, loop: Any) -> None: ...

    def on_step(self, loop: Any, step: int, state: State) -> None:
        """After step ``step`` has produced ``state`` (``step`` counts completed steps, 1..T)."""

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None: ...

    def on_end(self, loop: Any, state: State) -> None: ...

    def step_period(self) -> int | None:
        """How often :meth:`on_step` acts: ``p > 0`` only at steps that are multiples of p below the horizon (a
        checkpointer), ``0`` never (a callback that does not override it), None at every step. A stacked loop
        reads it to look at its members only when some callback will act."""
        return 0 if type(self).on_step is Callback.on_step else None


class History(Callback):
    """Keeps every evaluation in memory (``rows``: dicts with ``step``, ``sim_time`` and the metrics)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, float]] = []

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        self.rows.append({"step": step, "sim_time": loop.sim_time, **metrics})
