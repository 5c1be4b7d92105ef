"""A one-line progress bar with ETA, drawn only on a terminal."""
from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from ..algorithms.base import State
from .callbacks import Callback


def _fmt(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m}:{s:02d}"


class ProgressBar(Callback):
    """Redraws at most ``hz`` times a second on ``stream`` when it is a TTY; silent otherwise."""

    def __init__(self, stream: TextIO | None = None, hz: float = 5.0, width: int = 28, force: bool = False):
        self.stream = stream or sys.stderr
        self.enabled = force or self.stream.isatty()
        self.period, self.width = 1.0 / hz, width
        self._last, self._t0, self._s0, self._metric = 0.0, 0.0, 0, ""

    def on_start(self, loop: Any) -> None:
        self._t0, self._s0 = time.perf_counter(), loop.start_step

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        if metrics:
            name, value = next(iter(metrics.items()))
            self._metric = f" {name}={value:.4g}"

    def on_step(self, loop: Any, step: int, state: State) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self._last < self.period and step < loop.steps):
            return
        self._last = now
        done = step - self._s0
        rate = done / max(now - self._t0, 1e-9)
        eta = (loop.steps - step) / rate if rate > 0 else 0.0
        filled = int(self.width * step / max(loop.steps, 1))
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\r[{bar}] {step}/{loop.steps} {rate:,.0f} it/s ETA {_fmt(eta)}{self._metric}   ")
        self.stream.flush()

    def on_end(self, loop: Any, state: State) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
