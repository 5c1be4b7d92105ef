"""The server's link in an asynchronous run: every model download and every upload crosses it, one at a time.

Worker i's job (the event engine, :mod:`tailtamer.engine.events.loop`) is: download the model (``b`` bytes), compute
(the compute model's τ_i(j)), upload the result. A transfer needs
:meth:`Cluster.transfer <tailtamer.cluster.model.Cluster.transfer>` seconds of the server's link, and transfers
never share an instant of it. The link is a reservation calendar, booked when a job starts (its download, and its
upload for when its compute ends): a transfer ready at time r takes every free instant of the link from r on,
across the gaps earlier bookings left, until it has had its length. So the link never idles while a booked
transfer waits (work-conserving, as a real link whose TCP flows fill each other's gaps), and earlier bookings
keep their slots. A switched fabric's link is full duplex (downloads and uploads queue separately), a shared
medium carries both in one queue. Each message then takes the latency α to arrive. On a free network a job is
its compute time.

The calendar is part of the engine's state (:meth:`Link.tensor`, :meth:`Link.load`), so a run resumed from a
checkpoint times its jobs exactly as the uninterrupted run.
"""

from __future__ import annotations

import bisect

import torch

from .model import Cluster

DOWN, UP = 0, 1


class Link:
    """The reservation calendar of the server's link (one queue per direction on a duplex fabric)."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self._busy: list[list[tuple[float, float]]] = [[], []]

    def _queue(self, direction: int) -> list[tuple[float, float]]:
        return self._busy[direction if self.cluster.fabric.duplex else DOWN]

    def reserve(self, direction: int, ready: float, length: float, now: float) -> float:
        """Book ``length`` seconds of the link's free time from ``ready`` on (in as many pieces as the gaps
        between earlier bookings make); returns when the transfer ends. Bookings that ended by ``now`` (the
        engine's clock: no later request is ready before it) are dropped."""
        q = self._queue(direction)
        while q and q[0][1] <= now:
            q.pop(0)
        t, left, pieces = ready, length, []
        for s, e in q:
            if left <= 0:
                break
            if e <= t:
                continue
            if s > t:
                use = min(s - t, left)
                pieces.append((t, t + use))
                left -= use
                t += use
            if left > 0:
                t = max(t, e)
        if left > 0:
            pieces.append((t, t + left))
            t += left
        for piece in pieces:
            bisect.insort(q, piece)
        return t

    def job(self, worker: int, start: float, compute: float, nbytes: int) -> float:
        """Seconds from ``start`` until worker ``worker``'s job of ``compute`` seconds has arrived at the server:
        the model's download, the compute, the result's upload (``nbytes`` each way), each message α late."""
        c = self.cluster
        if c.free:
            return compute
        alpha, t = c.network.latency, c.transfer(worker, nbytes)
        got = self.reserve(DOWN, start, t, start) + alpha
        sent = self.reserve(UP, got + compute, t, start) + alpha
        return sent - start

    def tensor(self) -> torch.Tensor:
        """The calendar as a ``[k, 3]`` float64 tensor of ``(direction, start, end)`` rows (for checkpoints)."""
        rows = [(float(d), s, e) for d, q in enumerate(self._busy) for s, e in q]
        return torch.tensor(rows, dtype=torch.float64).reshape(-1, 3)

    def load(self, t: torch.Tensor) -> None:
        """Restore the calendar from :meth:`tensor`'s output."""
        self._busy = [[], []]
        for d, s, e in t.tolist():
            self._busy[int(d)].append((s, e))
        for q in self._busy:
            q.sort()
