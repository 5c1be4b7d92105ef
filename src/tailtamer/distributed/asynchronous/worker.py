"""A worker of a real asynchronous run (rank i+1 is worker i): compute what the server asks, for real.

For each START the worker computes the scheme's ``compute`` (one stochastic gradient, or local steps) on the
model it was sent, with the job's oracle (:func:`~tailtamer.engine.events.oracle.job_oracle`: the draws a
simulated run makes for worker i's job j), then sleeps until the job has lasted its duration times
``time_scale`` seconds (so a job takes max(compute, τ·time_scale): stragglers are real), and replies. A
message arriving meanwhile (a new START, CANCEL or STOP) aborts the job: the worker replies ABORTED and
obeys it. A listener thread receives the server's messages, so the sleep is interruptible.

A worker without a job (waiting for its turn under a concurrency cap, or for a round to end) hears a
HEARTBEAT from the server at least every ``timeout``/3 seconds: the listener takes it as proof of life and
keeps it off the inbox (so it never aborts a job). If the server dies (its connection breaks: noticed at
once) or sends nothing, heartbeats included, for ``timeout`` seconds beyond the job in hand (it stalled),
the worker stops with a :class:`~tailtamer.comm.health.CommError` naming the server (rank 0).
"""

from __future__ import annotations

import queue
import threading
import time
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from ...comm.health import CommError
from ...dtypes import DTYPES
from ...engine.events.oracle import job_oracle
from ...errors import NonFiniteError
from .messages import ABORTED, CANCEL, HEAD, HEARTBEAT, NONFINITE, RESULT, START, STOP, reply, short


class Worker:
    """Worker ``rank − 1`` of built components ``c`` (:class:`tailtamer.api.Components`).

    ``fault``: a :class:`~tailtamer.distributed.faults.FaultInjector` fired after each job's reply (its step
    is the number of jobs this worker has finished), or None.
    """

    def __init__(self, c: Any, rank: int, time_scale: float, timeout: float, fault: Any = None):
        run = c.config["run"]
        self.c, self.rank, self.worker = c, rank, rank - 1
        self.time_scale, self.timeout, self.fault = float(time_scale), float(timeout), fault
        self.seed, self.check, self.dtype = run["seed"], run["check_finite"], DTYPES[run["dtype"]]
        self.dim = c.problem.dim
        self.algorithm = c.algorithm
        self.algorithm.bind(c.n)
        self.inbox: queue.Queue = queue.Queue()
        self.finished = 0

    def _fail(self, why: str) -> CommError:
        return CommError(f"worker {self.worker} (rank {self.rank}): the server (rank 0) {why}", self.rank, [0], "async")

    def _listen(self) -> None:
        budget = self.timeout
        while True:
            buf = torch.empty(HEAD + self.dim, dtype=torch.float64)
            try:
                dist.irecv(buf, src=0).wait(timedelta(seconds=budget))
            except RuntimeError as err:
                self.inbox.put(
                    self._fail(f"died, stalled or is unreachable: no message within {budget:.3g} s [{short(err)}]")
                )
                return
            kind = int(buf[0])
            if kind == HEARTBEAT:  # the server lives; the worker waits on (nothing to obey)
                budget = self.timeout
                continue
            self.inbox.put(buf)
            if kind == STOP:
                return
            budget = self.timeout + (float(buf[3]) * self.time_scale if kind == START else 0.0)

    def _take(self, wait: float | None) -> torch.Tensor | None:
        """The next message (None when none came within ``wait`` seconds; ``wait`` None: block)."""
        try:
            item = self.inbox.get(timeout=wait) if wait is None or wait > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def _send(self, msg: torch.Tensor) -> None:
        try:
            dist.isend(msg, dst=0).wait(timedelta(seconds=self.timeout))
        except RuntimeError as err:
            raise self._fail(f"died or is unreachable: sending failed [{short(err)}]") from None

    def run(self) -> int:
        """Serve jobs until STOP; returns the number of jobs finished."""
        dist.barrier()  # ready: the server starts its clock once every worker is (ServerLoop.run)
        threading.Thread(target=self._listen, daemon=True, name="listen").start()
        msg = self._take(None)
        while True:
            kind = int(msg[0])
            if kind == STOP:
                return self.finished
            if kind == CANCEL:
                msg = self._take(None)
                continue
            msg = self._job(msg)

    def _job(self, msg: torch.Tensor) -> torch.Tensor:
        """Run the START ``msg``; returns the next message (taken during the job or after its reply)."""
        t0 = time.perf_counter()
        job, duration = int(msg[1]), float(msg[3])
        x = msg[HEAD:].reshape(1, self.dim).to(self.dtype)
        oracle = job_oracle(self.c.problem, self.c.noise, self.seed, self.worker, job, self.check)
        try:
            result, status = self.algorithm.compute(x, oracle), RESULT
        except NonFiniteError:  # the server stops the run if this job arrives
            result, status = None, NONFINITE
        nxt = self._take(duration * self.time_scale - (time.perf_counter() - t0))
        if nxt is not None:  # superseded, cancelled or stopped meanwhile
            self._send(reply(job, ABORTED, self.dim))
            return nxt
        self._send(reply(job, status, self.dim, result))
        self.finished += 1
        if self.fault is not None:
            self.fault.fire(self.rank, self.finished)
        return self._take(None)
