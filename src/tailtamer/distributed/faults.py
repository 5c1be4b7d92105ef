"""Fault injection for tests and drills: ``TAILTAMER_FAULT="RANK:STEP:KIND"`` in a worker's environment.

``KIND`` is ``exit`` (the process dies at once, exit code 3, no report), ``stall`` (it sleeps forever while
holding its connections open) or ``raise`` (it raises an ordinary error). The fault fires after step ``STEP``
completes on rank ``RANK``. Only :func:`tailtamer.distributed.run.run_rank` reads it. In a real asynchronous
run (:mod:`tailtamer.distributed.asynchronous.run`) the server's step is a server update and a worker's is its
number of finished jobs.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..algorithms.base import State
from ..engine.callbacks import Callback

ENV = "TAILTAMER_FAULT"
KINDS = ("exit", "stall", "raise")


class FaultInjector(Callback):
    """Fires the configured fault on ``rank`` after ``step``."""

    def __init__(self, rank: int, step: int, kind: str):
        if kind not in KINDS:
            raise ValueError(f"{ENV}: kind must be one of {KINDS}, got {kind!r}")
        self.rank, self.step, self.kind = rank, step, kind

    def on_step(self, loop: Any, step: int, state: State) -> None:
        self.fire(loop.rank if hasattr(loop, "rank") else loop.comm.rank, step)

    def fire(self, rank: int, step: int) -> None:
        """Fire when ``rank`` is this injector's and ``step`` its step (the lockstep loop's step, the
        asynchronous server's update, or the number of jobs an asynchronous worker finished)."""
        if step != self.step or rank != self.rank:
            return
        if self.kind == "exit":
            os._exit(3)
        if self.kind == "stall":
            while True:
                time.sleep(60)
        raise RuntimeError(f"injected fault on rank {self.rank} after step {step}")


def from_env() -> FaultInjector | None:
    """The injector described by ``$TAILTAMER_FAULT``, or None."""
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return None
    rank, step, kind = spec.split(":")
    return FaultInjector(int(rank), int(step), kind)
