"""Rennala SGD (Tyurin & Richtárik, NeurIPS 2023; ``vectozavr/ringmaster-lmo`` ``RennalaSGD``).

Each round every worker computes at the round's model x_k; whoever finishes sends its gradient and
restarts at the same x_k (fast workers contribute several) until the server holds B gradients; then
``x ← x − γ·mean(ĝ)``, the jobs still in flight are cancelled and every worker restarts on the new model.
Gradients pass through the scheme's heavy-tail operator (on arrival) before averaging.
"""
from __future__ import annotations

from typing import Any

from ...validation import check_int
from ..base import ALGORITHMS
from .base import Arrival
from .sync import Collecting


@ALGORITHMS.register("rennala")
class Rennala(Collecting):
    """Rennala SGD: collect B gradients at x_k from whoever finishes, then one averaged step."""

    def __init__(self, steps: int, lr: float = 0.01, B: int = 8, operator: str | dict[str, Any] = "none",
                 schedule: str | dict[str, Any] = "constant", warmup: int = 0):
        self.B = check_int("B", B, 1, self.name)
        super().__init__(steps, lr, operator, schedule, warmup)

    def waits_for(self, n: int) -> int:
        return self.B             # B may exceed n: a fast worker delivers several gradients at the same x_k

    def restart_while_collecting(self, a: Arrival) -> list[int]:
        return [a.worker]         # the worker that delivered computes another gradient at the same x_k
