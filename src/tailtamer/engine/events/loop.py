"""The event-driven loop of asynchronous methods (family ``"async"``), behind the lockstep loop's protocol.

A simulated clock and one job per worker (:class:`~tailtamer.engine.events.table.EventTable`): the earliest
finisher arrives, the scheme (:class:`~tailtamer.algorithms.asynchronous.base.AsyncScheme`) applies what it
sent, and workers restart on the new model (the common event loop of ``vectozavr/ringmaster-lmo``
``algorithm.py``, async.md §1). A job's delay is the number of server updates since the model version it
read. ``steps`` counts server updates; ``time_limit`` (``[run] time``, 0 = none) stops at a simulated time.

Simultaneous arrivals: jobs finishing at the same instant arrive one by one in worker order. The workers
an arrival restarts start right after it, on the model it left, when the scheme's ``restarts`` is
``"each"`` (per-gradient methods and Rennala: the papers' loops, a real server); with ``"instant"`` (the
batch rule: FedBuff, sync rounds) they start after the last arrival of that instant, so that with equal
fixed times a sync round and a full buffer see every arrival. With random compute times ties do not happen
and the two rules agree (async.md §2).

Run folder, metrics, callbacks, progress bar and checkpoints are the lockstep loop's: the state handed to
callbacks is the scheme's state plus the event table as ``engine.*`` tensors (in-flight jobs, the models
they read, counters), so a checkpoint resumes bitwise identically. Evaluations add the simulated time,
arrivals, dropped and cancelled jobs, delays and utilization to the problem's metrics.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import torch

from ...algorithms.asynchronous.base import Arrival, AsyncScheme, Outcome
from ...algorithms.base import State
from ...cluster import Cluster, Link, default_cluster
from ...comm import SimulatedComm
from ...errors import ValidationError
from ...noise.base import NoiseModel
from ...problems.base import Problem
from ...timing import TimingModel
from ..callbacks import Callback
from ..oracle import check_finite
from .oracle import job_oracle
from .table import BUSY, IDLE, PENDING, PREFIX, EventTable

READS = PREFIX + "reads"
LINK = PREFIX + "link"


class ServerView:
    """What a scheme reads at an arrival (see :class:`~tailtamer.algorithms.asynchronous.base.Server`);
    ``gone[i]``: worker i is lost (a real run's, or its replay's) and never offered as idle."""

    def __init__(self, events: EventTable, gone: list[bool] | None = None):
        self._e = events
        self._gone = gone
        self.n = events.n

    @property
    def updates(self) -> int:
        return self._e.updates

    @property
    def clock(self) -> float:
        return self._e.clock

    def busy(self) -> list[int]:
        return self._e.busy()

    def versions(self) -> list[int]:
        return self._e.version

    def idle(self) -> list[int]:
        gone = self._gone
        return [i for i, s in enumerate(self._e.status) if s == IDLE and not (gone and gone[i])]


class AsyncLoop:
    """Runs an asynchronous ``algorithm`` on ``problem`` with ``n`` workers timed by ``timing``.

    The same attributes and :meth:`run` signature as :class:`~tailtamer.engine.loop.Loop`; ``comm`` counts
    one message per model download (a job start) and per upload (an arrival). On a ``cluster`` whose network
    is not free, a job also takes its model's download and its result's upload over the server's link
    (:class:`~tailtamer.cluster.link.Link`); ``sim_time`` is the engine's clock.
    """

    def __init__(
        self,
        problem: Problem,
        algorithm: AsyncScheme,
        n: int,
        timing: TimingModel,
        *,
        noise: NoiseModel | None = None,
        seed: int = 0,
        steps: int = 1000,
        eval_every: int = 100,
        time_limit: float = 0.0,
        dtype: torch.dtype = torch.float64,
        device: str | torch.device = "cpu",
        callbacks: Iterable[Callback] = (),
        check_finite: bool = True,
        cluster: Cluster | None = None,
    ):
        if not isinstance(algorithm, AsyncScheme):
            raise ValidationError(f"the event engine runs asynchronous methods; {type(algorithm).__name__} is not one")
        if timing.n != n:
            raise ValidationError(f"timing model for {timing.n} workers, run with {n}")
        self.problem, self.algorithm, self.noise, self.timing = problem, algorithm, noise, timing
        self.n, self.seed, self.steps, self.eval_every = n, seed, steps, max(int(eval_every), 1)
        self.time_limit = float(time_limit)
        self.dtype, self.device = dtype, torch.device(device)
        self.callbacks = list(callbacks)
        self.check = check_finite
        self.comm = SimulatedComm(None, n=n)
        self.start_step = self.step = 0
        self.wall_time = 0.0
        self.last_metrics: dict[str, float] = {}
        self.events = EventTable(n)
        self.reads: torch.Tensor | None = None
        self.link = Link(cluster or default_cluster(n, seed, timing))
        algorithm.bind(n)

    # ---- state ----------------------------------------------------------------------------------
    def initial_state(self) -> State:
        """The scheme's state at the problem's initial point, every initial worker pending at time 0."""
        x0 = self.problem.x0(self.dtype, self.device).reshape(1, -1)
        s = self.algorithm.init(x0, self.comm)
        self.events = EventTable(self.n)
        self.link = Link(self.link.cluster)
        self.reads = torch.zeros(self.n, x0.shape[1], dtype=self.dtype, device=self.device)
        for i in self.algorithm.initial_workers(self.n):
            self.events.status[i] = PENDING  # run() starts them (and counts their downloads) at time 0
        return self.full_state(s)

    def full_state(self, s: State) -> State:
        """The scheme's state plus the event table (what callbacks and checkpoints see)."""
        out = dict(s)
        out.update({k: v.to(self.device) for k, v in self.events.tensors().items()})
        out[READS] = self.reads
        out[LINK] = self.link.tensor().to(self.device)
        return out

    def _split(self, state: State) -> State:
        own = (READS, LINK)
        self.events = EventTable.load({k: v.cpu() for k, v in state.items() if k.startswith(PREFIX) and k not in own})
        self.reads = state[READS].to(self.device).clone()
        self.link.load(state[LINK].cpu() if LINK in state else self.link.tensor()[:0])
        return {k: v for k, v in state.items() if not k.startswith(PREFIX)}

    # ---- events ---------------------------------------------------------------------------------
    def _start(self, s: State, worker: int) -> None:
        e = self.events
        duration = self.timing.duration(worker, e.jobs[worker])
        if not (duration > 0 and math.isfinite(duration)):
            raise ValidationError(f"timing gave worker {worker} job {e.jobs[worker]} a duration of {duration}")
        e.begin(worker, self._job_time(worker, duration, s["x"][0].numel() * s["x"].element_size()))
        self.reads[worker] = s["x"][0]
        self.comm.stats.add(1, s["x"][0].numel() * s["x"].element_size(), "mean")

    def _job_time(self, worker: int, compute: float, nbytes: int) -> float:
        """Seconds from now until worker ``worker``'s job arrives: ``compute`` plus the model's download and the
        result's upload (``nbytes`` each) over the cluster's server link. An arrival order given from outside
        (:class:`~tailtamer.engine.events.replay.OrderedAsyncLoop`) takes the compute time alone."""
        return self.link.job(worker, self.events.clock, compute, nbytes)

    def _view(self) -> ServerView:
        """What the scheme reads of the engine (subclasses with lost workers hide them)."""
        return ServerView(self.events)

    def _flush(self, s: State) -> None:
        """Start every pending worker on the current model."""
        for i in self.events.pending():
            self._start(s, i)

    def _arrive(self, s: State) -> tuple[State, bool]:
        """Pop the next job, hand it to the scheme, apply cancels and restarts; returns (state, updated)."""
        worker, version, job = self.events.pop()
        return self._deliver(s, worker, version, job)

    def _deliver(
        self, s: State, worker: int, version: int, job: int, result: torch.Tensor | None = None
    ) -> tuple[State, bool]:
        """Hand worker ``worker``'s finished job to the scheme (``result``: what it sent; None: computed here
        by the job's oracle), apply cancels and restarts; returns (state, updated)."""
        e = self.events
        delay = e.updates - version
        e.record_delay(delay)
        x_read = self.reads[worker : worker + 1]
        if result is None:
            oracle = job_oracle(self.problem, self.noise, self.seed, worker, job, self.check)
            result = self.algorithm.compute(x_read, oracle)
        self.comm.stats.add(1, result[0].numel() * result.element_size(), "mean")
        out: Outcome = self.algorithm.arrive(
            s, Arrival(worker, version, delay, job, e.clock, result, x_read), self._view()
        )
        if out.dropped:
            e.dropped += 1
        for j in out.cancel:
            e.cancel(j)
        for j in [worker] if out.restart is None else out.restart:
            if e.status[j] == BUSY:
                raise RuntimeError(f"{self.algorithm.name}: restart of worker {j}, which is busy (cancel it first)")
            e.status[j] = PENDING
        if out.updated:
            e.updates += 1
        return out.state, out.updated

    def _next(self, s: State) -> tuple[State, bool] | None:
        """Start pending workers (when the clock moves on, or at once under the ``"each"`` rule), then deliver
        the next arrival; None: stop (the next arrival is past ``time_limit``). Subclasses take the arrival
        order from outside."""
        e = self.events
        while True:
            nxt = e.peek()
            if e.pending() and (nxt > e.clock or self.algorithm.restarts == "each"):
                self._flush(s)
                continue
            if nxt == math.inf:
                raise RuntimeError(f"{self.algorithm.name}: no job in flight and none pending at update {e.updates}")
            if self.time_limit > 0 and nxt > self.time_limit:
                return None
            return self._arrive(s)

    # ---- metrics --------------------------------------------------------------------------------
    def evaluate(self, state: State) -> dict[str, float]:
        x = state["x"]
        with self.comm.stats.paused():
            m = self.problem.metrics(x.expand(self.n, *x.shape[1:]), self.comm)
        return {**m, **self.events.metrics()}

    @property
    def sim_time(self) -> float:
        """Simulated seconds so far: the engine's clock (a checkpoint's state restores it)."""
        return self.events.clock

    @sim_time.setter
    def sim_time(self, value: float) -> None:
        """The event table of the restored state carries the clock; nothing to set."""

    def _emit_eval(self, step: int, s: State) -> None:
        self.last_metrics = self.evaluate(s)
        for cb in self.callbacks:
            cb.on_eval(self, step, self.last_metrics)

    # ---- the loop -------------------------------------------------------------------------------
    def run(self, state: State | None = None, start_step: int = 0) -> State:
        """Run from ``state`` (a full state from :meth:`full_state` or a checkpoint; fresh when None) until
        ``steps`` server updates or the simulated ``time_limit``."""
        if state is None:
            state, start_step = self.initial_state(), 0
        s = self._split(state)
        self.start_step = self.step = start_step
        for cb in self.callbacks:
            cb.on_start(self)
        if start_step == 0:
            self._emit_eval(0, s)
        last_eval = self.step
        t0 = time.perf_counter()
        while self.step < self.steps:
            event = self._next(s)
            if event is None:
                break
            s, updated = event
            if not updated:
                continue
            if self.check:
                check_finite(s["x"], torch.tensor([0]), self.step, "server model x")
            self.step = self.events.updates
            if self.step % self.eval_every == 0 or self.step == self.steps:
                self.wall_time += time.perf_counter() - t0
                self._emit_eval(self.step, s)
                last_eval = self.step
                t0 = time.perf_counter()
            full = None
            for cb in self.callbacks:
                full = full or self.full_state(s)
                cb.on_step(self, self.step, full)
        self.wall_time += time.perf_counter() - t0
        if last_eval != self.step:
            self._emit_eval(self.step, s)
        full = self.full_state(s)
        for cb in self.callbacks:
            cb.on_end(self, full)
        return full
