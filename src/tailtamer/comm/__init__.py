"""Communication backends: the ``Comm`` contract, the in-process simulator (and torch.distributed)."""

from .base import Comm, CommStats
from .codec import Codec, Packet, dense_row_bytes, packet_row_bytes
from .simulated import NoGraphError, SimulatedComm

__all__ = [
    "Codec",
    "Comm",
    "CommStats",
    "NoGraphError",
    "Packet",
    "SimulatedComm",
    "dense_row_bytes",
    "packet_row_bytes",
]
