"""Stacked sweeps: the jobs of a sweep that share a problem, topology and n run as ONE stacked run.

:func:`plan` groups a sweep's jobs by :func:`stack_key` (the resolved config without ``run.seed`` and without
the float hyperparameters of ``[algorithm]``): members of a group differ only in seed and in float settings
(step size, clip level, momentum, ...). A group becomes a :class:`StackedRun`, itself a job of the sweep, run by
:func:`run_stacked` as one :class:`~tailtamer.engine.stacked.loop.StackedLoop` over ``[R·n, d]`` tensors. Each
member still gets its own run folder with the files its standalone run writes (``config.toml``,
``metrics.jsonl`` with the same metrics within 1e-12 in float64, ``summary.json``, checkpoints, plot); a
member that diverges gets the diverged summary its standalone run gets, and the others go on.

Stacked automatically: decentralized (gossip) methods and local-update methods (the TailOPT family: each
member's server model is the first of its rows, :mod:`tailtamer.comm.server`, and its clients are sampled with
its own seed). Members that cannot be stacked run one by one inside the stacked job: a folder already holding a
checkpoint (it resumes alone, as today), and the other families (:func:`stackable`).
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import threads
from ..algorithms import ALGORITHMS
from ..api import DTYPES, build_components, clock, simulated_comm
from ..comm.stacked import StackedComm
from ..config import resolve
from ..engine.stacked.loop import StackedLoop
from ..engine.stacked.rows import NotStackable, RowExpander, stack_objects
from ..errors import NonFiniteError, TailtamerError
from ..problems import PROBLEMS
from ..rundir import Checkpointer, RunWriter
from ..rundir.folder import run_info, write_diverged
from ..rundir.resume import prepare_folder
from .runner import run_config

Job = tuple[str, dict[str, Any]]

#: Most members in one stacked run (memory grows with it; the gain flattens long before).
MAX_MEMBERS = 64


@dataclass
class StackedRun:
    """A job of a sweep standing for several ``(folder, config)`` jobs run as one stacked run."""

    jobs: list[Job] = field(default_factory=list)

    @property
    def folders(self) -> list[str]:
        return [f for f, _ in self.jobs]


def stackable(algorithm_name: str, problem_name: str | None = None) -> bool:
    """Whether members of this method (on this problem) are stacked as rows: the methods that say so
    (:attr:`~tailtamer.algorithms.base.Method.stackable`: gossip and the TailOPT local-update methods;
    asynchronous and compressed server methods run one by one), on the problems that are classes of their own
    (synthetic, least squares, logistic, ...). Model workloads
    (``digits-cnn``, ``sst2``, ``gpt-multi30k``: functions building a
    :class:`~tailtamer.problems.models.ModelProblem`) run alone: their forward/backward is one call per member
    anyway, so stacking would only multiply their memory."""
    cls = ALGORITHMS.get(algorithm_name)
    if problem_name is not None and not inspect.isclass(PROBLEMS.get(problem_name)):
        return False
    return bool(cls.stackable)


def stack_key(cfg: dict[str, Any]) -> str | None:
    """What members of one stacked run share (None: the job is not stacked): the resolved config without
    ``run.seed`` and without the float values of ``[algorithm]``."""
    try:
        r = resolve(cfg)
        if not stackable(r["algorithm"]["name"], r["problem"]["name"]):
            return None
    except (TailtamerError, KeyError):
        return None  # the standalone run reports the error
    shared = {k: v for k, v in r.items() if k not in ("run", "algorithm")}
    shared["run"] = {k: v for k, v in r["run"].items() if k != "seed"}
    shared["algorithm"] = {k: v for k, v in r["algorithm"].items() if type(v) is not float}
    return json.dumps(shared, sort_keys=True, default=str)


def plan(jobs: Sequence[Job], workers: int = 1, max_members: int = MAX_MEMBERS) -> list[Job | StackedRun]:
    """The sweep's units: groups of ≥ 2 stackable jobs as :class:`StackedRun` s (split so that every worker gets
    work, at most ``max_members`` each), the other jobs as they are. Order: stacked runs first, largest first."""
    groups: dict[str, list[Job]] = {}
    single: list[Job | StackedRun] = []
    for folder, cfg in jobs:
        key = stack_key(cfg)
        if key is None:
            single.append((folder, cfg))
        else:
            groups.setdefault(key, []).append((folder, cfg))
    stackable_jobs = sum(len(g) for g in groups.values() if len(g) > 1)
    per = max(2, min(max_members, math.ceil(stackable_jobs / max(workers, 1)))) if stackable_jobs else max_members
    stacks: list[Job | StackedRun] = []
    for g in groups.values():
        if len(g) == 1:
            single.append(g[0])
            continue
        parts = math.ceil(len(g) / per)
        size = math.ceil(len(g) / parts)
        stacks += [StackedRun(list(g[i : i + size])) for i in range(0, len(g), size)]
    stacks.sort(key=lambda b: -len(b.jobs))  # type: ignore[union-attr]
    return stacks + single


def run_stacked(jobs: Sequence[Job], plot: bool = True) -> list[str]:
    """Run ``jobs`` (one problem, topology and n) as one stacked run into their folders; returns the folders.

    Finished folders are skipped and folders holding a checkpoint resume alone (as in a plain sweep); a
    diverging member gets ``summary.json`` with ``"status": "diverged"`` and does not stop the others.
    """
    members: list[tuple[str, dict[str, Any], Any]] = []  # (folder, config, its built components)
    alone: list[tuple[str, dict[str, Any], Any]] = []
    for folder, cfg in jobs:
        resolved = resolve(cfg)
        c = build_components(resolved, resolved=True)  # the memory estimate included
        start = prepare_folder(resolved, folder, resume=True)
        if start.kind == "complete":
            continue
        (alone if start.resuming else members).append((folder, cfg, c))
    for folder, cfg, _ in alone:
        _alone(folder, cfg, plot)
    first = members[0][2].config if members else {}
    if len(members) < 2 or not stackable(first["algorithm"]["name"], first["problem"]["name"]):
        for folder, cfg, _ in members:
            _alone(folder, cfg, plot)
        return [f for f, _ in jobs]
    c0 = members[0][2]
    run = c0.config["run"]
    R, n, dtype = len(members), c0.n, DTYPES[run["dtype"]]
    x0 = c0.problem.x0(dtype, run["device"])
    try:
        algorithm = stack_objects(
            [c.algorithm for _, _, c in members], RowExpander(R, n, x0.dim(), dtype, run["device"])
        )
    except NotStackable:
        for folder, cfg, _ in members:
            _alone(folder, cfg, plot)
        return [f for f, _ in jobs]
    comm = StackedComm(simulated_comm(c0), R)
    threads.apply(threads.resolve(R * n, c0.problem.dim))
    writers = [RunWriter(Path(f), run_info(c), plot=plot) for f, _, c in members]
    callbacks = [[w, Checkpointer(Path(f), run["checkpoint_every"])] for w, (f, _, _) in zip(writers, members)]

    def diverged(r: int, err: Any, view: Any) -> None:
        folder, _, c = members[r]
        write_diverged(Path(folder), err, dict(view.last_metrics), run_info(c), view.wall_time)
        if writers[r]._file is not None:
            writers[r]._file.close()

    loop = StackedLoop(
        c0.problem,
        algorithm,
        [c.algorithm for _, _, c in members],
        comm,
        [c.config["run"]["seed"] for _, _, c in members],
        noise=c0.noise,
        steps=run["steps"],
        eval_every=run["eval_every"],
        dtype=dtype,
        device=run["device"],
        callbacks=callbacks,
        check_finite=run["check_finite"],
        on_diverged=diverged,
        clocks=[clock(c) for _, _, c in members],
    )
    try:
        loop.run()
    except Exception:
        if loop.step > 0:
            raise
        # the first stacked step failed: a float setting the method uses as a Python number (math.sqrt(lr),
        # `if beta > 0`), which a per-row tensor cannot be. Start every member again alone.
        for w in writers:
            if w._file is not None and not w._file.closed:
                w._file.close()
        for folder, cfg, _ in members:
            _alone(folder, cfg, plot)
    return [f for f, _ in jobs]


def _alone(folder: str, cfg: dict[str, Any], plot: bool = True) -> None:
    """One member as a standalone run (a diverging one leaves its diverged summary, as in a sweep)."""
    try:
        run_config(cfg, folder, resume=True, progress=False, plot=plot)
    except NonFiniteError:
        pass
