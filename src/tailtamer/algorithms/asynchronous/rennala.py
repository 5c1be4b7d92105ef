"""Rennala SGD (Tyurin & Richtárik, NeurIPS 2023; ``vectozavr/ringmaster-lmo`` ``RennalaSGD``).

Each round every worker computes at the round's model x_k; whoever finishes sends its gradient and
restarts at the same x_k (fast workers contribute several) until the server holds B gradients; then
``x ← x − γ·mean(ĝ)``, the jobs still in flight are cancelled and every worker restarts on the new model.
Gradients pass through the scheme's heavy-tail operator (on arrival) before averaging.
"""
from __future__ import annotations

from typing import Any

import torch

from ...schedules import make_lr
from ...validation import check_step_size, check_positive
from ...errors import ValidationError
from ..base import ALGORITHMS, State
from .base import Arrival, AsyncScheme, Outcome, Server
from .pipeline import Pipeline


@ALGORITHMS.register("rennala")
class Rennala(AsyncScheme):
    """Rennala SGD: collect B gradients at x_k from whoever finishes, then one averaged step."""

    def __init__(self, steps: int, lr: float = 0.01, B: int = 8, operator: str | dict[str, Any] = "none",
                 schedule: str | dict[str, Any] = "constant", warmup: int = 0):
        if isinstance(B, bool) or not isinstance(B, int) or B < 1:
            raise ValidationError(f"rennala: B must be an integer ≥ 1, got {B!r}")
        self.lr, self.B, self.operator = check_step_size("lr", lr, self.name), B, operator
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)
        self._pipe = Pipeline(self.name, "constant", operator, "none", "clip-first")

    def bind(self, n: int) -> None:
        super().bind(n)
        self._pipe.bind(n)

    def init(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "sum": torch.zeros_like(x0), "count": torch.zeros(1, dtype=torch.int64),
                **self._pipe.init(x0)}

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        k = server.updates
        d, out = self._pipe.direction(a.result, s, a.x_read, k)
        out["sum"] = s["sum"] + d
        out["count"] = s["count"] + 1
        if int(out["count"][0]) < self.B:
            return Outcome(out, updated=False)
        out["x"] = s["x"] - self._lr(k) * out["sum"] / self.B
        out["sum"] = torch.zeros_like(s["sum"])
        out["count"] = torch.zeros_like(s["count"])
        busy = server.busy()
        return Outcome(out, updated=True, cancel=busy, restart=[a.worker, *busy])
