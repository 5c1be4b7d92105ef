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

import numpy as np
import scipy.sparse as sp

from .model import Cluster


def degrees(W: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(out, in)`` degree of every node of the mixing matrix ``W`` (``mix`` row i = Σ_r w_ir z_r: node i
    receives from every r ≠ i with w_ir ≠ 0); zeros without a matrix."""
    if W is None:
        zero = np.zeros(n, dtype=np.int64)
        return zero, zero
    C = sp.coo_array(W)
    off = (C.row != C.col) & (np.asarray(C.data) != 0)
    incoming = np.bincount(C.row[off], minlength=n)
    outgoing = np.bincount(C.col[off], minlength=n)
    return outgoing, incoming


class Clock:
    """Simulated seconds of a lockstep run on ``cluster``: listens to a comm's counters, ticks once per step.

    Args:
        cluster: the cluster the run is timed on.
        W: the run's mixing matrix (None: no graph), for the gossip pattern's degrees.
        per_step: gradient computations per worker and step.
    """

    def __init__(self, cluster: Cluster, W: Any = None, per_step: int = 1):
        self.cluster, self.per_step = cluster, int(per_step)
        self.now = 0.0
        self._pending = 0.0
        self._degrees = degrees(W, cluster.n) if not cluster.free else None
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
                assert self._degrees is not None
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
