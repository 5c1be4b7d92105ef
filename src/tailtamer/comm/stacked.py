"""R runs of one topology in one tensor: ``mix`` and ``mean`` act within each member, never across.

A stacked sweep (:mod:`tailtamer.engine.stacked.loop`) stacks R members of n nodes as ``[R·n, ...]`` rows (member
r owns rows ``r·n … r·n + n − 1``). :class:`StackedComm` wraps the member's :class:`SimulatedComm`:

* ``mix(Z)``: member r's rows become ``W Z_r``. The rows are laid out as ``[n, R·row]`` so the member's kernel
  (dense, sparse or wrapped diagonals) runs once over all members: no ``(R·n) × (R·n)`` matrix exists;
* ``mean(Z)``: each row gets the average of its own member's n rows (shape ``[R·n, ...]``, which broadcasts
  against ``Z`` as a standalone ``[1, ...]`` mean does);
* ``stats`` counts the traffic of ONE member (all members run the same communication), so each member's
  run folder reports what its standalone run reports.

``n`` is the member's node count and ``nodes`` the member's ids repeated R times (each row's node id within
its member); ``n_local = R·n`` is the number of rows.
"""

from __future__ import annotations

import torch

from .base import CommStats
from .codec import Codec
from .simulated import SimulatedComm, _through


class StackedComm:
    """``members`` copies of ``member``'s network side by side (see the module docstring)."""

    def __init__(self, member: SimulatedComm, members: int):
        if members < 1:
            raise ValueError(f"a stacked comm needs at least one member, got {members}")
        self.member, self.members = member, int(members)
        self.n = member.n
        self.nodes = member.nodes.repeat(self.members)
        self.stats = CommStats()

    @property
    def n_local(self) -> int:
        return self.members * self.n

    def _per_member(self, z: torch.Tensor) -> torch.Tensor:
        """``[R·n, ...]`` → ``[R, n, row]``."""
        return z.reshape(self.members, self.n, -1)

    def mix(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """``W Z_r`` for every member r, one kernel call over ``[n, R·row]``."""
        m = self.member
        if m._W is None:
            m.mix(z)  # raises the member's NoGraphError
        z, nbytes, dense = _through(z, codec)
        self.stats.add(m.edges, m.edges * nbytes, "mix", dense)
        zr = self._per_member(z)
        R, n, row = zr.shape
        side = zr.transpose(0, 1).reshape(n, R * row)
        out = m._kernel(z.dtype, z.device)(side)
        return out.reshape(n, R, row).transpose(0, 1).reshape(z.shape)

    def mean(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor:
        """Each row: the average of its member's n rows (``[R·n, ...]``)."""
        z, nbytes, dense = _through(z, codec)
        self.stats.add(self.n, self.n * nbytes, "mean", dense)
        zr = self._per_member(z)
        return zr.mean(1, keepdim=True).expand_as(zr).reshape(z.shape)

    def gather(self, z: torch.Tensor) -> torch.Tensor:
        return z
