"""A study is a declaration: which runs (configs × seeds, in which folders), the tuning grid with growing edges,
the settings used without tuning, the tables and plots of its report and the published numbers beside them.

One driver runs any of them (:func:`run_study`, ``tailtamer study NAME [--tune]``): tune if asked (the grid
grows past any edge that holds a winner, :mod:`~tailtamer.experiments.tuning`), run every job not finished yet
(:func:`~tailtamer.experiments.sweep.run_sweep`: an interrupted study resumes), then write the report.
This module is the platform only: the paper studies are declared in :mod:`tailtamer.experiments.studies`,
which imports this module and lists them by name (this module never imports them back).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..rundir.atomic import atomic_write_text
from ..rundir.folder import SUMMARY, atomic_write_json
from ..rundir.progress import fmt_duration
from ..sde.folders import RESULT as LAB_RESULT
from .executors import Executor, resolve
from .stacked import StackedRun, plan
from .sweep import run_sweep, unfinished
from .tuning import Search, sweep_searches

Job = tuple[Path, dict[str, Any]]
Point = dict[str, float]


def recorded(module_file: str, name: str) -> Any:
    """The recorded winners in the JSON file ``name`` beside the study module ``module_file`` (``__file__``):
    the ``tuned.json`` a ``--tune`` wrote, kept as data beside the study that reads it."""
    return json.loads((Path(module_file).parent / name).read_text())


#: The files that mark a finished run: a run folder's summary, a lab run's result.
FINISHED = (SUMMARY, LAB_RESULT)


@dataclass(frozen=True)
class Grid:
    """A tuning grid: one edge-growing search per key, each point run on ``seeds``, scored by the mean final
    ``metric(key)`` (lower is better; a diverged run counts as ∞).

    ``folder(root, key, point)`` is the run folder of a point (its seeds below it), ``config(key, point,
    seed)`` the config of one run, ``winner(key, point)`` the settings a winning point stands for, and
    ``collect`` turns ``{key: winner}`` into the study's tuned settings.
    """

    axes: Mapping[str, Mapping[str, tuple[float, ...]]]
    seeds: tuple[int, ...]
    folder: Callable[[Path, str, Point], Path]
    config: Callable[[str, Point, int], dict[str, Any]]
    metric: Callable[[str], str]
    max_extensions: int = 3
    limits: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    winner: Callable[[str, Point], Any] = lambda key, point: dict(point)
    collect: Callable[[dict[str, Any]], Any] = dict

    def searches(self) -> dict[str, Search]:
        return {
            k: Search({a: tuple(v) for a, v in axes.items()}, self.max_extensions, dict(self.limits))
            for k, axes in self.axes.items()
        }

    def first_round(self, root: Path) -> list[Job]:
        """The runs of the starting grid (more follow where a winner sits on an edge)."""
        return [
            (self.folder(root, k, p) / f"seed{s}", self.config(k, p, s))
            for k, search in self.searches().items()
            for p in search.points()
            for s in self.seeds
        ]


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading (``###``) and its markdown, drawn from the run folders."""

    title: str | Callable[[Any], str]
    body: Callable[[Path, Any], str | None]


@dataclass(frozen=True)
class Plot:
    """One PNG of a report, drawn from the run folders under the study root into ``file``."""

    file: str
    draw: Callable[[Path, Path, Any], None]


@dataclass(frozen=True)
class Study:
    """A study, declared.

    Args:
        name: the name ``tailtamer study NAME`` takes.
        about: one line for ``tailtamer study --list``.
        tuned: the settings used without ``--tune`` (the recorded winners of the grid).
        runs: ``(root, tuned) → [(folder, config)]``, the study's runs (configs × seeds).
        grid: ``root → Grid`` (the starting grid may depend on an earlier study's winners), or None.
        sections, plots: the report's tables and figures; ``heading`` its title line.
        published: the published numbers the tables set beside ours (for reference and tests).
        seconds_per_run: the measured cost of a typical run on one core (for the up-front estimate).
        tuned_file, tuning_file: where ``--tune`` writes the winners and the searches (with any edge left).
        report_file: where the report is written.
        requires: a study whose winners this one starts from (run first with ``--tune``).
        run_job, pending: how one job runs into its folder and which jobs are not finished, for jobs that are
            not engine configs (the SDE lab's, :mod:`tailtamer.sde.folders`); None: an engine run (stacked where
            it can be) and :func:`~.sweep.unfinished`. Either way :func:`~.sweep.run_sweep` dispatches them.
        run_plots: whether each run folder gets its PNGs (False for studies of many short runs).
    """

    name: str
    about: str
    tuned: Any
    runs: Callable[[Path, Any], list[Job]]
    heading: str
    sections: tuple[Section, ...] = ()
    plots: tuple[Plot, ...] = ()
    grid: Callable[[Path], Grid] | None = None
    published: Mapping[str, Any] = field(default_factory=dict)
    seconds_per_run: float = 1.0
    tuned_file: str = "tuned.json"
    tuning_file: str = "tuning.json"
    report_file: str = "report.md"
    requires: str | None = None
    run_job: Callable[[str, dict[str, Any]], Any] | None = None
    pending: Callable[[Sequence[Job]], Sequence[Job]] | None = None
    run_plots: bool = True

    def load_tuned(self, root: Path) -> Any:
        """The winners of an earlier ``--tune`` under ``root`` where there are some, else :attr:`tuned`."""
        path = Path(root) / self.tuned_file
        return json.loads(path.read_text()) if path.exists() else self.tuned

    def tune(
        self,
        root: Path,
        workers: int | None = 1,
        log: Callable[[str], None] | None = None,
        tensorboard: bool = False,
        seeds: int | None = None,
        executor: Executor | str | None = None,
        plot: bool | None = None,
    ) -> Any:
        """Run the grid, growing it past its edges; writes :attr:`tuning_file` and :attr:`tuned_file`.
        ``seeds``: use only the first that many tuning seeds (a reduced tuning); ``executor``: where the runs
        execute (:mod:`~tailtamer.experiments.executors`); ``plot``: PNGs in each run folder (None:
        :attr:`run_plots`)."""
        if self.grid is None:
            raise ConfigError(f"study '{self.name}' has no tuning grid")
        grid = self.grid(Path(root))
        if seeds:
            grid = replace(grid, seeds=grid.seeds[:seeds])
        return tune_grid(
            grid,
            Path(root),
            workers,
            log,
            self.tuned_file,
            self.tuning_file,
            tensorboard,
            executor,
            self.run_plots if plot is None else plot,
        )

    def report(self, root: Path, tuned: Any = None, out: Path | None = None) -> str:
        """The markdown report (tables with the published numbers beside ours, plots as PNG files)."""
        root = Path(root)
        if not holds_runs(root):
            raise ConfigError(
                f"{root} holds no finished run of study '{self.name}' to report on; run it first: "
                f"tailtamer study {self.name} --out {root}"
            )
        out = Path(out or root)
        tuned = self.load_tuned(root) if tuned is None else tuned
        parts = [self.heading, ""]
        for s in self.sections:
            body = s.body(root, tuned)
            if body is None:
                continue
            title = s.title(tuned) if callable(s.title) else s.title
            parts += ([f"### {title}", ""] if title else []) + [body, ""]
        for p in self.plots:
            p.draw(root, out / p.file, tuned)
        text = "\n".join(parts)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / self.report_file, text + "\n")
        return text


def holds_runs(root: Path) -> bool:
    """Whether ``root`` holds a finished run (a run folder's summary, or a lab run's result) at any depth."""
    return root.is_dir() and any(next(root.rglob(name), None) is not None for name in FINISHED)


def tune_grid(
    grid: Grid,
    root: Path,
    workers: int | None = 1,
    log: Callable[[str], None] | None = None,
    tuned_file: str = "tuned.json",
    tuning_file: str = "tuning.json",
    tensorboard: bool = False,
    executor: Executor | str | None = None,
    plot: bool = True,
) -> Any:
    """Drive ``grid``'s searches by real runs under ``root``; writes the searches (with any edge left) to
    ``tuning_file`` and the winners to ``tuned_file``; returns the winners."""
    records = sweep_searches(
        grid.searches(),
        lambda k, p: grid.folder(root, k, p),
        grid.config,
        grid.seeds,
        grid.metric,
        workers or 1,
        log,
        tensorboard=tensorboard,
        executor=executor,
        plot=plot,
    )
    tuned = grid.collect({k: grid.winner(k, r["best"]) for k, r in records.items()})
    atomic_write_json(root / tuning_file, records)
    atomic_write_json(root / tuned_file, tuned)
    return tuned


#: The cost of one more member of a stacked run, as a share of its run alone: the E1 tuning grid's 66 runs as 5
#: stacked runs of 6–24 members took 15.8 s of worker time against 46.4 s one by one, checkpoints and plots
#: included (``benchmarks/sweep.py``, 2026-11-22), i.e. 5 + 61·0.29 runs of 0.70 s; a stacked run of R members
#: is estimated at 1 + (R − 1)·0.3 runs.
MEMBER_SHARE = 0.3


def estimate(study: Study, jobs: Sequence[tuple[str | Path, dict[str, Any]]], workers: int) -> str:
    """ "N runs, about T": the sweep's units as :func:`~.sweep.run_sweep` would dispatch them (stacked runs
    and single runs), each costing :attr:`Study.seconds_per_run` (a stacked run of R members 1 + (R − 1)·
    :data:`MEMBER_SHARE` of it), given largest first to the least loaded of ``workers`` workers."""
    workers = max(workers, 1)
    units = list(jobs) if study.run_job else plan([(str(f), c) for f, c in jobs], workers)
    sizes = sorted((len(u.jobs) if isinstance(u, StackedRun) else 1 for u in units), reverse=True)
    loads = [0.0] * workers
    for r in sizes:
        loads[loads.index(min(loads))] += study.seconds_per_run * (1 + (r - 1) * MEMBER_SHARE)
    stacked, members = sum(r > 1 for r in sizes), sum(r for r in sizes if r > 1)
    runs = f"{stacked} stacked run{'s' if stacked != 1 else ''}"
    how = "" if not stacked else f" in {runs}" if members == len(jobs) else f" ({members} of them in {runs})"
    return f"{len(jobs)} runs{how}, about {fmt_duration(max(loads))} with {workers} worker{'s' if workers != 1 else ''}"


def run_study(
    study: Study,
    root: Path,
    tune: bool = False,
    workers: int | None = None,
    log: Callable[[str], None] = print,
    tensorboard: bool = False,
    tune_seeds: int | None = None,
    tune_only: bool = False,
    executor: Executor | str | None = None,
    plot: bool | None = None,
) -> str:
    """Tune (if asked; ``tune_seeds``: only the first that many tuning seeds), run every unfinished job
    (unless ``tune_only``), write and return the report. ``executor``: where the runs execute, a name of
    :data:`~tailtamer.experiments.executors.EXECUTORS` or an executor (default: the local process pool);
    ``plot``: whether each run folder gets its PNGs (None: the study's :attr:`Study.run_plots`; the report's
    own figures are drawn either way)."""
    root = Path(root)
    executor = resolve(executor)
    workers = executor.slots(workers)
    plot = study.run_plots if plot is None else plot
    t0 = time.perf_counter()
    tuned = study.load_tuned(root)
    if tune:
        grid = study.grid(root) if study.grid else None
        if grid is None:
            raise ConfigError(f"study '{study.name}' has no tuning grid (drop --tune)")
        if tune_seeds:
            grid = replace(grid, seeds=grid.seeds[:tune_seeds])
        first = grid.first_round(root)
        log(
            f"{study.name}: tuning on seeds {list(grid.seeds)}, starting grid of "
            f"{estimate(study, unfinished(first), workers)} (more where a winner sits on an edge)"
        )
        tuned = study.tune(
            root, workers, log=log, tensorboard=tensorboard, seeds=tune_seeds, executor=executor, plot=plot
        )
        log(f"{study.name}: tuned settings: {json.dumps(tuned)}")
    if tune_only:
        return study.report(root, tuned)
    jobs = study.runs(root, tuned)
    todo = (study.pending or unfinished)(jobs)
    log(
        f"{study.name}: {estimate(study, todo, workers)}"
        + (f" ({len(jobs) - len(todo)} of {len(jobs)} already finished)" if len(todo) < len(jobs) else "")
    )
    run_sweep(
        jobs,
        workers=workers,
        tensorboard=tensorboard,
        label=study.name,
        executor=executor,
        plot=plot,
        run_job=study.run_job,
        pending=study.pending,
    )
    text = study.report(root, tuned)
    log(f"{study.name}: done in {time.perf_counter() - t0:.1f} s; report {root / study.report_file}")
    return text
