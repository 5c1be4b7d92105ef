"""Communication topologies: graphs, their mixing matrices W, validation and the spectral gap.

Importing this package registers every builder in :data:`TOPOLOGIES`: ``ring``, ``complete``, ``torus``, ``star``,
``hypercube``, ``erdos-renyi`` (undirected, weighted by :mod:`~tailtamer.topology.weights`), ``exponential``
(directed), ``matrix`` (user-given, :mod:`~tailtamer.topology.user`) and ``server`` (no graph,
:mod:`~tailtamer.topology.server`)."""

from __future__ import annotations

from . import builders, exponential, server, user  # noqa: F401  (registration side effects)
from .base import TOPOLOGIES, Topology
from .build import build_topology
from .checks import is_column_stochastic, is_doubly_stochastic, is_row_stochastic, period, validate_mixing
from .server import SERVER
from .spectral import spectral_gap
from .weights import WEIGHTINGS, metropolis_weights, uniform_weights

__all__ = [
    "SERVER",
    "TOPOLOGIES",
    "Topology",
    "WEIGHTINGS",
    "build_topology",
    "is_column_stochastic",
    "is_doubly_stochastic",
    "is_row_stochastic",
    "metropolis_weights",
    "period",
    "spectral_gap",
    "uniform_weights",
    "validate_mixing",
]
