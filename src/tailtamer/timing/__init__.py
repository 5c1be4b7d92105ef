"""Compute-time models of the asynchronous engine (``[timing]``), registered in :data:`TIMINGS`."""

from .models import TIMINGS, TimingModel

DEFAULT_TIMING = "sqrt"

__all__ = ["DEFAULT_TIMING", "TIMINGS", "TimingModel"]
