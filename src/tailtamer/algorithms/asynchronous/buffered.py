"""Buffered asynchronous schemes: workers run local steps and send pseudo-gradients; the server steps
after K arrivals.

* ``fedbuff`` (Nguyen et al., AISTATS 2022): a worker runs Q local SGD steps from the model it read,
  ``z ← z − η_l·T_in(g)``, and sends ``Δ_i = x_read − z``. The server adds ``w(δ_i)·C(Δ_i)`` to its buffer
  (w the delay rule: staleness weight 1/√(1+δ) by default — ``poly`` with power ½, a reconstruction of the
  paper's s(δ); FedScale's 1/(1+δ) is power 1 — C the delay compensation) and, after K arrivals, steps
  ``x ← x − η_g·Δ̄/K`` (``normalize = "count"``) or ``x ← x − η_g·Σ wΔ/Σ w`` (``"weights"``, FedScale's
  ``async_aggregator.py``). Arrivals with δ > ``max_staleness`` (≥ 0) are dropped; at most
  ``concurrency`` workers (0: all) compute at once, idle ones starting in round-robin order.
* ``async-local`` (the asynchronous local-update scheme of Sun et al., arXiv 2602.18002, reconstructed
  in async.md §1: TailOPT's inner/outer pair on buffered stale pseudo-gradients): the same buffer, with a
  heavy-tail inner operator on every local gradient and an outer transform (Adam by default) on the
  buffered pseudo-gradient, ``x ← x − η_g·T_out(Δ̄)``.
"""

from __future__ import annotations

from typing import Any

import torch

from ...errors import ValidationError
from ...validation import check_choice, check_int, check_positive, check_step_size
from ..base import ALGORITHMS, Oracle, State
from .base import Arrival, AsyncScheme, Outcome, Server
from .pipeline import Pipeline
from .transforms import Applied, make_transform

NORMALIZE = ("count", "weights")


@ALGORITHMS.register("fedbuff")
class FedBuff(AsyncScheme):
    """FedBuff (Nguyen et al. 2022): Q local steps per job, server step after K buffered pseudo-gradients.

    Simultaneous arrivals take the batch rule (``restarts = "instant"``): with equal compute times every
    worker of a round restarts on the model after the round's step, so K = n is FedAvg."""

    restarts = "instant"

    def __init__(
        self,
        steps: int,
        lr: float = 1.0,
        local_lr: float = 0.01,
        local_steps: int = 5,
        K: int = 4,
        delay: str | dict[str, Any] = {"name": "poly", "power": 0.5},  # noqa: B006 (config default)
        normalize: str = "count",
        max_staleness: int = -1,
        concurrency: int = 0,
        inner: str | dict[str, Any] = "none",
        outer: str | dict[str, Any] = "none",
        compensation: str | dict[str, Any] = "none",
        order: str = "clip-first",
    ):
        owner = self.name
        self.lr = check_step_size("lr", lr, owner)
        self.local_lr = check_positive("local_lr", local_lr, owner)
        self.local_steps = check_int("local_steps", local_steps, 1, owner)
        self.K = check_int("K", K, 1, owner)
        self.normalize = check_choice("normalize", normalize, NORMALIZE, owner)
        self.max_staleness = check_int("max_staleness", max_staleness, -1, owner)
        self.concurrency = check_int("concurrency", concurrency, 0, owner)
        self.delay, self.inner, self.outer, self.compensation, self.order = delay, inner, outer, compensation, order
        self._inner = make_transform(inner, owner, "inner")
        self._outer = Applied(make_transform(outer, owner, "outer"), "outer.")
        self._pipe = Pipeline(owner, delay, "none", compensation, order)
        self._n = 0

    def bind(self, n: int) -> None:
        super().bind(n)
        self._pipe.bind(n)
        if self.concurrency > n:
            raise ValidationError(f"{self.name}: concurrency {self.concurrency} exceeds the {n} workers")

    def init(self, x0: torch.Tensor, comm) -> State:
        return {
            "x": x0.clone(),
            "sum": torch.zeros_like(x0),
            "weight": torch.zeros(1, dtype=x0.dtype),
            "count": torch.zeros(1, dtype=torch.int64),
            "next": torch.tensor([self.concurrency % comm.n], dtype=torch.int64),
            **self._pipe.init(x0),
            **self._outer.init(x0),
        }

    def initial_workers(self, n: int) -> list[int]:
        return list(range(self.concurrency or n))

    def compute(self, x_read: torch.Tensor, grad: Oracle) -> torch.Tensor:
        z = x_read
        state = self._inner.init(x_read)
        for q in range(self.local_steps):
            d, state = self._inner.update(grad(z), state, t=q, k=q + 1, x=z)
            z = z - self.local_lr * d
        return x_read - z

    def _capped(self) -> bool:
        return 0 < self.concurrency < self._n

    def _next_idle(self, s: State, out: State, server: Server) -> int | None:
        """The first idle worker in round-robin order from ``s["next"]`` (``out["next"]`` moves past it), or
        None when none is idle."""
        idle = set(server.idle())
        start = int(s["next"][0])
        for j in range(self._n):
            w = (start + j) % self._n
            if w in idle:
                out["next"] = torch.tensor([(w + 1) % self._n])
                return w
        return None

    def _restarts(self, s: State, out: State, a: Arrival, server: Server) -> list[int]:
        """The arriving worker, or with a concurrency cap the next idle worker in round-robin order."""
        if not self._capped():
            return [a.worker]
        w = self._next_idle(s, out, server)
        return [a.worker] if w is None else [w]

    def replace_lost(self, s: State, worker: int, server: Server) -> tuple[State, list[int]]:
        """With a concurrency cap, a lost busy worker's slot goes to the next idle worker in round-robin order
        (the one the next arrival would have started), so ``concurrency`` jobs stay in flight while enough
        workers live; without one, nothing (every worker has its own slot)."""
        if not self._capped():
            return s, []
        out = dict(s)
        w = self._next_idle(s, out, server)
        return (s, []) if w is None else (out, [w])

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        out = dict(s)
        restart = self._restarts(s, out, a, server)
        w = self._pipe.factor(a.delay)
        if w is None or (self.max_staleness >= 0 and a.delay > self.max_staleness):
            return Outcome(out, updated=False, dropped=True, restart=restart)
        k = server.updates
        d, out = self._pipe.direction(a.result, out, a.x_read, k)
        out["sum"] = s["sum"] + w * d
        out["weight"] = s["weight"] + w
        out["count"] = s["count"] + 1
        if int(out["count"][0]) < self.K:
            return Outcome(out, updated=False, restart=restart)
        denom = float(self.K) if self.normalize == "count" else out["weight"]
        direction, bufs = self._outer(out["sum"] / denom, out, k, x=s["x"])
        out.update(bufs)
        out["x"] = s["x"] - self.lr * direction
        out["sum"] = torch.zeros_like(s["sum"])
        out["weight"] = torch.zeros_like(s["weight"])
        out["count"] = torch.zeros_like(s["count"])
        return Outcome(out, updated=True, restart=restart)


@ALGORITHMS.register("async-local")
class AsyncLocal(FedBuff):
    """Asynchronous local update (Sun et al. 2026, reconstructed): clipped local steps, outer transform on
    buffered stale pseudo-gradients."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        local_lr: float = 0.01,
        local_steps: int = 5,
        K: int = 4,
        delay: str | dict[str, Any] = {"name": "poly", "power": 0.5},  # noqa: B006
        normalize: str = "count",
        max_staleness: int = -1,
        concurrency: int = 0,
        inner: str | dict[str, Any] = {"name": "l2clip", "gamma": 1.0},  # noqa: B006
        outer: str | dict[str, Any] = "adam",
        compensation: str | dict[str, Any] = "none",
        order: str = "clip-first",
    ):
        super().__init__(
            steps,
            lr,
            local_lr,
            local_steps,
            K,
            delay,
            normalize,
            max_staleness,
            concurrency,
            inner,
            outer,
            compensation,
            order,
        )
