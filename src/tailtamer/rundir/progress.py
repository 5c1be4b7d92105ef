"""Progress of a run (steps) and of a sweep (runs over worker processes).

On a terminal both draw a ``rich`` progress bar. Off a terminal (a log file, CI, ``nohup``) they print one
plain line at a steady rate instead — done / total, rate, ETA and the current metric — so a log shows how
far a long job is without a carriage-return mess.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from ..algorithms.base import State
from ..engine.callbacks import Callback

#: Seconds between two progress lines off a terminal (a run's steps; a sweep's runs).
LOG_EVERY = 10.0
SWEEP_LOG_EVERY = 30.0


def fmt_eta(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour)."""
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fmt_duration(seconds: float) -> str:
    """A rough duration for estimates: ``40 s``, ``12 min``, ``2.5 h``."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _metric_text(metrics: dict[str, float]) -> str:
    if not metrics:
        return ""
    name, value = next(iter(metrics.items()))
    return f"{name}={value:.4g}" if isinstance(value, (int, float)) else f"{name}={value}"


class Ticker:
    """Counts work done towards a total and reports it: a rich bar on a terminal, else a plain line every
    ``every`` seconds and one at the end (with ``final_line = False``, only if a line was printed before, so
    a job shorter than ``every`` stays silent). With ``heartbeat`` a background thread prints the line every
    ``every`` seconds even while nothing finishes (a sweep of long runs). ``clock`` is injectable for tests."""

    def __init__(
        self,
        total: int,
        unit: str,
        label: str = "",
        stream: TextIO | None = None,
        every: float = LOG_EVERY,
        tty: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        final_line: bool = True,
        heartbeat: bool = False,
    ):
        self.total, self.unit, self.label = total, unit, label
        self.final_line, self.printed, self.heartbeat = final_line, 0, heartbeat
        self._stop: threading.Event | None = None
        self._lock = threading.Lock()
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.every, self.clock = every, clock
        self.done, self.start_done, self.metric = 0, 0, ""
        self._t0 = self._last = clock()
        self._bar: Any = None
        self._task: Any = None

    def start(self, done: int = 0) -> None:
        self.done = self.start_done = done
        self._t0 = self._last = self.clock()
        if self.tty:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            # the ETA is ours (the rate since the start), not rich's (its rate over the last 30 s), which a batch of
            # runs finishing at once made read far too low
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                TextColumn("{task.fields[metric]}"),
                console=Console(file=self.stream),
                transient=False,
                refresh_per_second=5,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.label, total=self.total, completed=done, metric="", eta="?")
        elif self.heartbeat:
            self._stop = threading.Event()
            threading.Thread(target=self._beat, args=(self._stop,), daemon=True).start()

    def _beat(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            with self._lock:
                if self.clock() - self._last >= self.every * 0.999:
                    self._last = self.clock()
                    self._print()

    def rate(self) -> float:
        """Units per second since :meth:`start`."""
        return (self.done - self.start_done) / max(self.clock() - self._t0, 1e-9)

    def eta(self) -> str:
        """The time left at the rate measured since :meth:`start` (``?`` before anything is done)."""
        rate = self.rate()
        return fmt_eta((self.total - self.done) / rate) if rate > 0 else "?"

    def line(self) -> str:
        rate = self.rate()
        pct = 100.0 * self.done / max(self.total, 1)
        rate_text = f"{rate:,.1f} {self.unit}/s" if rate >= 1 else f"{rate * 60:,.2f} {self.unit}/min"
        head = f"{self.label}: " if self.label else ""
        return f"{head}{self.done}/{self.total} {self.unit} ({pct:.0f}%), {rate_text}, ETA {self.eta()}" + (
            f", {self.metric}" if self.metric else ""
        )

    def update(self, done: int, metric: str | None = None) -> None:
        self.done = done
        if metric is not None:
            self.metric = metric
        now = self.clock()
        if self._bar is not None:
            if now - self._last >= 0.2 or done >= self.total:
                self._last = now
                self._bar.update(self._task, completed=done, metric=self.metric, eta=self.eta())
        elif now - self._last >= self.every and done < self.total:
            with self._lock:
                self._last = now
                self._print()

    def _print(self) -> None:
        self.printed += 1
        self.stream.write(self.line() + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, metric=self.metric)
            self._bar.stop()
            self._bar = None
        elif self.final_line or self.printed:
            self._print()


class ProgressBar(Callback):
    """Step progress of one run: a rich bar on a terminal, a line every ``every`` seconds off one.

    ``force``: draw the bar even when the stream is not a terminal (``tty`` overrides the detection).
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        every: float = LOG_EVERY,
        force: bool = False,
        tty: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.stream = stream or sys.stderr
        self.tty = True if force else tty
        self.every, self.clock = every, clock
        self.ticker: Ticker | None = None

    def on_start(self, loop: Any) -> None:
        self.ticker = Ticker(loop.steps, "steps", "", self.stream, self.every, self.tty, self.clock, final_line=False)
        self.ticker.start(loop.start_step)

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        if self.ticker is not None:
            self.ticker.metric = _metric_text(metrics)

    def on_step(self, loop: Any, step: int, state: State) -> None:
        if self.ticker is not None:
            self.ticker.update(step)

    def on_end(self, loop: Any, state: State) -> None:
        if self.ticker is not None:
            self.ticker.finish()
            self.ticker = None


class SweepProgress:
    """Progress of a sweep over runs (``on_done(i, total, folder)`` of :func:`run_sweep`): runs done, rate,
    ETA and the headline metric of the last finished run."""

    def __init__(
        self,
        total: int,
        workers: int,
        label: str = "sweep",
        stream: TextIO | None = None,
        every: float = SWEEP_LOG_EVERY,
        tty: bool | None = None,
        clock: Callable[[], float] = time.perf_counter,
        heartbeat: bool = True,
    ):
        name = f"{label} ({workers} worker{'s' if workers != 1 else ''})"
        self.ticker = Ticker(total, "runs", name, stream, every, tty, clock, heartbeat=heartbeat)

    def start(self) -> None:
        self.ticker.start(0)

    def __call__(self, i: int, total: int, folder: str) -> None:
        self.ticker.update(i, f"last {_run_metric(folder)}")

    def finish(self) -> None:
        self.ticker.finish()


def _run_metric(folder: str) -> str:
    """``<folder name path>: metric=value`` of a finished run folder (``diverged`` where it diverged)."""
    path = Path(folder)
    short = "/".join(path.parts[-3:])
    try:
        summary = json.loads((path / "summary.json").read_text())
    except (OSError, ValueError):
        return short
    if summary.get("status") == "diverged":
        return f"{short}: diverged"
    return f"{short}: {_metric_text(summary.get('metrics') or {})}"
