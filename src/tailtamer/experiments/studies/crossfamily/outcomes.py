"""Time to target, read from run folders (issue 28 item 4; docs/crossfamily.md).

A run's time to target is the first ``sim_time`` on its ``metrics.jsonl`` at which the target's metric is at
the target's level (its level set from the metric's value at step 0), within the horizon; ∞ when never. The
bytes sent by then are that line's ``bytes_per_node``. A method's :class:`Outcome` in a setting is the median
over its seeds (∞ when at most half of them reached the target).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....rundir.folder import SUMMARY, read_metrics
from .recipe import Target

#: The simulated-time field of a metrics line (issue 28 item 2).
SIM_TIME = "sim_time"
BYTES = "bytes_per_node"


@dataclass(frozen=True)
class Reach:
    """One run: when it reached the target (∞: never), the bytes per node sent by then, its final metric."""

    time: float
    bytes: float
    final: float
    diverged: bool


def reach(rows: list[dict[str, Any]], target: Target, horizon: float, final_metric: str) -> Reach:
    """The :class:`Reach` of one run's metric lines."""
    if not rows:
        return Reach(math.inf, math.nan, math.nan, False)
    level = target.level(float(rows[0][target.metric]))
    last = rows[-1].get(final_metric, math.nan)
    final = float(last) if isinstance(last, (int, float)) else math.nan
    for r in rows:
        t, v = r.get(SIM_TIME, math.inf), r.get(target.metric, math.nan)
        if t <= horizon * (1 + 1e-9) and isinstance(v, (int, float)) and target.reached(float(v), level):
            return Reach(float(t), float(r.get(BYTES, math.nan)), final, False)
    return Reach(math.inf, math.nan, final, False)


def read_reach(folder: Path, target: Target, horizon: float, final_metric: str) -> Reach | None:
    """The :class:`Reach` of a finished run folder (None while it has not finished)."""
    path = Path(folder) / SUMMARY
    if not path.exists():
        return None
    status = json.loads(path.read_text()).get("status")
    r = reach(read_metrics(Path(folder)), target, horizon, final_metric)
    if status == "diverged":
        return Reach(r.time, r.bytes, math.inf, True)
    return r


@dataclass(frozen=True)
class Outcome:
    """A method in one setting over its seeds."""

    reaches: tuple[Reach, ...]

    @property
    def runs(self) -> int:
        return len(self.reaches)

    @property
    def reached(self) -> int:
        return sum(math.isfinite(r.time) for r in self.reaches)

    @property
    def diverged(self) -> int:
        return sum(r.diverged for r in self.reaches)

    @property
    def time(self) -> float:
        """Median time to target over the seeds (∞ when at most half reached it; NaN: no run finished)."""
        return statistics.median(r.time for r in self.reaches) if self.reaches else math.nan

    @property
    def bytes(self) -> float:
        """Median bytes per node sent by the target, over the seeds that reached it."""
        got = [r.bytes for r in self.reaches if math.isfinite(r.time)]
        return statistics.median(got) if got else math.nan

    @property
    def final(self) -> float:
        """Median final value of the tuning metric (∞ for a diverged run)."""
        return statistics.median(r.final for r in self.reaches) if self.reaches else math.nan


def outcome(folders: list[Path], target: Target, horizon: float, final_metric: str) -> Outcome:
    """The :class:`Outcome` of the finished runs among ``folders``."""
    got = [read_reach(f, target, horizon, final_metric) for f in folders]
    return Outcome(tuple(r for r in got if r is not None))


def seed_folders(folder: Path) -> list[Path]:
    """The ``seed*`` run folders under ``folder`` (none while it does not exist)."""
    return sorted(Path(folder).glob("seed*")) if Path(folder).exists() else []


def seconds(t: float) -> str:
    """A simulated time as the tables print it: three significant digits, '—' for never."""
    if t != t:
        return "not run"
    if math.isinf(t):
        return "—"
    return f"{t:.3g} s"


def show(o: Outcome) -> str:
    """An :class:`Outcome` as a table cell: the median time, with how many seeds reached when not all."""
    if not o.runs:
        return "not run"
    text = seconds(o.time)
    if o.reached < o.runs:
        text += f" ({o.reached}/{o.runs})"
    if o.diverged:
        text += f" [{o.diverged} div.]"
    return text
