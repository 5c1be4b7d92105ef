"""The asynchronous-scheme contract: a server reacting to job arrivals on a simulated clock.

An asynchronous method (``family = "async"``) is run by :class:`tailtamer.engine.events.loop.AsyncLoop`
instead of the lockstep loop. The engine keeps one job per worker (finish time, worker, model version read)
and, at each arrival, hands the scheme an :class:`Arrival`; the scheme answers with an :class:`Outcome`:
the new server state, whether the server model was updated (``[run] steps`` counts those updates), and which
in-flight jobs to cancel and which workers to (re)start on the new model.

Worker side: :meth:`AsyncScheme.compute` maps the model a worker read to what it sends (one stochastic
gradient, or a pseudo-gradient after local steps); ``grad`` is the worker's oracle for that job, whose draws
are a pure function of (seed, worker, job index, call), so a simulated and a real run draw the same numbers.

Simultaneous arrivals (:attr:`AsyncScheme.restarts`): ``"each"`` (the default, per-gradient methods) starts
the workers an arrival restarts right after that arrival, on the model it left — the loops of the ASGD,
Ringmaster and Rennala papers, and what a real server does; ``"instant"`` (the batch rule: FedBuff, the
synchronous baselines) starts them after every job finishing at the same instant has arrived, so that with
equal compute times a full buffer or a sync round sees every arrival (FedBuff with K = n is then FedAvg).
The two differ only when compute times tie (the ``fixed`` timing model).

State is a dict of ``[1, d]`` server tensors holding ``"x"`` (checkpointed with the engine's events).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import torch

from ..base import Method, Oracle, State


@dataclass
class Arrival:
    """A finished job: worker ``worker`` read model version ``version`` (server updates at that time) and
    sends ``result``; ``delay`` = server updates since that read; ``x_read`` is the model it read."""

    worker: int
    version: int
    delay: int
    job: int
    time: float
    result: torch.Tensor
    x_read: torch.Tensor


@dataclass
class Outcome:
    """A scheme's answer to an arrival.

    Attributes:
        state: the new server state.
        updated: whether the server model changed (one server update, ``k ← k+1``).
        dropped: whether the arrival was discarded (counted in the metrics).
        cancel: workers whose in-flight jobs are cancelled (they become idle).
        restart: workers (idle after the cancels) started on the new model; ``None`` means the arriving one.
    """

    state: State
    updated: bool
    dropped: bool = False
    cancel: Sequence[int] = ()
    restart: Sequence[int] | None = None


class Server(Protocol):
    """What a scheme may read of the engine at an arrival (nothing here changes it)."""

    n: int
    updates: int  # server updates k so far (before this arrival's)
    clock: float

    def busy(self) -> list[int]:
        """Workers with a job in flight (the arriving one excluded)."""
        ...

    def versions(self) -> list[int]:
        """Model version read by each worker's current (or last) job."""
        ...

    def idle(self) -> list[int]:
        """Workers neither computing nor about to restart (the arriving one included; a real run's lost
        workers never)."""
        ...


class AsyncScheme(Method):
    """The event-driven protocol: base of asynchronous methods; see the module docstring. It has no lockstep
    ``step``: the event engine calls :meth:`arrive` once per finished job.

    Class attributes:
        uses_reads: whether :meth:`arrive` reads ``Arrival.x_read`` (delay compensation).
        restarts: when restarted workers start, ``"each"`` or ``"instant"`` (module docstring).
    """

    family: ClassVar[str] = "async"
    requires: ClassVar[str] = "none"
    restarts: str = "each"

    def bind(self, n: int) -> None:
        """Set what depends on the number of workers n (called by the engine before a fresh or resumed run)."""
        self._n = n

    def init(self, x0: torch.Tensor, comm) -> State:
        """Server state from the initial model ``x0`` (``[1, d]``); ``comm.n`` is the number of workers."""
        return {"x": x0.clone()}

    def initial_workers(self, n: int) -> list[int]:
        """Workers started at time 0 (all of them by default)."""
        return list(range(n))

    def compute(self, x_read: torch.Tensor, grad: Oracle) -> torch.Tensor:
        """What a worker sends after reading ``x_read`` (default: one stochastic gradient)."""
        return grad(x_read)

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        raise NotImplementedError

    def replace_lost(self, s: State, worker: int, server: Server) -> tuple[State, list[int]]:
        """Worker ``worker`` of a real run was lost (it died or stalled) with a job in flight: the new state and
        the idle workers (from ``server.idle()``) to start in its place on the current model. By default none:
        every worker has a slot of its own; a scheme that caps how many compute at once gives the slot away."""
        return s, []


def stale_workers(server: Server, cap: int) -> list[int]:
    """In-flight workers whose delay reaches ``cap`` once this arrival's update is made
    (``k+1 − version ≥ cap``): the ones Ringmaster's stop variant cancels and restarts."""
    k1 = server.updates + 1
    v = server.versions()
    return [j for j in server.busy() if k1 - v[j] >= cap]
