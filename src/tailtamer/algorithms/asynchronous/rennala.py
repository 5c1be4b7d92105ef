"""Rennala SGD (Tyurin & Richtárik, "Optimal time complexities of parallel stochastic optimization methods
under a fixed computation model", NeurIPS 2023, Alg. 3 "Rennala SGD" with its ComputeBatch).

``variant = "discard"`` (the paper's method, the default): the workers never stop. Round k collects B
gradients computed at x_k from whoever finishes; each worker that delivers restarts at once on the current
model (a fast worker contributes several gradients per round). A gradient that arrives computed at an older
point (delay > 0) is discarded (counted as dropped) and its worker restarts on the current model; the jobs
still in flight when the step ``x ← x − γ·mean(ĝ)`` is made run on.

``variant = "cancel"`` (``vectozavr/ringmaster-lmo`` ``RennalaSGD``): at the step every job still in flight
is cancelled and every worker restarts on the new model. No computed gradient is wasted on arrival, and the
cancelled jobs' time goes to the new point, so it reaches B gradients sooner than the paper's method
(async.md §1); kept as a named variant to compare with the code's numbers.

Gradients pass through the scheme's heavy-tail operator (on arrival) before averaging.
"""

from __future__ import annotations

from typing import Any

from ...validation import check_choice, check_int
from ..base import ALGORITHMS, State
from .base import Arrival, Outcome, Server
from .sync import Collecting

VARIANTS = ("discard", "cancel")


@ALGORITHMS.register("rennala")
class Rennala(Collecting):
    """Rennala SGD: collect B gradients at x_k from whoever finishes, then one averaged step (paper: stale
    gradients discarded, workers never stopped; ``variant = "cancel"``: ringmaster-lmo's cancel-all)."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        B: int = 8,
        variant: str = "discard",
        operator: str | dict[str, Any] = "none",
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        self.B = check_int("B", B, 1, self.name)
        self.variant = check_choice("variant", variant, VARIANTS, self.name)
        self.restarts = "each" if self.variant == "discard" else "instant"  # the paper's loop; the code's rule
        super().__init__(steps, lr, operator, schedule, warmup)

    def waits_for(self, n: int) -> int:
        return self.B  # B may exceed n: a fast worker delivers several gradients at the same x_k

    def restart_while_collecting(self, a: Arrival) -> list[int]:
        return [a.worker]  # the worker that delivered computes another gradient at the same x_k

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        if self.variant == "cancel":
            return super().arrive(s, a, server)
        if a.delay > 0:  # computed at an older point: ComputeBatch ignores it, the worker restarts
            return Outcome(s, updated=False, dropped=True, restart=[a.worker])
        out = super().arrive(s, a, server)
        if out.updated:
            out.cancel, out.restart = (), [a.worker]
        return out
