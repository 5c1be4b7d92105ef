"""Build a topology by name and check that its W is a usable mixing matrix: the one way to build one.

:func:`build_topology` is what the simulator (:func:`tailtamer.api.build_components`), the distributed
drop-in optimizer, ``tailtamer topology`` and the tests call; ``TOPOLOGIES.build`` alone skips validation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ValidationError
from .base import TOPOLOGIES, Topology
from .checks import validate_mixing


def build_topology(
    name: str,
    n: int,
    params: dict[str, Any] | None = None,
    requires: str = "row_stochastic",
    algorithm: str | None = None,
) -> Topology:
    """Build the registered topology ``name`` for ``n`` nodes with ``params`` and validate it.

    ``n`` must be ≥ 1, except for ``"matrix"`` where 0 means "take n from the matrix". The result's W
    is checked by :func:`~tailtamer.topology.checks.validate_mixing` with ``requires`` (row-stochastic
    by default; pass ``"doubly_stochastic"`` for methods that need exact averaging), and must be
    primitive (strongly connected and aperiodic). ``algorithm`` names the method the topology is for, in
    the message of a W that fails validation. ``server`` (no graph) is refused: a graph-free run never
    builds a topology (see :mod:`~tailtamer.topology.server`).

    Raises:
        ConfigError: unknown name (the closest registered name is suggested) or parameter key.
        ValidationError: bad parameter value or a W that fails validation.
        DataNotFoundError: the ``matrix`` topology's file is missing.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValidationError(f"topology '{name}': n must be an integer ≥ 1, got {n!r}")
    topo = TOPOLOGIES.build(name, params, section="topology", n=int(n))
    if n and topo.n != n:  # pragma: no cover - a builder bug, not a user error
        raise ValidationError(f"topology '{name}' built a {topo.n} × {topo.n} matrix for n = {n}")
    try:
        validate_mixing(topo.W, requires=requires)
    except ValidationError as err:
        if algorithm is None:
            raise
        raise ValidationError(f"topology '{topo.name}' cannot be used with algorithm '{algorithm}': {err}") from None
    return topo
