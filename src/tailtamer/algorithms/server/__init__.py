"""Server methods with compressed or sign messages (family ``compressed``, topology ``server``;
docs/compression.md §4): ``dsgd-server``, ``dcsgd``, ``dsignsgd``, ``ef``, ``ef21``, ``powersgd``."""

from . import error_feedback, methods, powersgd  # noqa: F401  (registration)
