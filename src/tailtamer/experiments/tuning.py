"""Grid search whose grid grows past its edges: a winner on the boundary of an axis extends that axis.

A grid is a set of named axes of positive, ascending values (step sizes, thresholds) searched as their
Cartesian product. When the best point sits on the first or last value of an axis, the true optimum may lie
beyond it, so :func:`grow` adds the next value on that side, continuing the axis's own geometric step
(``0.003, 0.01, 0.03`` grows to ``0.001`` below or ``0.09`` above), and the search is run again on the new
product (points already run are reused by the sweep's run folders). It stops when the winner is interior on
every axis or an axis has grown ``max_extensions`` times on that side; :class:`Search` records which axes
were still on an edge, so reports can say so.

Every study that tunes (TailOPT's E3, its model tasks) drives many searches at once: each round collects the
new points of all of them into one parallel sweep.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .executors import Executor
from .report import load_runs
from .sweep import run_sweep


def grid_points(axes: dict[str, tuple[float, ...]]) -> list[dict[str, float]]:
    """The Cartesian product of the axes, as ``{axis: value}`` dicts (first axis slowest)."""
    names = list(axes)
    return [dict(zip(names, combo)) for combo in itertools.product(*(axes[k] for k in names))]


def edge_sides(axes: dict[str, tuple[float, ...]], best: dict[str, float]) -> list[tuple[str, int]]:
    """``(axis, side)`` for every axis of ≥ 2 values on which ``best`` takes the lowest (side −1) or highest
    (side +1) value."""
    out = []
    for name, values in axes.items():
        if len(values) < 2:
            continue
        if best[name] == values[0]:
            out.append((name, -1))
        elif best[name] == values[-1]:
            out.append((name, +1))
    return out


def extend(values: tuple[float, ...], side: int, limits: tuple[float, float] = (0.0, math.inf)) -> tuple[float, ...]:
    """One more value beyond the lowest (side −1) or highest (+1), at the axis's geometric step there; a value
    that would leave the open interval ``limits`` becomes the midpoint of the edge value and the limit (a
    momentum β ∈ (0, 1): 0.9, 0.95 grows to 0.975)."""
    if len(values) < 2 or any(v <= 0 for v in values):
        raise ValueError(f"an axis grows geometrically: it needs ≥ 2 positive values, got {values}")
    lo, hi = limits
    edge = values[0] if side < 0 else values[-1]
    new = edge * edge / (values[1] if side < 0 else values[-2])
    if not lo < new < hi:
        new = (edge + (lo if side < 0 else hi)) / 2
    new = round_sig(new)
    return (new,) + tuple(values) if side < 0 else tuple(values) + (new,)


def round_sig(x: float) -> float:
    """Four significant digits. Every grid value is rounded so, and run folders are labelled by values printed
    to four digits, so a label names exactly one value (two values that print alike would share a folder)."""
    return float(f"{x:.4g}")


@dataclass
class Search:
    """One edge-growing grid search.

    Args:
        axes: axis name → ascending positive values (the starting grid).
        max_extensions: how many values an axis may gain on each side.
        limits: axis name → the open interval its values must stay in (default ``(0, ∞)``).
    """

    axes: dict[str, tuple[float, ...]]
    max_extensions: int = 3
    limits: dict[str, tuple[float, float]] = field(default_factory=dict)
    grown: dict[tuple[str, int], int] = field(default_factory=dict)
    best: dict[str, float] | None = None
    score: float = math.inf
    at_edge: list[tuple[str, int]] = field(default_factory=list)
    done: bool = False

    def points(self) -> list[dict[str, float]]:
        return grid_points(self.axes)

    def update(self, scores: list[float]) -> bool:
        """Take the scores of :meth:`points` (lower is better; NaN counts as ∞); returns whether the grid grew
        (so another round is needed)."""
        pts = self.points()
        if len(scores) != len(pts):
            raise ValueError(f"{len(scores)} scores for {len(pts)} points")
        clean = [math.inf if s != s else s for s in scores]
        i = min(range(len(pts)), key=lambda k: (clean[k], k))
        self.best, self.score = pts[i], clean[i]
        if math.isinf(self.score):  # everything diverged: no direction to grow in
            self.at_edge, self.done = [], True
            return False
        sides = edge_sides(self.axes, self.best)
        growable = [(a, s) for a, s in sides if self.grown.get((a, s), 0) < self.max_extensions]
        for a, s in growable:
            self.axes[a] = extend(self.axes[a], s, self.limits.get(a, (0.0, math.inf)))
            self.grown[(a, s)] = self.grown.get((a, s), 0) + 1
        self.done = not growable
        self.at_edge = sides if self.done else []
        return not self.done

    def record(self) -> dict[str, Any]:
        """What a report needs: the best point, its score, the final axes and any edge left."""
        return {
            "best": self.best,
            "score": self.score,
            "axes": {k: list(v) for k, v in self.axes.items()},
            "at_edge": [f"{a} {'low' if s < 0 else 'high'}" for a, s in self.at_edge],
        }


def run_searches(
    searches: dict[str, Search],
    evaluate: Callable[[dict[str, list[dict[str, float]]]], dict[str, list[float]]],
    log=None,
) -> None:
    """Drive every search to its end; each round ``evaluate({key: points})`` returns ``{key: scores}`` for
    all unfinished searches at once (one parallel sweep per round)."""
    round_ = 0
    while True:
        live = {k: s for k, s in searches.items() if not s.done}
        if not live:
            return
        points = {k: s.points() for k, s in live.items()}
        if log:
            log(f"tuning round {round_}: {len(live)} searches, {sum(map(len, points.values()))} points")
        scores = evaluate(points)
        for k, s in live.items():
            s.update(scores[k])
        round_ += 1


def mean_final(folder: Path, metric: str) -> float:
    """Mean final ``metric`` over the run folders under ``folder`` (a diverged run or NaN counts as ∞)."""
    vals = [math.inf if r.diverged else r.summary["metrics"].get(metric, math.inf) for r in load_runs([folder])]
    vals = [v if v == v else math.inf for v in vals]
    return sum(vals) / len(vals) if vals else math.inf


def sweep_searches(
    searches: dict[str, Search],
    folder: Callable[[str, dict[str, float]], Path],
    job: Callable[[str, dict[str, float], int], dict[str, Any]],
    seeds: tuple[int, ...],
    metric: Callable[[str], str],
    workers: int = 1,
    log=None,
    tensorboard: bool = False,
    executor: Executor | str | None = None,
    plot: bool = True,
) -> dict[str, dict[str, Any]]:
    """Drive ``searches`` by real runs: each round one parallel sweep of the new points × ``seeds`` into
    ``folder(key, point) / seed{s}`` (runs already there are reused); a point's score is
    :func:`mean_final` of ``metric(key)``; ``executor`` runs the sweeps (see :func:`~.sweep.run_sweep`).
    Returns ``{key: search.record()}``."""

    def evaluate(points: dict[str, list[dict[str, float]]]) -> dict[str, list[float]]:
        jobs = [(folder(k, v) / f"seed{s}", job(k, v, s)) for k, pts in points.items() for v in pts for s in seeds]
        run_sweep(jobs, workers=workers, tensorboard=tensorboard, label="tuning", executor=executor, plot=plot)
        return {k: [mean_final(folder(k, v), metric(k)) for v in pts] for k, pts in points.items()}

    run_searches(searches, evaluate, log=log)
    return {k: s.record() for k, s in searches.items()}
