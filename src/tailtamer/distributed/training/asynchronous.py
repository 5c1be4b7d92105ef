"""Asynchronous training from a user's script: the user's problem (their model and data) on a real server and
workers, through the machinery of ``tailtamer launch`` (:mod:`tailtamer.distributed.asynchronous`), and its replay
in the simulator.

:class:`AsyncTraining` names what every process rebuilds: a picklable ``problem`` factory (``n`` workers → a
:class:`~tailtamer.problems.base.Problem`; for a model, a :class:`~tailtamer.problems.models.ModelProblem` of the
user's ``nn.Module`` factory and data), a registered asynchronous scheme (``[algorithm]``: ``asgd``,
``ringmaster``, ``fedbuff``, ...) and a timing model (``[timing]``). :func:`train_async` runs it as a server and
``workers`` workers over gloo, writes the run folder and its sealed arrival log, and tolerates a worker's death
as ``launch`` does (the server goes on without it); :func:`replay_async` replays the log in the simulator, whose
iterates are the real run's (every gradient is recomputed by the job's counter-based oracle).

Example (``examples/train_async.py``)::

    setup = AsyncTraining(partial(ModelProblem, factory=make_model, train=train, val=val, classifier=True),
                          scheme={"name": "asgd", "lr": 0.05}, timing={"name": "sqrt"}, workers=3, steps=200)
    summary = train_async(setup, "runs/async")
    state, metrics = replay_async(setup, "runs/async")     # the same iterate, recomputed
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...algorithms import ALGORITHMS
from ...algorithms.asynchronous.base import AsyncScheme
from ...algorithms.base import State
from ...api import Components, make_async_loop
from ...config import resolve_entry
from ...engine.events.replay import ReplayLoop
from ...errors import ValidationError
from ...problems.base import Problem
from ...registry import Registry
from ...rundir.arrivals import read_log
from ...rundir.resume import prepare_folder
from ...settings import RunSettings
from ...timing import TIMINGS
from ..asynchronous.run import TIME_SCALE, check_real, run_async_rank
from ..launcher import spawn
from ..process_group import DEFAULT_TIMEOUT

__all__ = ["AsyncTraining", "replay_async", "train_async"]


def _section(registry: Registry[Any], section: dict[str, Any], where: str) -> dict[str, Any]:
    """A component section with its defaults filled in, resolved as a config's is."""
    return resolve_entry(registry, section.get("name"), {k: v for k, v in section.items() if k != "name"}, where)


@dataclass(frozen=True)
class AsyncTraining:
    """One asynchronous training: what every process rebuilds (all picklable).

    Attributes:
        problem: ``n → Problem`` (e.g. ``functools.partial(ModelProblem, factory=..., train=..., val=...)``).
        scheme: the ``[algorithm]`` section of a registered asynchronous scheme.
        timing: the ``[timing]`` section (the workers' compute times; jobs sleep them, scaled by ``time_scale``).
        workers: the number of workers (the run has one more process, the server).
        steps, seed, eval_every, dtype: as ``[run]``.
    """

    problem: Callable[[int], Problem]
    scheme: dict[str, Any]
    timing: dict[str, Any] = field(default_factory=lambda: {"name": "sqrt"})
    workers: int = 2
    steps: int = 100
    seed: int = 0
    eval_every: int = 10
    dtype: str = "float64"

    def config(self) -> dict[str, Any]:
        """The run folder's ``config.toml``: the scheme, the timing model, the run settings and the problem's name
        (the user's problem is rebuilt from :attr:`problem`, not from this file)."""
        run = dataclasses.asdict(
            RunSettings(steps=self.steps, seed=self.seed, eval_every=self.eval_every, dtype=self.dtype)
        )
        name = getattr(self.problem, "__name__", None) or getattr(getattr(self.problem, "func", None), "__name__", "")
        return {
            "problem": {"name": f"user:{name or 'problem'}"},
            "algorithm": _section(ALGORITHMS, self.scheme, "algorithm"),
            "topology": {"name": "server", "n": self.workers},
            "noise": {"name": "none"},
            "timing": _section(TIMINGS, self.timing, "timing"),
            "run": {**run, "plugins": list(run["plugins"])},
        }

    def components(self) -> Components:
        """Every component, built the same way in each process (and in the replay)."""
        cfg = self.config()
        alg = {k: v for k, v in cfg["algorithm"].items() if k != "name"}
        algorithm = ALGORITHMS.build(cfg["algorithm"]["name"], alg, section="algorithm", steps=self.steps)
        if not isinstance(algorithm, AsyncScheme):
            raise ValidationError(
                f"'{cfg['algorithm']['name']}' runs in lockstep: asynchronous training takes a "
                f"registered asynchronous scheme (asgd, ringmaster, fedbuff, ...)"
            )
        timing = {k: v for k, v in cfg["timing"].items() if k != "name"}
        model = TIMINGS.build(cfg["timing"]["name"], timing, section="timing", n=self.workers, seed=self.seed)
        problem = self.problem(self.workers)
        return Components(cfg, problem, algorithm, None, None, self.workers, model)


def _rank(
    rank: int, world: int, setup: AsyncTraining, out: str, time_scale: float, timeout: float, plot: bool
) -> dict[str, Any] | None:
    return run_async_rank(setup.components(), out, rank, world, time_scale, timeout, plot=plot)


def train_async(
    setup: AsyncTraining,
    out: str | Path,
    time_scale: float = TIME_SCALE,
    timeout: float = DEFAULT_TIMEOUT,
    plot: bool = False,
) -> dict[str, Any]:
    """Run ``setup`` as a server and ``setup.workers`` workers (gloo), writing the run folder ``out`` (a new or
    empty folder); returns the summary. Every check runs before the folder or a process exists."""
    cfg = setup.config()
    check_real(cfg, setup.workers + 1, time_scale)
    setup.components()  # every validation error before the folder
    prepare_folder(cfg, Path(out), False)
    results = spawn(
        _rank,
        setup.workers + 1,
        (setup, str(out), time_scale, timeout, plot),
        timeout=timeout,
        backend="gloo",
        expendable=range(1, setup.workers + 1),
    )
    return results[0]


def replay_async(setup: AsyncTraining, folder: str | Path, partial: bool = False) -> tuple[State, dict[str, float]]:
    """Replay the real run of ``setup`` in ``folder`` (its sealed arrival log; ``partial``: an unfinished one)
    in the simulator; returns its final state and metrics. The iterate, and every metric of it (held-out loss and
    accuracy, delays, time), equal the real run's; a metric of the gradients a process computed (a model's
    ``train_loss``) is the replaying process's own, as the real server computes none."""
    loop = make_async_loop(setup.components(), [], ReplayLoop, rows=read_log(folder, partial).rows)
    state = loop.run()
    return state, dict(loop.last_metrics)
