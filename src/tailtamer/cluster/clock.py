"""The simulated wall-clock time of a lockstep run (every family but the event-driven one).

A step costs the slowest worker's compute plus its communication (one clock for every family):

* the compute of step t is ``maxᵢ Σ_j τ_i(j)`` over the step's gradient computations ``j`` (one for a
  decentralized or server method; H for a local-update round of H local steps, ``Method.computations_per_step``);
* each ``comm.mix`` / ``comm.mean`` of the step is priced by the :class:`~tailtamer.cluster.model.Cluster` from
  the bytes it really sent (a codec's packets), as :class:`~tailtamer.comm.base.CommStats` counts them; traffic
  while the counters are paused (evaluation) is free.

Calls in one step run one after the other (an algorithm's messages depend on the previous call's result).
"""

from __future__ import annotations

from typing import Any

from .fabrics import Degrees
from .model import Cluster


class Clock:
    """Simulated seconds of a lockstep run on ``cluster``: listens to a comm's counters, ticks once per step.

    Args:
        cluster: the cluster the run is timed on.
        degrees: ``(out, in)`` degree of every node of the run's graph, for the gossip pattern
            (:meth:`Topology.degrees <tailtamer.topology.base.Topology.degrees>`, reversed); None: no graph.
        per_step: gradient computations per worker and step.
    """

    def __init__(self, cluster: Cluster, degrees: tuple[Degrees, Degrees] | None = None, per_step: int = 1):
        self.cluster, self.per_step = cluster, int(per_step)
        self.now = 0.0
        self._pending = 0.0
        self._degrees = degrees
        self._gossip: dict[int, float] = {}

    def listen(self, stats: Any) -> None:
        """Price every message ``stats`` counts from now on (nothing to price on a free network)."""
        if not self.cluster.free:
            stats.listeners.append(self.record)

    def record(self, kind: str, messages: int, nbytes: int, dense: int | None) -> None:
        """One communication call: ``messages`` messages of ``nbytes`` bytes in all (``dense``: an uncompressed
        row's bytes when a codec compressed them, else None)."""
        if messages == 0:
            return
        b = nbytes // messages
        if kind == "mix":
            cost = self._gossip.get(b)
            if cost is None:
                assert self._degrees is not None, "comm.mix without a graph raises before it counts"
                cost = self._gossip[b] = self.cluster.mix_cost(b, *self._degrees)
        else:
            cost = self.cluster.mean_cost(b, b if dense is None else dense, dense is not None)
        self._pending += cost

    def tick(self, t: int) -> float:
        """Step ``t`` (0-based) is done: add its compute and communication; returns the new time."""
        jobs = range(t * self.per_step, (t + 1) * self.per_step)
        self.now += self.cluster.step_compute(jobs) + self._pending
        self._pending = 0.0
        return self.now
