"""A mixing matrix given by the user, from a ``.npy``/``.csv`` file or inline in the config.

Example (TOML)::

    [topology]
    name = "matrix"
    values = [[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataNotFoundError, ValidationError
from ..validation import check_choice
from .base import TOPOLOGIES, Topology
from .checks import check_square
from .weights import WEIGHTINGS, apply_weighting

#: ``weights`` choices of the ``matrix`` topology: ``"given"`` uses the matrix as W; a weighting name
#: treats its off-diagonal nonzeros as the edges of an undirected graph and weighs them.
MATRIX_WEIGHTS: tuple[str, ...] = ("given", *WEIGHTINGS)

#: Absolute tolerance of the symmetry test that decides ``directed``.
SYMMETRY_TOL = 1e-12


def load_matrix(path: str) -> np.ndarray:
    """Read a matrix from ``.npy`` (``numpy.save``) or ``.csv`` (comma-separated rows, ``#`` comments).

    Raises:
        DataNotFoundError: no file at ``path`` (the message names it).
        ValidationError: another extension, or a file that does not parse as a numeric matrix.
    """
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataNotFoundError(f"topology 'matrix': mixing matrix file not found: {path} (resolved to {p.resolve()})")
    suffix = p.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(p, allow_pickle=False)
        if suffix == ".csv":
            return np.loadtxt(p, delimiter=",", ndmin=2, dtype=np.float64)
    except (ValueError, OSError) as err:
        raise ValidationError(f"topology 'matrix': cannot read {path}: {err}") from None
    raise ValidationError(f"topology 'matrix': path must end in .npy or .csv, got {path}")


@TOPOLOGIES.register("matrix")
def matrix(n: int, path: str = "", values: list = [], weights: str = "given") -> Topology:  # noqa: B006
    """User mixing matrix from ``path`` (.npy or .csv) or inline ``values`` (nested list); exactly one.

    ``n = 0`` takes the size from the matrix; ``n > 0`` must equal it. With ``weights = "given"`` the
    matrix is used as is; with ``"metropolis"`` or ``"uniform"`` its off-diagonal nonzeros are read as
    the (symmetric) edges of an undirected graph and weighted accordingly. ``directed`` is True iff the
    resulting W is not symmetric. Full validation (stochasticity, primitivity) is done by
    :func:`~tailtamer.topology.build_topology`.
    """
    owner = "topology 'matrix'"
    check_choice("weights", weights, MATRIX_WEIGHTS, owner=owner)
    has_values = values is not None and len(values) > 0
    if bool(path) == has_values:
        raise ValidationError(
            f"{owner}: give exactly one of 'path' (a .npy or .csv file) and "
            f"'values' (a nested list), got "
            f"{'both' if path else 'neither'}"
        )
    raw: Any = load_matrix(path) if path else values
    W = check_square(raw, what=f"{owner}: the matrix")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValidationError(f"{owner}: n must be an integer ≥ 0 (0 = from the matrix), got {n!r}")
    if n and n != W.shape[0]:
        raise ValidationError(
            f"{owner}: the matrix is {W.shape[0]} × {W.shape[0]} but n = {n}; "
            f"set n = {W.shape[0]} (or 0 to take it from the matrix)"
        )
    if weights != "given":
        A = W != 0
        np.fill_diagonal(A, False)
        if not np.array_equal(A, A.T):
            i, j = map(int, np.argwhere(A != A.T)[0])
            raise ValidationError(
                f"{owner}: weights={weights!r} needs a symmetric pattern of nonzeros "
                f"(an undirected graph), but W[{i}, {j}] and W[{j}, {i}] differ "
                f"in being zero; use weights='given' for a directed matrix"
            )
        W = apply_weighting(A, weights, owner=owner)
    directed = not np.allclose(W, W.T, rtol=0.0, atol=SYMMETRY_TOL)
    return Topology("matrix", W, directed=directed, params={"path": path, "values": values, "weights": weights})
