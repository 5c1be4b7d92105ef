"""A callback that stops a run as Ctrl-C would, for tests of checkpoints and ``--resume``."""

from __future__ import annotations

from typing import Any

from ..engine.callbacks import Callback


class StopAt(Callback):
    """Raises ``KeyboardInterrupt`` after step ``at`` (what Ctrl-C does to a run at that point)."""

    def __init__(self, at: int):
        self.at = at

    def on_step(self, loop: Any, step: int, state: Any) -> None:
        if step == self.at:
            raise KeyboardInterrupt
