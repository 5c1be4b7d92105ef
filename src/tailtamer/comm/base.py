"""The communication contract every algorithm is written against.

A ``Comm`` hosts ``n_local`` of the ``n`` nodes. Per-node tensors are stacked along their first axis in
the order of ``comm.nodes`` (global ids). Algorithms only ever call:

* ``mix(Z)``  — gossip: row i becomes ``Σ_r w_ir Z_r`` (the mixing matrix W of the topology);
* ``mean(Z)`` — the exact average over all n nodes, shape ``[1, ...]`` (it broadcasts against ``Z``);
* ``mix(Z, codec=c)``, ``mean(Z, codec=c)`` — the same over compressed messages (:mod:`.codec`): the packet
  is what travels and what ``stats`` counts;
* ``gather(Z)`` — all n rows in node order (for metrics and checkpoints, never inside an update).

and read ``n``, ``nodes`` and ``stats``. See docs/architecture.md and docs/distributed.md for the simulated and
torch.distributed backends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch

from .codec import Codec


@dataclass
class CommStats:
    """Messages and bytes sent by all nodes so far.

    Accounting: a gossip round sends one message per directed edge ``j ← i`` (``i ≠ j``, ``w_ji ≠ 0``)
    carrying the sender's row; an exact average counts one message per node carrying its row (the upload
    of a server or the share of an all-reduce). A message's bytes are those of the dense row, or of its
    packet when a :class:`~tailtamer.comm.codec.Codec` compresses it (indices, values, packed bits).
    Traffic while ``paused()`` (evaluation) is not counted.
    """

    messages: int = 0
    bytes: int = 0
    mixes: int = 0
    means: int = 0
    _paused: int = field(default=0, repr=False)
    #: called with ``(kind, messages, nbytes, dense)`` for every counted call (the simulated clock prices them)
    listeners: list[Callable[[str, int, int, int | None], None]] = field(
        default_factory=list, repr=False, compare=False
    )

    def add(self, messages: int, nbytes: int, kind: str, dense: int | None = None) -> None:
        """Count one call: ``messages`` messages of ``nbytes`` bytes in all, of ``kind`` ``"mix"`` or ``"mean"``;
        ``dense``: the bytes of one uncompressed row when a codec compressed the messages (None: they are dense)."""
        if self._paused:
            return
        for listen in self.listeners:
            listen(kind, messages, nbytes, dense)
        self.messages += messages
        self.bytes += nbytes
        if kind == "mix":
            self.mixes += 1
        else:
            self.means += 1

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        self._paused += 1
        try:
            yield
        finally:
            self._paused -= 1

    def as_dict(self) -> dict[str, int]:
        return {"messages": self.messages, "bytes": self.bytes, "mixes": self.mixes, "means": self.means}

    def load(self, d: dict[str, int]) -> None:
        self.messages, self.bytes = int(d["messages"]), int(d["bytes"])
        self.mixes, self.means = int(d["mixes"]), int(d["means"])


@runtime_checkable
class Comm(Protocol):
    """What an algorithm may use to communicate (see module docstring)."""

    n: int
    nodes: torch.Tensor
    stats: CommStats

    @property
    def n_local(self) -> int: ...

    def mix(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor: ...

    def mean(self, z: torch.Tensor, codec: Codec | None = None) -> torch.Tensor: ...

    def gather(self, z: torch.Tensor) -> torch.Tensor: ...
