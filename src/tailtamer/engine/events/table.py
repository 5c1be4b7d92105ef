"""The in-flight jobs of the asynchronous engine: one slot per worker, a heap of finish times.

Each worker is idle, busy (a job in flight: start and finish time, model version read, job index) or
pending (asked to restart; it starts once every job finishing at the current instant has arrived). The
heap orders jobs by ``(finish time, worker)``; cancelled jobs stay in the heap and are skipped when popped
(their job index no longer matches the worker's). :meth:`EventTable.tensors` / :meth:`EventTable.load`
turn the table into checkpointable tensors and back; the heap is rebuilt from the busy slots, and since the
pop order is the total order ``(finish, worker)``, a resumed run pops exactly what the uninterrupted run
would have popped.
"""

from __future__ import annotations

import heapq
import math

import torch

IDLE, BUSY, PENDING = 0, 1, 2
PREFIX = "engine."


class EventTable:
    """Per-worker job slots and the counters the metrics read (see module docstring)."""

    def __init__(self, n: int):
        self.n = n
        self.status = [IDLE] * n
        self.start = [0.0] * n
        self.finish = [math.inf] * n
        self.version = [0] * n
        self.jobs = [0] * n  # jobs started so far (the current job's index is jobs − 1)
        self.busy_time = [0.0] * n  # seconds spent computing, cancelled work included
        self.done = [0] * n  # jobs that arrived
        self.clock = 0.0
        self.updates = 0
        self.arrivals = 0
        self.dropped = 0
        self.cancelled = 0
        self.delay_sum = 0
        self.delay_max = 0
        self.hist: list[int] = []  # hist[δ] = arrivals with delay δ
        self._heap: list[tuple[float, int, int]] = []

    # ---- jobs -----------------------------------------------------------------------------------
    def begin(self, worker: int, duration: float) -> int:
        """Start worker ``worker``'s next job now on model version ``updates``; returns its job index."""
        job = self.jobs[worker]
        self.jobs[worker] += 1
        self.status[worker] = BUSY
        self.start[worker] = self.clock
        self.finish[worker] = self.clock + duration
        self.version[worker] = self.updates
        heapq.heappush(self._heap, (self.finish[worker], worker, job))
        return job

    def cancel(self, worker: int) -> bool:
        """Cancel the worker's in-flight job (its time so far counts as busy); False when it had none."""
        if self.status[worker] != BUSY:
            return False
        self.busy_time[worker] += self.clock - self.start[worker]
        self.status[worker] = IDLE
        self.finish[worker] = math.inf
        self.cancelled += 1
        return True

    def _clean(self) -> None:
        h = self._heap
        while h and (self.status[h[0][1]] != BUSY or self.jobs[h[0][1]] - 1 != h[0][2]):
            heapq.heappop(h)

    def peek(self) -> float:
        """Finish time of the next job (``inf`` when none is in flight)."""
        self._clean()
        return self._heap[0][0] if self._heap else math.inf

    def pop(self) -> tuple[int, int, int]:
        """The next finished job: advances the clock; returns ``(worker, version read, job index)``."""
        self._clean()
        finish, worker, job = heapq.heappop(self._heap)
        self.clock = finish
        self.status[worker] = IDLE
        self.finish[worker] = math.inf
        self.busy_time[worker] += finish - self.start[worker]
        self.done[worker] += 1
        return worker, self.version[worker], job

    def take(self, worker: int, clock: float) -> tuple[int, int, int]:
        """Worker ``worker``'s in-flight job arrives at ``clock`` (an arrival order given from outside: a real
        run's receive order or its log); like :meth:`pop`, returns ``(worker, version read, job index)``."""
        self.clock = clock
        self.status[worker] = IDLE
        self.finish[worker] = math.inf
        self.busy_time[worker] += clock - self.start[worker]
        self.done[worker] += 1
        return worker, self.version[worker], self.jobs[worker] - 1

    def lose(self, worker: int, clock: float) -> None:
        """Worker ``worker`` is gone (died or stalled): its in-flight job, if any, ends at ``clock`` unfinished
        (busy until then; not counted as cancelled)."""
        self.clock = clock
        if self.status[worker] == BUSY:
            self.busy_time[worker] += clock - self.start[worker]
        self.status[worker] = IDLE
        self.finish[worker] = math.inf

    def record_delay(self, delay: int) -> None:
        self.arrivals += 1
        self.delay_sum += delay
        self.delay_max = max(self.delay_max, delay)
        if delay >= len(self.hist):
            self.hist.extend([0] * (delay + 1 - len(self.hist)))
        self.hist[delay] += 1

    def busy(self) -> list[int]:
        return [i for i, s in enumerate(self.status) if s == BUSY]

    def pending(self) -> list[int]:
        return [i for i, s in enumerate(self.status) if s == PENDING]

    # ---- metrics --------------------------------------------------------------------------------
    def utilization(self) -> list[float]:
        """Per-worker fraction of the elapsed simulated time spent computing (in-flight work included)."""
        if self.clock <= 0:
            return [0.0] * self.n
        out = []
        for i in range(self.n):
            t = self.busy_time[i] + (self.clock - self.start[i] if self.status[i] == BUSY else 0.0)
            out.append(t / self.clock)
        return out

    def metrics(self) -> dict[str, float]:
        util = self.utilization()
        return {
            "time": self.clock,
            "arrivals": self.arrivals,
            "dropped": self.dropped,
            "cancelled": self.cancelled,
            "mean_delay": self.delay_sum / max(self.arrivals, 1),
            "max_delay": self.delay_max,
            "utilization": sum(util) / self.n,
        }

    # ---- checkpoints ----------------------------------------------------------------------------
    def tensors(self) -> dict[str, torch.Tensor]:
        """The table as tensors (keys prefixed ``engine.``) for a checkpoint."""
        i64, f64 = torch.int64, torch.float64
        ints = [self.updates, self.arrivals, self.dropped, self.cancelled, self.delay_sum, self.delay_max]
        return {
            PREFIX + "status": torch.tensor(self.status, dtype=i64),
            PREFIX + "start": torch.tensor(self.start, dtype=f64),
            PREFIX + "finish": torch.tensor(self.finish, dtype=f64),
            PREFIX + "version": torch.tensor(self.version, dtype=i64),
            PREFIX + "jobs": torch.tensor(self.jobs, dtype=i64),
            PREFIX + "busy_time": torch.tensor(self.busy_time, dtype=f64),
            PREFIX + "done": torch.tensor(self.done, dtype=i64),
            PREFIX + "clock": torch.tensor([self.clock], dtype=f64),
            PREFIX + "counters": torch.tensor(ints, dtype=i64),
            PREFIX + "hist": torch.tensor(self.hist or [0], dtype=i64),
        }

    @classmethod
    def load(cls, t: dict[str, torch.Tensor]) -> EventTable:
        """The table saved by :meth:`tensors` (the heap rebuilt from the busy slots)."""
        n = int(t[PREFIX + "status"].numel())
        e = cls(n)
        e.status = [int(v) for v in t[PREFIX + "status"].tolist()]
        e.start = [float(v) for v in t[PREFIX + "start"].tolist()]
        e.finish = [float(v) for v in t[PREFIX + "finish"].tolist()]
        e.version = [int(v) for v in t[PREFIX + "version"].tolist()]
        e.jobs = [int(v) for v in t[PREFIX + "jobs"].tolist()]
        e.busy_time = [float(v) for v in t[PREFIX + "busy_time"].tolist()]
        e.done = [int(v) for v in t[PREFIX + "done"].tolist()]
        e.clock = float(t[PREFIX + "clock"][0])
        (e.updates, e.arrivals, e.dropped, e.cancelled, e.delay_sum, e.delay_max) = (
            int(v) for v in t[PREFIX + "counters"].tolist()
        )
        e.hist = [int(v) for v in t[PREFIX + "hist"].tolist()] if e.arrivals else []
        e._heap = [(e.finish[i], i, e.jobs[i] - 1) for i in range(n) if e.status[i] == BUSY]
        heapq.heapify(e._heap)
        return e
