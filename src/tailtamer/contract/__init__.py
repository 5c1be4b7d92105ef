"""The contract suite of components (``tailtamer check``): one table of properties per kind of component."""

from .result import Result, Skip
from .suite import KINDS, check, kind_of

__all__ = ["KINDS", "Result", "Skip", "check", "kind_of"]
