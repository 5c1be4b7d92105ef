"""``server``: no graph at all: n clients (or workers) that talk only to a parameter server.

Server, federated and asynchronous methods exchange nothing but averages (``comm.mean``), so they need the
number of nodes and no mixing matrix. Naming this topology sets ``n`` without building an ``n × n`` matrix
that nothing would use; the engine then hosts a comm whose ``mix`` is refused.
"""

from __future__ import annotations

from ..errors import ValidationError
from .base import TOPOLOGIES, Topology

#: The registered name of the graph-free topology.
SERVER = "server"


@TOPOLOGIES.register(
    SERVER, "no graph: n clients of a parameter server (comm.mean only; for server, federated and asynchronous methods)"
)
def server(n: int) -> Topology:
    """Refused wherever a mixing matrix is needed: the engine never builds it (see module docstring)."""
    raise ValidationError(
        f"topology '{SERVER}' has no mixing matrix: it gives the number of clients of server, "
        f"federated and asynchronous methods; choose a graph (ring, complete, exponential, ...) "
        f"for a gossip method"
    )
