"""The server of a real asynchronous run (rank 0): the event engine fed by the network instead of a heap.

:class:`ServerLoop` is an :class:`~tailtamer.engine.events.replay.OrderedAsyncLoop`: the scheme's hooks, the
event table, metrics, callbacks and run folder are the simulator's. What differs is where events come from:

* starting worker i's job sends rank i+1 a START message (the model, the job index, the version read and
  the timing model's duration, which the worker sleeps for);
* one listener thread per worker waits (point-to-point ``irecv`` from that rank) for each reply it owes,
  in order, and puts it on one queue; the server takes replies from that queue as they come, so it handles
  whichever worker finished first. (A receive from any source cannot tell a dead worker from a slow one on
  gloo, and a gloo receive cannot be polled or re-waited after a timeout, so each worker has its own.)
* a reply's clock is its real time since the start divided by ``time_scale`` (timing units); replies of
  cancelled jobs and aborted jobs are ignored;
* a live worker with no job in flight (waiting for its turn under a concurrency cap, for a round to end, or
  after a cancel) gets a HEARTBEAT whenever the server has sent it nothing for ``timeout``/3 seconds, so it
  can tell a long wait from a dead or stalled server. The heartbeats are sent from the main loop (while it
  waits for the next reply), the one thread that sends anything, so the timeout must exceed the server's
  longest pause between events (an evaluation, a checkpoint);
* a worker whose connection breaks (it died) or that does not answer within ``timeout`` seconds after its
  job's duration (it stalled) is *lost*: the server goes on with the others and the arrival log records
  when and which (:mod:`tailtamer.engine.events.replay`); under a concurrency cap a lost busy worker's slot
  goes to the next idle worker (the scheme's choice, replayed exactly). The stall is judged by the
  server's own clock, never by a gloo receive timeout: on gloo a receive that times out closes every
  connection of the process, not only the silent worker's, so the listeners wait without one;
* at the end every live worker gets STOP.
"""

from __future__ import annotations

import math
import queue
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ...algorithms.base import State
from ...engine.events.replay import Event, OrderedAsyncLoop
from ...engine.events.table import BUSY
from ...errors import NonFiniteError
from ...rundir.arrivals import SealedArrivalLog
from .messages import ABORTED, CANCEL, HEARTBEAT, NONFINITE, START, STOP, UP, order, short

#: The listeners' receive timeout: never reached (a gloo receive timeout would close every connection).
FOREVER = timedelta(days=365)


class ServerLoop(OrderedAsyncLoop):
    """The real server (see the module docstring); ``time_scale`` seconds per timing unit, ``timeout``
    seconds of silence (beyond a job's duration) after which a worker is lost; idle workers hear from it at
    least every ``beat`` = ``timeout``/3 seconds."""

    rank = 0

    def __init__(self, *args: Any, time_scale: float, timeout: float, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.time_scale, self.timeout = float(time_scale), float(timeout)
        self._inbox: queue.Queue = queue.Queue()
        self._owed: list[queue.Queue] = [queue.Queue() for _ in range(self.n)]
        self._threads: list[threading.Thread] = []
        self._deadline = [math.inf] * self.n  # when each worker's latest job is overdue (perf_counter)
        self._sent = [-math.inf] * self.n  # when each worker was last sent a message (perf_counter)
        self.beat = self.timeout / 3
        self._t0 = 0.0
        self._dim = 0

    # ---- the network ----------------------------------------------------------------------------
    def _listen(self, worker: int) -> None:
        """Receive, in order, every reply worker ``worker`` owes (one per START); stop at None or a failure."""
        while True:
            owed = self._owed[worker].get()
            if owed is None:
                return
            buf = torch.empty(UP + self._dim, dtype=torch.float64)
            try:
                dist.irecv(buf, src=worker + 1).wait(FOREVER)
            except RuntimeError as err:
                self._inbox.put(("lost", worker, f"rank {worker + 1} died or is unreachable [{short(err)}]"))
                return
            self._inbox.put(("reply", worker, buf))

    def _send(self, worker: int, msg: torch.Tensor) -> bool:
        try:
            dist.isend(msg, dst=worker + 1).wait(timedelta(seconds=self.timeout))
            self._sent[worker] = time.perf_counter()
            return True
        except RuntimeError as err:
            self._inbox.put(
                ("lost", worker, (f"rank {worker + 1} died or is unreachable: sending failed [{short(err)}]"))
            )
            return False

    def _start(self, s: State, worker: int) -> None:
        super()._start(s, worker)
        e = self.events
        duration = e.finish[worker] - e.start[worker]
        msg = order(START, self._dim, e.jobs[worker] - 1, e.version[worker], duration, s["x"][0])
        if self._send(worker, msg):
            self._owed[worker].put(True)
            self._deadline[worker] = time.perf_counter() + self.timeout + duration * self.time_scale

    def _lose(self, s: State, ev: Event, k: int) -> State:
        """As the engine's, and the console hears of it as it happens (not only the arrival log)."""
        s = super()._lose(s, ev, k)
        left = self.n - sum(self.lost)
        print(
            f"tailtamer launch: worker {ev.worker} (rank {ev.worker + 1}) lost at update {self.events.updates}: "
            f"{ev.reason}; going on with {left} of {self.n} workers",
            file=sys.stderr,
            flush=True,
        )
        return s

    def _cancelled(self, worker: int) -> None:
        self._send(worker, order(CANCEL, self._dim))

    def _heartbeats(self) -> float:
        """HEARTBEAT every live idle worker sent nothing for ``beat`` seconds; returns when the next one is due
        (perf_counter; inf: no worker is idle)."""
        e, due = self.events, math.inf
        for i in range(self.n):
            if self.lost[i] or e.status[i] == BUSY:
                continue
            if time.perf_counter() - self._sent[i] >= self.beat and not self._send(i, order(HEARTBEAT, self._dim)):
                continue  # it is gone: the loss is on the inbox
            due = min(due, self._sent[i] + self.beat)
        return due

    def _overdue(self) -> tuple[float, int]:
        """When the first live worker's reply is overdue (perf_counter; inf: none is owed), and which worker."""
        live = [i for i in range(self.n) if not self.lost[i]]
        worker = min(live, key=lambda i: self._deadline[i], default=-1)
        return (self._deadline[worker] if live else math.inf), worker

    def _now(self) -> float:
        return (time.perf_counter() - self._t0) / self.time_scale

    def _event(self, s: State) -> Event | None:
        e = self.events
        while True:
            beat = self._heartbeats()
            due, late = self._overdue()
            wake = min(beat, due)
            try:
                wait = None if wake == math.inf else max(wake - time.perf_counter(), 0.0)
                kind, worker, payload = self._inbox.get(timeout=wait)
            except queue.Empty:
                if time.perf_counter() < due:
                    continue  # time to send heartbeats
                kind, worker = "lost", late
                payload = f"rank {worker + 1} stalled: no reply within {self.timeout:g} s after its job's duration"
            now = max(self._now(), e.clock)
            if kind == "lost":
                if self.lost[worker]:
                    continue
                return Event("lost", worker, now, reason=payload)
            job, status = int(payload[0]), int(payload[1])
            if e.jobs[worker] - 1 == job:
                self._deadline[worker] = math.inf  # the latest job answered
            if self.lost[worker] or status == ABORTED or e.status[worker] != BUSY or e.jobs[worker] - 1 != job:
                continue  # a cancelled or aborted job's reply
            if self.time_limit > 0 and now > self.time_limit:
                return None
            if status == NONFINITE:  # where the simulator's oracle raises
                raise NonFiniteError(job, worker, "gradient")
            result = payload[UP:].reshape(1, -1).to(self.dtype)
            return Event("arrival", worker, now, job, e.version[worker], result)

    # ---- the run --------------------------------------------------------------------------------
    def run(self, state: State | None = None, start_step: int = 0) -> State:
        if state is not None:
            raise NotImplementedError("a real asynchronous run cannot be resumed")
        self._dim = self.problem.dim
        self._threads = [
            threading.Thread(target=self._listen, args=(i,), daemon=True, name=f"listen-{i}") for i in range(self.n)
        ]
        for t in self._threads:
            t.start()
        dist.barrier()  # every worker is ready (Worker.run): the clock starts now, not before
        self._t0 = time.perf_counter()
        try:
            state = super().run(None, 0)
        finally:
            self._finish()
        if isinstance(self.log, SealedArrivalLog):
            self.log.seal()  # only a finished run's log is complete
        return state

    def _finish(self) -> None:
        """STOP every live worker, then let each listener collect what it is still owed."""
        for i in range(self.n):
            if not self.lost[i]:
                self._send(i, order(STOP, self._dim))
        for q in self._owed:
            q.put(None)
        deadline = time.monotonic() + self.timeout
        for i, t in enumerate(self._threads):
            if not self.lost[i]:  # a stalled worker's listener waits on: the process exit ends it
                t.join(timeout=max(deadline - time.monotonic(), 0.0))
