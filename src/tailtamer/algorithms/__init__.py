"""Registered algorithm recipes, by family."""
from . import decentralized, local_update, server  # noqa: F401  (registration)
from .base import ALGORITHMS, Algorithm, Oracle, State

__all__ = ["ALGORITHMS", "Algorithm", "Oracle", "State"]
