"""Failure diagnosis for torch.distributed runs: errors that name the peer, and a roll call for collectives.

A point-to-point receive knows its sender, so a failed ``mix`` names that peer directly. A failed collective
(``all_reduce``, ``all_gather``) does not say who is missing; there every surviving rank answers a *roll call*
in the rendezvous store (``tailtamer/faults/failed/<rank>``) and waits a short grace period for the others.
Ranks that never answer are the ones that died or stalled. The store is hosted outside the workers by
``tailtamer launch`` (and by the torchrun agent under torchrun), so it outlives any worker.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from ..errors import TailtamerError

PREFIX = "tailtamer/faults"

#: Default timeout (seconds) of every collective and receive, when neither the caller nor the process group says.
DEFAULT_TIMEOUT = 300.0


class CommError(TailtamerError, RuntimeError):
    """A communication operation failed or timed out.

    Attributes:
        rank: the rank that raised it.
        peers: the ranks held responsible (dead, stalled or unreachable); may be empty when unknown.
        op: the operation (``"mix"``, ``"mean"``, ``"gather"``, ...) and its sequence number.
    """

    def __init__(self, message: str, rank: int, peers: list[int], op: str):
        self.rank, self.peers, self.op = rank, list(peers), op
        super().__init__(message)


def default_store() -> Any | None:
    """The store of the default process group, or None (a private torch API; diagnosis is best effort)."""
    try:
        from torch.distributed import distributed_c10d

        return distributed_c10d._get_default_store()
    except Exception:  # pragma: no cover - depends on torch internals  # noqa: BLE001
        return None


def mark_failed(store: Any | None, rank: int, op_index: int, timeout: float = 1.0) -> None:
    """Answer the roll call without waiting (a rank that already knows the peer at fault)."""
    if store is None:
        return
    try:
        store.set_timeout(timedelta(seconds=timeout))
        store.set(f"{PREFIX}/failed/{rank}", str(op_index))
    except Exception:  # noqa: BLE001 - best effort: the store may already be gone
        pass


def roll_call(store: Any | None, rank: int, world: int, op_index: int, grace: float) -> list[int] | None:
    """Report this rank's failure and return the ranks that did not report theirs within ``grace`` seconds.

    Returns None when the store itself cannot be reached (its host is gone).
    """
    if store is None or world <= 1:
        return None
    try:
        store.set_timeout(timedelta(seconds=max(grace, 0.1)))
        store.set(f"{PREFIX}/failed/{rank}", str(op_index))
        deadline = time.monotonic() + grace
        while True:
            missing = [r for r in range(world) if r != rank and not store.check([f"{PREFIX}/failed/{r}"])]
            if not missing or time.monotonic() >= deadline:
                return missing
            time.sleep(0.05)
    except Exception:  # noqa: BLE001 - best effort: the store may already be gone
        return None


def grace_for(timeout: float) -> float:
    """Roll-call grace period for a collective timeout (between 0.5 s and 2 s)."""
    return min(2.0, max(0.5, 0.25 * timeout))
