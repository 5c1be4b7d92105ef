"""The synchronous round loop: oracle → algorithm step → NaN/Inf check → clock → metrics → callbacks."""

from __future__ import annotations

import time
from collections.abc import Iterable

import torch

from ..algorithms.base import Algorithm, State
from ..cluster import Clock, default_cluster
from ..comm.base import Comm
from ..noise.base import NoiseModel
from ..problems.base import Problem
from .callbacks import Callback
from .oracle import GradientOracle, check_finite
from .state_check import check_step_layout, layout


class Loop:
    """Runs ``algorithm`` on ``problem`` over ``comm`` for ``steps`` steps.

    Metrics are evaluated at step 0, every ``eval_every`` steps and at the last step. The iterate is checked
    for NaN/Inf after every step (and every gradient by the oracle); the first non-finite value stops the
    run with :class:`~tailtamer.errors.NonFiniteError` naming the step and node. ``sim_time`` is the seconds
    the run has taken so far on the simulated cluster of ``clock`` (:class:`~tailtamer.cluster.clock.Clock`;
    default: the ``ideal`` cluster, one second per gradient); run folders record it beside every evaluation.

    Example:
        >>> from tailtamer.api import build
        >>> loop = build({"problem": {"name": "claim1"}, "algorithm": {"name": "gt-nsgdm"},
        ...               "topology": {"name": "complete", "n": 4}, "run": {"steps": 10}})
        >>> state = loop.run()
    """

    def __init__(
        self,
        problem: Problem,
        algorithm: Algorithm,
        comm: Comm,
        *,
        noise: NoiseModel | None = None,
        seed: int = 0,
        steps: int = 1000,
        eval_every: int = 100,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
        callbacks: Iterable[Callback] = (),
        check_finite: bool = True,
        clock: Clock | None = None,
    ):
        self.problem, self.algorithm, self.comm, self.noise = problem, algorithm, comm, noise
        self.clock = clock or Clock(default_cluster(comm.n, seed), per_step=algorithm.computations_per_step)
        self.clock.listen(comm.stats)
        self.seed, self.steps, self.eval_every = seed, steps, max(int(eval_every), 1)
        self.dtype, self.device = dtype, torch.device(device)
        self.callbacks = list(callbacks)
        self.check = check_finite
        self.oracle = GradientOracle(problem, noise, comm.nodes, seed, check=check_finite, ahead=True)
        self.start_step = 0
        self.step = 0
        self.wall_time = 0.0
        self.last_metrics: dict[str, float] = {}

    @property
    def sim_time(self) -> float:
        """Simulated seconds so far (restored from a checkpoint on resume)."""
        return self.clock.now

    @sim_time.setter
    def sim_time(self, value: float) -> None:
        self.clock.now = float(value)

    def initial_state(self) -> State:
        """The algorithm's state at the common initial point of the problem."""
        x0 = self.problem.x0(self.dtype, self.device)
        x = x0.unsqueeze(0).expand(self.comm.n_local, *x0.shape).clone()
        return self.algorithm.init(x, self.comm)

    def evaluate(self, state: State) -> dict[str, float]:
        with self.comm.stats.paused():
            return self.problem.metrics(state["x"], self.comm)

    def _emit_eval(self, step: int, state: State) -> None:
        self.last_metrics = self.evaluate(state)
        for cb in self.callbacks:
            cb.on_eval(self, step, self.last_metrics)

    def run(self, state: State | None = None, start_step: int = 0) -> State:
        """Run from ``state`` at ``start_step`` (a fresh start when ``state`` is None) to ``steps``."""
        if state is None:
            state, start_step = self.initial_state(), 0
        self.start_step = self.step = start_step
        for cb in self.callbacks:
            cb.on_start(self)
        if start_step == 0:
            self._emit_eval(0, state)
        t0 = time.perf_counter()
        for t in range(start_step, self.steps):
            self.oracle.begin(t)
            before = layout(state) if t == start_step else None
            state = self.algorithm.step(state, self.oracle, self.comm, t)
            if before is not None:
                check_step_layout(self.algorithm.name, before, state, t)
            if self.check:
                check_finite(state["x"], self.comm.nodes, t, "iterate x")
            self.clock.tick(t)
            self.step = t + 1
            if self.step % self.eval_every == 0 or self.step == self.steps:
                self.wall_time += time.perf_counter() - t0
                self._emit_eval(self.step, state)
                t0 = time.perf_counter()
            for cb in self.callbacks:
                cb.on_step(self, self.step, state)
        self.wall_time += time.perf_counter() - t0
        for cb in self.callbacks:
            cb.on_end(self, state)
        return state
