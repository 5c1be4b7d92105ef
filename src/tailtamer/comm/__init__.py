"""Communication backends: the ``Comm`` contract, the in-process simulator (and torch.distributed)."""
from .base import Comm, CommStats
from .simulated import SimulatedComm

__all__ = ["Comm", "CommStats", "SimulatedComm"]
