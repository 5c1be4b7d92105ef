"""The server's copy of a model that every row of a run holds: one row per run, and back to all the rows.

A local-update round (:mod:`tailtamer.algorithms.local_update`) keeps the server model ``x_t`` replicated on
every row of ``state["x"]`` and updates it once per round on one row. Which row that is depends only on how
many runs share the rows: one run (the simulator, a torch.distributed process) reads its first row; a stacked
run of R members (:class:`~tailtamer.comm.stacked.StackedComm`, stacked sweeps) reads the first row of each
member's block of n, so its server tensors are ``[R, ...]`` and member r's is row r. Both are the same
expression over ``[runs, rows per run, ...]``, so a method written with these two functions runs unchanged,
bit for bit, alone or stacked.

Example:
    >>> import torch
    >>> from tailtamer.comm import SimulatedComm
    >>> from tailtamer.comm.stacked import StackedComm
    >>> x = torch.arange(6.0).reshape(6, 1)
    >>> one, two = SimulatedComm(None, n=6), StackedComm(SimulatedComm(None, n=3), 2)
    >>> server_rows(one, x).tolist(), server_rows(two, x).tolist()
    ([[0.0]], [[0.0], [3.0]])
    >>> replicate(two, torch.tensor([[1.0], [2.0]]), x).flatten().tolist()
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]
"""

from __future__ import annotations

from typing import Any

import torch


def runs(comm: Any) -> int:
    """How many runs share ``comm``'s rows: R for a :class:`~tailtamer.comm.stacked.StackedComm`, else 1."""
    return int(getattr(comm, "members", 1))


def server_rows(comm: Any, z: torch.Tensor) -> torch.Tensor:
    """The first row of each run's block of ``z``, ``[runs, ...]`` (``z[:1]`` for one run)."""
    return z.reshape(runs(comm), -1, *z.shape[1:])[:, 0]


def replicate(comm: Any, s: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``s`` (one row per run, as :func:`server_rows` gives) on every row of its run: a new contiguous tensor of
    ``like``'s shape (``s.expand_as(like).clone()`` for one run)."""
    r = runs(comm)
    return s.reshape(r, 1, *s.shape[1:]).expand(r, like.shape[0] // r, *s.shape[1:]).reshape(like.shape).clone()
