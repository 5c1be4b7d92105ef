"""Ringmaster ASGD and normalized-momentum Ringmaster (the likely form of Wu & Luo's method).

* ``ringmaster`` (Maranjyan, Tyurin, Richtárik, ICML 2025): ASGD with a delay cap R.
  ``variant = "discard"`` (Alg. 4): an arrival with δ ≥ R is dropped and its worker restarts on the
  current model. ``variant = "stop"`` (Alg. 5, ``vectozavr/ringmaster-lmo`` ``RingmasterASGD``): every
  arrival is applied, and whenever a worker's delay counter reaches R its in-flight job is cancelled and
  it restarts on the current model.
* ``nm-asgd`` (normalized-momentum asynchronous SGD with a delay cap; Wu & Luo, arXiv 2601.19379, in the
  form of ``Momentum_Normalized_RingmasterASGD``; the identity with Wu–Luo is a reconstruction, async.md
  §1): m ← α·ĝ + (1−α)·m; x ← x − γ_k·m/(‖m‖ + 1e−10), stop variant with cap R (``R = 0``: no cap).
  ``agnostic = true`` is the parameter-agnostic schedule of the code and draft Thm 1: at update k,
  γ_k = γ/(k+1)^{3/4}, α_k = 1/√k and R_k = ⌊√k⌋ (α_0 = R_0 = 1).

Both take the delay rule, heavy-tail operator and compensation of every scheme (:mod:`.pipeline`).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ...operators import ema
from ...validation import check_choice, check_int, check_range, check_step_size
from ..base import ALGORITHMS, State
from .base import Arrival, AsyncScheme, Outcome, Server, stale_workers
from .per_gradient import ASGD
from .pipeline import Pipeline

VARIANTS = ("discard", "stop")


@ALGORITHMS.register("ringmaster")
class Ringmaster(ASGD):
    """Ringmaster ASGD (Maranjyan, Tyurin, Richtárik 2025): ASGD with delay cap R, discard or stop variant."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        R: int = 8,
        variant: str = "discard",
        delay: str | dict[str, Any] = "constant",
        operator: str | dict[str, Any] = "none",
        compensation: str | dict[str, Any] = "none",
        order: str = "clip-first",
        momentum: float = 0.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
    ):
        super().__init__(steps, lr, delay, operator, compensation, order, momentum, schedule, warmup)
        self.R = check_int("R", R, 1, self.name)
        self.variant = check_choice("variant", variant, VARIANTS, self.name)

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        if self.variant == "discard" and a.delay >= self.R:
            return Outcome(s, updated=False, dropped=True)
        out = super().arrive(s, a, server)
        if self.variant == "stop" and out.updated:
            stale = stale_workers(server, self.R)
            out.cancel, out.restart = stale, [a.worker, *stale]
        return out


@ALGORITHMS.register("nm-asgd")
class NormalizedMomentumASGD(AsyncScheme):
    """Normalized-momentum asynchronous SGD with a delay cap (Wu & Luo form; parameter-agnostic option)."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        alpha: float = 0.1,
        R: int = 0,
        agnostic: bool = False,
        delay: str | dict[str, Any] = "constant",
        operator: str | dict[str, Any] = "none",
        compensation: str | dict[str, Any] = "none",
        order: str = "clip-first",
    ):
        owner = self.name
        self.lr = check_step_size("lr", lr, owner)
        self.alpha = check_range("alpha", alpha, 0.0, 1.0, lo_open=True, owner=owner)
        self.R = check_int("R", R, 0, owner)
        self.agnostic = bool(agnostic)
        self.delay, self.operator, self.compensation, self.order = delay, operator, compensation, order
        self._pipe = Pipeline(owner, delay, operator, compensation, order)

    def bind(self, n: int) -> None:
        super().bind(n)
        self._pipe.bind(n)

    def init(self, x0: torch.Tensor, comm) -> State:
        return {"x": x0.clone(), "m": torch.zeros_like(x0), **self._pipe.init(x0)}

    def settings(self, k: int) -> tuple[float, float, int]:
        """(γ_k, α_k, R_k) at server update k (0-based)."""
        if not self.agnostic:
            return self.lr, self.alpha, self.R
        kk = max(k, 1)
        return self.lr / (k + 1) ** 0.75, 1.0 / math.sqrt(kk), math.floor(math.sqrt(kk))

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        factor = self._pipe.factor(a.delay)
        if factor is None:
            return Outcome(s, updated=False, dropped=True)
        k = server.updates
        gamma, alpha, R = self.settings(k)
        d, out = self._pipe.direction(a.result, s, a.x_read, k)
        m = ema(s["m"], d, 1.0 - alpha)  # α·ĝ + (1−α)·m
        out["m"] = m
        out["x"] = s["x"] - gamma * factor * m / (torch.linalg.vector_norm(m) + 1e-10)
        result = Outcome(out, updated=True)
        if R > 0:
            stale = stale_workers(server, R)
            result.cancel, result.restart = stale, [a.worker, *stale]
        return result
