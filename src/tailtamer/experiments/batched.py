"""Batched sweeps: the jobs of a sweep that share a problem, topology and n run as ONE stacked run.

:func:`plan` groups a sweep's jobs by :func:`batch_key` (the resolved config without ``run.seed`` and without
the float hyperparameters of ``[algorithm]``): members of a group differ only in seed and in float settings
(step size, clip level, momentum, ...). A group becomes a :class:`Batch`, itself a job of the sweep, run by
:func:`run_batch` as one :class:`~tailtamer.engine.batched.BatchedLoop` over ``[R·n, d]`` tensors. Each
member still gets its own run folder with the files its standalone run writes (``config.toml``,
``metrics.jsonl`` with the same metrics within 1e-12 in float64, ``summary.json``, checkpoints, plot); a
member that diverges gets the diverged summary its standalone run gets, and the others go on.

Batched automatically: decentralized (gossip) methods and local-update methods (the TailOPT family: each
member's server model is the first of its rows, :mod:`tailtamer.comm.server`, and its clients are sampled with
its own seed). Members that cannot be stacked run one by one inside the batch job: a folder already holding a
checkpoint (it resumes alone, as today), and the other families (:func:`stackable`).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Sequence

Job = tuple[str, dict[str, Any]]

#: Most members in one stacked run (memory grows with it; the gain flattens long before).
MAX_MEMBERS = 64


@dataclass
class Batch:
    """A job of a sweep standing for several ``(folder, config)`` jobs run as one stacked run."""

    jobs: list[Job] = field(default_factory=list)

    @property
    def folders(self) -> list[str]:
        return [f for f, _ in self.jobs]


#: Families whose members are stacked as rows: gossip methods and the TailOPT local-update methods. The
#: others run one by one: asynchronous methods (their own event engine) and compressed server methods.
STACKED_FAMILIES = ("decentralized", "local-update")


def stackable(algorithm_name: str, problem_name: str | None = None) -> bool:
    """Whether members of this method (on this problem) are stacked as rows: the :data:`STACKED_FAMILIES`, on
    the problems that are classes of their own (synthetic, least squares, logistic, ...). Model workloads
    (``digits-cnn``, ``sst2``, ``gpt-multi30k``: functions building a
    :class:`~tailtamer.problems.models.ModelProblem`) run alone: their forward/backward is one call per member
    anyway, so stacking would only multiply their memory."""
    import inspect

    from ..algorithms import ALGORITHMS
    from ..problems import PROBLEMS

    cls = ALGORITHMS.get(algorithm_name)
    if problem_name is not None and not inspect.isclass(PROBLEMS.get(problem_name)):
        return False
    return getattr(cls, "family", "") in STACKED_FAMILIES


def batch_key(cfg: dict[str, Any]) -> str | None:
    """What members of one batch share (None: the job is not batched): the resolved config without
    ``run.seed`` and without the float values of ``[algorithm]``."""
    from ..config import resolve
    from ..errors import TailtamerError

    try:
        r = resolve(cfg)
        if not stackable(r["algorithm"]["name"], r["problem"]["name"]):
            return None
    except (TailtamerError, KeyError):
        return None                           # the standalone run reports the error
    shared = {k: v for k, v in r.items() if k not in ("run", "algorithm")}
    shared["run"] = {k: v for k, v in r["run"].items() if k != "seed"}
    shared["algorithm"] = {k: v for k, v in r["algorithm"].items() if type(v) is not float}
    return json.dumps(shared, sort_keys=True, default=str)


def plan(jobs: Sequence[Job], workers: int = 1, max_members: int = MAX_MEMBERS) -> list[Job | Batch]:
    """The sweep's units: groups of ≥ 2 batchable jobs as :class:`Batch` es (split so that every worker gets
    work, at most ``max_members`` each), the other jobs as they are. Order: batches first, largest first."""
    groups: dict[str, list[Job]] = {}
    single: list[Job | Batch] = []
    for folder, cfg in jobs:
        key = batch_key(cfg)
        if key is None:
            single.append((folder, cfg))
        else:
            groups.setdefault(key, []).append((folder, cfg))
    batchable = sum(len(g) for g in groups.values() if len(g) > 1)
    per = max(2, min(max_members, math.ceil(batchable / max(workers, 1)))) if batchable else max_members
    batches: list[Job | Batch] = []
    for g in groups.values():
        if len(g) == 1:
            single.append(g[0])
            continue
        parts = math.ceil(len(g) / per)
        size = math.ceil(len(g) / parts)
        batches += [Batch(list(g[i:i + size])) for i in range(0, len(g), size)]
    batches.sort(key=lambda b: -len(b.jobs))          # type: ignore[union-attr]
    return batches + single


def run_batch(jobs: Sequence[Job], plot: bool = True) -> list[str]:
    """Run ``jobs`` (one problem, topology and n) as one stacked run into their folders; returns the folders.

    Finished folders are skipped and folders holding a checkpoint resume alone (as in a plain sweep); a
    diverging member gets ``summary.json`` with ``"status": "diverged"`` and does not stop the others.
    """
    from ..api import DTYPES, build_components, simulated_comm
    from ..comm.stacked import StackedComm
    from ..config import resolve
    from ..engine import Checkpointer, RunWriter
    from ..engine.batched import BatchedLoop
    from ..engine.footprint import check_memory
    from ..engine.resume import prepare_folder
    from ..engine.run_dir import run_info, write_diverged
    from ..engine.stacking import NotStackable, RowExpander, stack_objects
    from .. import threads

    members, alone = [], []
    for folder, cfg in jobs:
        resolved = resolve(cfg)
        check_memory(resolved)
        c = build_components(resolved, resolved=True)
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
        algorithm = stack_objects([c.algorithm for _, _, c in members],
                                  RowExpander(R, n, x0.dim(), dtype, run["device"]))
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

    loop = BatchedLoop(c0.problem, algorithm, [c.algorithm for _, _, c in members], comm,
                       [c.config["run"]["seed"] for _, _, c in members], noise=c0.noise, steps=run["steps"],
                       eval_every=run["eval_every"], dtype=dtype, device=run["device"], callbacks=callbacks,
                       check_finite=run["check_finite"], on_diverged=diverged)
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
    from ..errors import NonFiniteError
    from .runner import run_config

    try:
        run_config(cfg, folder, resume=True, progress=False, plot=plot)
    except NonFiniteError:
        pass
