"""Local-update / federated methods: the TailOPT family (docs/tailopt.md)."""

from . import tailopt  # noqa: F401  (registration)
from .sampling import client_count, client_mask, sample_clients
from .tailopt import INNER, INSTANCES, METHODS, OUTER, PAIRS, LocalUpdate

__all__ = [
    "INNER",
    "INSTANCES",
    "METHODS",
    "OUTER",
    "PAIRS",
    "LocalUpdate",
    "client_count",
    "client_mask",
    "sample_clients",
]
