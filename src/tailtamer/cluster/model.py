"""A simulated cluster: the workers' compute times, the network, and the pattern of an exact average.

:class:`Cluster` is what ``[cluster]`` builds (:mod:`tailtamer.cluster.presets`). It prices one round of each
communication call of :class:`~tailtamer.comm.base.Comm` (:meth:`mix_cost`, :meth:`mean_cost`) and one
message between a worker and the server (:meth:`transfer`), from the bytes the call really sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..timing import TimingModel
from .fabrics import Degrees, Fabric
from .network import Network

#: How an exact average (``comm.mean``) travels: a ring all-reduce (what ``tailtamer launch`` runs on gloo, whatever
#: the topology), or a parameter server whose link its workers share.
REDUCE = ("ring", "server")


@dataclass
class Cluster:
    """Compute times, network and fabric of a cluster of ``network.n`` workers.

    Attributes:
        name: the preset it came from (``ideal``, ``datacenter``, ``cross-region``, ``edge``, ``custom``).
        compute: the workers' compute time per gradient (a :class:`~tailtamer.timing.models.TimingModel`).
        network: latency and links.
        fabric: how messages share the wire.
        reduce: ``"ring"`` or ``"server"``, the pattern of ``comm.mean``.
    """

    name: str
    compute: TimingModel
    network: Network
    fabric: Fabric
    reduce: str

    @property
    def n(self) -> int:
        return self.network.n

    @property
    def free(self) -> bool:
        """Whether communication costs nothing (then simulated time is compute time alone)."""
        return self.network.free

    def mix_cost(self, b: int, out_degree: Degrees, in_degree: Degrees) -> float:
        """Seconds of one gossip round whose messages carry ``b`` bytes."""
        return self.fabric.gossip(b, out_degree, in_degree)

    def mean_cost(self, b: int, dense: int, compressed: bool) -> float:
        """Seconds of one exact average whose messages carry ``b`` bytes (``dense``: bytes of an uncompressed
        row). Dense rows are summed on the wire (ring all-reduce) or by the server; compressed packets are
        gathered (ring) or uploaded, and the server sends back the cheaper of the dense average and the n
        packets."""
        if self.reduce == "server":
            return self.fabric.parameter_server(b, min(dense, self.n * b) if compressed else b)
        return self.fabric.all_gather(b) if compressed else self.fabric.ring_allreduce(b)

    def transfer(self, worker: int, b: int) -> float:
        """Seconds to move one ``b``-byte message between worker ``worker`` and the server (latency apart)."""
        return self.fabric.transfer(worker, b)

    def step_compute(self, jobs: range) -> float:
        """Seconds of a lockstep step in which every worker runs ``jobs`` (its gradient computations in order):
        the slowest worker's total."""
        return self.compute.slowest(jobs)
