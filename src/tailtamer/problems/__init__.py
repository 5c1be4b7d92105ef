"""Problems (gradient oracles). Importing this package registers every problem in :data:`PROBLEMS`.

Registered: ``tokenized-regression`` (E1), ``claim1``, ``quadratic``, ``quartic``, ``cosh``, ``logistic``,
``least-squares``.
"""

from __future__ import annotations

from typing import Any

from . import (  # noqa: F401  (registration)
    claim1,
    cosh,
    least_squares,
    logistic,
    models,
    quadratic,
    quartic,
    tokenized,
)
from .base import PROBLEMS, Problem
from .synthetic import SyntheticProblem

__all__ = ["PROBLEMS", "Problem", "SyntheticProblem", "build_problem"]


def build_problem(name: str, n: int, params: dict[str, Any] | None = None) -> Problem:
    """Build problem ``name`` split over ``n`` nodes from config ``params`` (validated by the registry).

    Example:
        >>> build_problem("claim1", 20).x_star.item()
        5.0
    """
    return PROBLEMS.build(name, dict(params or {}), section="problem", n=n)
