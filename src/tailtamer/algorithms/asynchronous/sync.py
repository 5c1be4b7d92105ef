"""Synchronous baselines on the asynchronous clock (async.md §1–2).

* ``sync-sgd`` — minibatch SGD: every worker computes one gradient at x_k, the server waits for all n
  and steps ``x ← x − γ·mean(ĝ)``; a round costs the slowest worker's time.
* ``m-sync`` — m-synchronous SGD (Begunov & Tyurin, arXiv 2602.03802): wait for the fastest m, cancel the
  rest, step with the mean of those m; a round costs the m-th order statistic of the times.

Workers that have sent wait idle until the round ends; then all restart on the new model (the rule for
simultaneous arrivals is the batch one, :mod:`tailtamer.algorithms.asynchronous.base`; with every job
cancelled or idle at the step, it changes nothing here).
"""

from __future__ import annotations

from typing import Any

import torch

from ...errors import ValidationError
from ...schedules import make_lr
from ...validation import check_int, check_step_size
from ..base import ALGORITHMS, State
from .base import Arrival, AsyncScheme, Outcome, Server
from .pipeline import Pipeline


class Collecting(AsyncScheme):
    """Collect gradients at the current model x_k, then one averaged step: ``x ← x − γ_k·mean(collected)``.

    Subclasses say how many arrivals a step waits for (:meth:`waits_for`) and which workers start again
    while it collects (:meth:`restart_while_collecting`); at the step every busy job is cancelled (it read an
    older model) and every worker starts on the new x. Ties take the batch rule (``restarts = "instant"``).
    """

    restarts = "instant"

    def __init__(
        self, steps: int, lr: float, operator: str | dict[str, Any], schedule: str | dict[str, Any], warmup: int
    ):
        self.lr, self.operator = check_step_size("lr", lr, self.name), operator
        self._lr = make_lr(lr, schedule, warmup, steps, self.name)
        self._pipe = Pipeline(self.name, "constant", operator, "none", "clip-first")
        self._wait = 0

    def waits_for(self, n: int) -> int:
        raise NotImplementedError

    def restart_while_collecting(self, a: Arrival) -> list[int]:
        raise NotImplementedError

    def bind(self, n: int) -> None:
        super().bind(n)
        self._pipe.bind(n)
        self._wait = self.waits_for(n)

    def init(self, x0: torch.Tensor, comm) -> State:
        return {
            "x": x0.clone(),
            "sum": torch.zeros_like(x0),
            "count": torch.zeros(1, dtype=torch.int64),
            **self._pipe.init(x0),
        }

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        k = server.updates
        d, out = self._pipe.direction(a.result, s, a.x_read, k)
        out["sum"] = s["sum"] + d
        out["count"] = s["count"] + 1
        if int(out["count"][0]) < self._wait:
            return Outcome(out, updated=False, restart=self.restart_while_collecting(a))
        out["x"] = s["x"] - self._lr(k) * out["sum"] / self._wait
        out["sum"] = torch.zeros_like(s["sum"])
        out["count"] = torch.zeros_like(s["count"])
        return Outcome(out, updated=True, cancel=server.busy(), restart=list(range(server.n)))


@ALGORITHMS.register("sync-sgd")
class SyncSGD(Collecting):
    """Synchronous minibatch SGD: wait for all n workers each round (``m`` = 0) or for the fastest m."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        m: int = 0,
        operator: str | dict[str, Any] = "none",
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        self.m = check_int("m", m, 0, self.name, note=" (0: all workers)")
        super().__init__(steps, lr, operator, schedule, warmup)

    def waits_for(self, n: int) -> int:
        return n if self.m == 0 else self.m

    def bind(self, n: int) -> None:
        super().bind(n)
        if self._wait > n:
            raise ValidationError(f"{self.name}: m = {self.m} exceeds the {n} workers")

    def restart_while_collecting(self, a: Arrival) -> list[int]:
        return []  # a worker that has delivered waits for the round to end


@ALGORITHMS.register("m-sync")
class MSync(SyncSGD):
    """m-synchronous SGD (Begunov & Tyurin 2026): wait for the fastest m of n (m = 0: ⌈n/2⌉)."""

    def waits_for(self, n: int) -> int:
        return (n + 1) // 2 if self.m == 0 else self.m
