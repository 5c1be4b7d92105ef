"""Asynchronous runs whose arrival order comes from outside: a real run's receive order, or its logged one.

A real asynchronous run (``tailtamer launch`` on an async config, :mod:`tailtamer.distributed.asynchronous.run`)
and its replay in the simulator (``tailtamer run CONFIG --replay RUN_DIR``) are both an
:class:`OrderedAsyncLoop`: the event engine of :mod:`.async_loop` (same scheme hooks, event table, metrics,
callbacks and run folder) in which the next event is handed in instead of popped from the simulated heap.
Their shared rules:

* the server handles one event at a time, so there are no simultaneous arrivals: the workers a scheme
  (re)starts are started right after each event, on the model it left;
* an event's clock is its real time since the start, in timing units (seconds / ``time_scale``); jobs keep
  the timing model's durations (the sleeps a real worker makes), which only the utilization reads;
* a *lost* worker (it died or stalled) is never started again (a scheme never sees it among the idle
  workers); its in-flight job ends unfinished (not counted as cancelled);
* when the lost worker had a job in flight, the scheme may give its slot to idle workers
  (:meth:`~tailtamer.algorithms.asynchronous.base.AsyncScheme.replace_lost`: with a concurrency cap,
  ``fedbuff`` and ``async-local`` start the next idle worker in their round-robin order), started at once on
  the current model; schemes without a cap start none, as before.

``arrivals.jsonl`` (the arrival log, :data:`ARRIVALS`) has one JSON line per event, appended and flushed as
it happens; a real run that finishes seals it with a closing record, and a replay refuses a log without one
(:mod:`tailtamer.rundir.arrivals`)::

    {"event": "arrival", "k": 0, "worker": 2, "job": 0, "version": 0, "delay": 0, "time": 2.71, "updated": true, "dropped": false}
    {"event": "lost", "k": 37, "worker": 1, "rank": 2, "time": 40.2, "updates": 30, "reason": "..."}
    {"event": "lost", "k": 52, "worker": 0, "rank": 1, "time": 61.9, "updates": 41, "reason": "...", "replaced_by": [2]}

``k`` is the event's position; ``replaced_by`` (only when some) lists the workers started in a lost one's
place (the replay recomputes them and checks they agree); an arrival's ``version`` is the number of server
updates when its job read the model, ``delay`` = updates since. Replaying the log runs the same events in the
same order, and every gradient is recomputed by the job's counter-based oracle, so the replayed iterates are
the real run's.
"""  # noqa: E501 - the JSON line above is one event, not wrapped

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch

from ...algorithms.base import State
from ...errors import ValidationError
from .loop import AsyncLoop, ServerView
from .table import BUSY, IDLE, PENDING, PREFIX

#: The arrival log's file name in a run folder (read and written by :mod:`tailtamer.rundir.arrivals`).
ARRIVALS = "arrivals.jsonl"
LOST = PREFIX + "lost"
CURSOR = PREFIX + "cursor"


class EventSink(Protocol):
    """Where an :class:`OrderedAsyncLoop` records each event as it happens (one JSON-able row each)."""

    def write(self, row: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


@dataclass
class Event:
    """What happens next: worker ``worker``'s job ``job`` (read at ``version``) arrives with ``result``
    (None: recompute it), or (``kind = "lost"``) the worker is gone; ``time`` in timing units."""

    kind: str
    worker: int
    time: float
    job: int = -1
    version: int = -1
    result: torch.Tensor | None = None
    reason: str = ""
    replaced: list[int] | None = None  # a replayed loss: the workers the log says replaced it (None: unknown)


class OrderedAsyncLoop(AsyncLoop):
    """The event engine with the next event handed in by :meth:`_event` (see the module docstring).

    ``log``: an :class:`EventSink` (the run folder's :class:`~tailtamer.rundir.arrivals.ArrivalLog`) that records
    every event (the real server's), or None.
    """

    def _job_time(self, worker: int, compute: float, nbytes: int) -> float:
        """The compute time alone: arrivals come from outside (a real run's messages cross its real network, a
        replay reads when they arrived); the worker sleeps this long in a real run."""
        return compute

    def __init__(self, *args: Any, log: EventSink | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.log = log
        self.lost = [False] * self.n
        self.cursor = 0  # events handled so far

    # ---- what subclasses provide ----------------------------------------------------------------
    def _event(self, s: State) -> Event | None:
        """The next event, or None to stop."""
        raise NotImplementedError

    def _cancelled(self, worker: int) -> None:
        """Worker ``worker``'s job was cancelled and the worker not restarted (a real server tells it)."""

    # ---- state (the lost workers and the event count travel with checkpoints) ---------------------
    def initial_state(self) -> State:
        self.lost, self.cursor = [False] * self.n, 0
        return super().initial_state()

    def full_state(self, s: State) -> State:
        out = super().full_state(s)
        out[LOST] = torch.tensor(self.lost, dtype=torch.int64, device=self.device)
        out[CURSOR] = torch.tensor([self.cursor], dtype=torch.int64, device=self.device)
        return out

    def _split(self, state: State) -> State:
        self.lost = [bool(v) for v in state[LOST].tolist()]
        self.cursor = int(state[CURSOR][0])
        return super()._split(state)

    # ---- events ---------------------------------------------------------------------------------
    def _flush(self, s: State) -> None:
        for i in self.events.pending():
            if self.lost[i]:
                self.events.status[i] = IDLE
            else:
                self._start(s, i)

    def _next(self, s: State) -> tuple[State, bool] | None:
        e = self.events
        self._flush(s)
        if not e.busy():
            raise RuntimeError(
                f"{self.algorithm.name}: no job in flight at update {e.updates} "
                f"({sum(self.lost)} of {self.n} workers lost)"
            )
        ev = self._event(s)
        if ev is None:
            return None
        k = self.cursor
        self.cursor += 1
        if ev.kind == "lost":
            return self._lose(s, ev, k), False
        before = set(e.busy()) - {ev.worker}
        worker, version, job = e.take(ev.worker, ev.time)
        dropped = e.dropped
        s, updated = self._deliver(s, worker, version, job, ev.result)
        self._write(
            {
                "event": "arrival",
                "k": k,
                "worker": worker,
                "job": job,
                "version": version,
                "delay": e.updates - version - int(updated),
                "time": ev.time,
                "updated": updated,
                "dropped": e.dropped > dropped,
            }
        )
        for j in sorted(before):
            if e.status[j] == IDLE:
                self._cancelled(j)
        return s, updated

    def _view(self) -> ServerView:
        return ServerView(self.events, self.lost)

    def _lose(self, s: State, ev: Event, k: int) -> State:
        """Worker ``ev.worker`` is gone; a busy one's slot goes to whom the scheme says (started by the next
        :meth:`_flush`). Returns the scheme's state."""
        e, worker = self.events, ev.worker
        busy = e.status[worker] == BUSY
        e.lose(worker, ev.time)
        self.lost[worker] = True
        started: list[int] = []
        if busy:
            s, started = self.algorithm.replace_lost(s, worker, self._view())
            for j in started:
                if e.status[j] != IDLE or self.lost[j]:
                    raise RuntimeError(
                        f"{self.algorithm.name}: worker {j} replaces lost worker {worker}, but it "
                        f"is {'lost' if self.lost[j] else 'busy'}"
                    )
                e.status[j] = PENDING
        if ev.replaced is not None and list(ev.replaced) != started:
            raise ValidationError(
                f"{ARRIVALS} line {k + 1}: worker {worker} is lost and the log starts "
                f"{list(ev.replaced)} in its place, but this replay starts {started}: the config "
                f"or the algorithm's decisions differ from the real run's"
            )
        row = {
            "event": "lost",
            "k": k,
            "worker": worker,
            "rank": worker + 1,
            "time": ev.time,
            "updates": e.updates,
            "reason": ev.reason,
        }
        self._write({**row, "replaced_by": started} if started else row)
        return s

    def _write(self, row: dict[str, Any]) -> None:
        if self.log is not None:
            self.log.write(row)

    def run(self, state: State | None = None, start_step: int = 0) -> State:
        try:
            return super().run(state, start_step)
        finally:
            if self.log is not None:
                self.log.close()


class ReplayLoop(OrderedAsyncLoop):
    """Replays a real run's arrival log (``rows`` from :func:`tailtamer.rundir.arrivals.read_log`) in the
    simulator."""

    def __init__(self, *args: Any, rows: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.time_limit = 0.0  # the log says where the real run stopped

    def _event(self, s: State) -> Event | None:
        if self.cursor >= len(self.rows):
            return None
        k, row = self.cursor, self.rows[self.cursor]
        try:
            kind, w, t = row["event"], int(row["worker"]), float(row["time"])
        except (KeyError, TypeError, ValueError):
            raise ValidationError(f"{ARRIVALS} line {k + 1}: not an event line: {row!r}") from None
        if not 0 <= w < self.n or kind not in ("arrival", "lost"):
            raise ValidationError(f"{ARRIVALS} line {k + 1}: unknown event {kind!r} or worker {w} (n = {self.n})")
        if kind == "lost":
            replaced = row.get("replaced_by", [])
            if not isinstance(replaced, list) or not all(isinstance(j, int) for j in replaced):
                raise ValidationError(
                    f"{ARRIVALS} line {k + 1}: replaced_by must be a list of workers, got {replaced!r}"
                )
            return Event("lost", w, t, reason=str(row.get("reason", "")), replaced=replaced)
        e = self.events
        job, version = int(row["job"]), int(row["version"])
        if e.status[w] != BUSY or e.jobs[w] - 1 != job or e.version[w] != version:
            now = f"job {e.jobs[w] - 1} read at version {e.version[w]}" if e.status[w] == BUSY else "no job in flight"
            raise ValidationError(
                f"{ARRIVALS} line {k + 1}: worker {w}'s job {job} (read at version {version}) "
                f"arrives, but this replay has {now} for it: the config or the algorithm's "
                f"decisions differ from the real run's"
            )
        return Event("arrival", w, t, job, version)
