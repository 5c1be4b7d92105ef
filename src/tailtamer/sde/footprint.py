"""Refuse an SDE-lab run too big for this machine's memory before its paths are allocated (as ``tailtamer run``
does with :mod:`tailtamer.rundir.footprint`).

One step holds, per path, the iterate, the new iterate, the gradient, the direction and the blow-up mask
(:data:`PATH_BUFFERS` ``[M, d]`` float64 tensors) and the noise draw of every worker, made by numpy and copied
into torch (:data:`DRAW_BUFFERS` ``[M, N, d]`` float64 arrays); the recorded f values add ``[record + 1, M]``. It is
a lower bound, so a refused run would not have fitted. ``TAILTAMER_SKIP_MEMORY_CHECK=1`` skips the check.
"""

from __future__ import annotations

import os

from ..errors import ResourceError
from ..rundir.footprint import GIB, SKIP_ENV, available_bytes

PATH_BUFFERS = 5
DRAW_BUFFERS = 3
ITEM = 8  # float64


def lab_bytes(paths: int, dim: int, workers: int, record: int) -> int:
    """Bytes one step of ``paths`` stacked paths of dimension ``dim`` with ``workers`` workers needs."""
    return ITEM * paths * (dim * (PATH_BUFFERS + DRAW_BUFFERS * workers) + record + 1)


def check_lab_memory(paths: int, dim: int, workers: int, record: int) -> int:
    """Raise :class:`ResourceError` (one line, with the estimate) when the lab cannot fit; return the bytes."""
    need = lab_bytes(paths, dim, workers, record)
    host = available_bytes()
    if not os.environ.get(SKIP_ENV) and host is not None and need > host:
        raise ResourceError(
            f"this SDE-lab run needs at least {need / GIB:,.1f} GiB of memory ({paths:,} paths of "
            f"dimension {dim:,} with {workers} worker(s)) but {host / GIB:,.1f} GiB is available; "
            f"reduce [sde] paths or replicates (set {SKIP_ENV}=1 to try anyway)"
        )
    return need
