"""Asynchronous methods (family ``"async"``): a server and n workers of unequal speed, run by the event
engine :class:`tailtamer.engine.events.loop.AsyncLoop` (specification: docs/async.md)."""

from . import buffered, per_gradient, rennala, ringmaster, sync, transforms  # noqa: F401  (registration)
from .base import Arrival, AsyncScheme, Outcome, Server
from .compensation import COMPENSATIONS
from .delays import DELAY_RULES

__all__ = ["COMPENSATIONS", "DELAY_RULES", "Arrival", "AsyncScheme", "Outcome", "Server"]
