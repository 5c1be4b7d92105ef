"""How messages share the wire: the cost rules of each communication pattern, per fabric.

A fabric turns one round of a pattern into seconds, from the :class:`~tailtamer.cluster.network.Network` and
the bytes the codecs really send (``b``: one message's bytes, what :class:`~tailtamer.comm.base.CommStats`
counts). α is the latency per message and β the time per byte (8 / bandwidth).

``switched`` (:class:`Switched`): every worker has its own full-duplex link to a non-blocking switch:

* neighbour gossip: each node sends its row to its out-neighbours and receives from its in-neighbours, all
  nodes at once; a node's messages share its link: ``α + b · maxᵢ max(outᵢ, inᵢ) · βᵢ``;
* ring all-reduce (reduce-scatter then all-gather, Patarasuk & Yuan 2009):
  ``2(n−1)/n · b · β + 2(n−1) α`` (β of the slowest link);
* all-gather (compressed rows cannot be summed on the wire, so a compressed average gathers the packets):
  ``(n−1)/n · n·b · β + (n−1) α``;
* parameter server: the n uploads share the server's link, ``α + max(n·b·β_s, b·β)``, then
* one-to-all broadcast from the server, ``α + max(n·b·β_s, b·β)``.

``shared`` (:class:`Shared`): one medium carries every byte in turn (a hub, or the loopback of one machine,
which is how the model is checked against real runs): every pattern costs its total bytes times β, plus its
latency terms as above.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..registry import Registry
from .network import Network

#: Each node's number of gossip partners (a list or an array, one entry per node).
Degrees = Sequence[int] | np.ndarray

#: The fabrics by name (``[cluster] fabric``).
FABRICS: Registry[Fabric] = Registry("fabric", context=("net",))


class Fabric:
    """Base: the seconds of one round of each pattern on ``net`` (``b``: bytes of one message)."""

    name = ""
    #: whether a link carries its two directions at once (the server's uploads and downloads do not queue together)
    duplex = True

    def __init__(self, net: Network):
        self.net = net

    def transfer(self, worker: int, b: int) -> float:
        """Seconds to move one message of ``b`` bytes between worker ``worker`` and the server (latency apart)."""
        return b * max(self.net.beta(worker), self.net.beta_server)

    def gossip(self, b: int, out_degree: Degrees, in_degree: Degrees) -> float:
        raise NotImplementedError

    def ring_allreduce(self, b: int) -> float:
        raise NotImplementedError

    def all_gather(self, b: int) -> float:
        raise NotImplementedError

    def upload(self, b: int) -> float:
        """The n workers' messages to the server."""
        raise NotImplementedError

    def broadcast(self, b: int) -> float:
        """The server's message to the n workers."""
        raise NotImplementedError

    def parameter_server(self, up: int, down: int) -> float:
        """Upload ``up`` bytes from every worker, then broadcast ``down`` bytes to all."""
        return self.upload(up) + self.broadcast(down)


@FABRICS.register("switched", "each worker's own full-duplex link to a non-blocking switch")
class Switched(Fabric):
    def gossip(self, b: int, out_degree: Degrees, in_degree: Degrees) -> float:
        net = self.net
        if b == 0 or not any(out_degree):
            return 0.0
        load = max(max(o, i) * net.beta(w) for w, (o, i) in enumerate(zip(out_degree, in_degree, strict=True)))
        return float(net.latency + b * load)

    def ring_allreduce(self, b: int) -> float:
        n = self.net.n
        if n < 2 or b == 0:
            return 0.0
        return 2 * (n - 1) / n * b * self.net.beta_slowest + 2 * (n - 1) * self.net.latency

    def all_gather(self, b: int) -> float:
        n = self.net.n
        if n < 2 or b == 0:
            return 0.0
        return (n - 1) * b * self.net.beta_slowest + (n - 1) * self.net.latency

    def upload(self, b: int) -> float:
        net = self.net
        return 0.0 if b == 0 else net.latency + max(net.n * b * net.beta_server, b * net.beta_slowest)

    def broadcast(self, b: int) -> float:
        return self.upload(b)


@FABRICS.register("shared", "one medium carries every byte in turn (a hub; one machine's loopback)")
class Shared(Fabric):
    duplex = False

    @property
    def _beta(self) -> float:
        return self.net.beta_server  # one medium: the server's link is the medium (validated equal to the links)

    def gossip(self, b: int, out_degree: Degrees, in_degree: Degrees) -> float:
        messages = sum(out_degree)
        return 0.0 if b == 0 or messages == 0 else self.net.latency + messages * b * self._beta

    def ring_allreduce(self, b: int) -> float:
        n = self.net.n
        if n < 2 or b == 0:
            return 0.0
        return 2 * (n - 1) * b * self._beta + 2 * (n - 1) * self.net.latency

    def all_gather(self, b: int) -> float:
        n = self.net.n
        if n < 2 or b == 0:
            return 0.0
        return n * (n - 1) * b * self._beta + (n - 1) * self.net.latency

    def upload(self, b: int) -> float:
        return 0.0 if b == 0 else self.net.latency + self.net.n * b * self._beta

    def broadcast(self, b: int) -> float:
        return self.upload(b)
