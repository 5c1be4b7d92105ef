"""Per-gradient asynchronous SGD: every arrival is one stochastic gradient applied on arrival.

    ĝ = pipeline(g)   (heavy-tail operator and delay compensation, in the chosen order)
    x ← x − γ_k·η(δ)/η·ĝ                         (or, with momentum μ > 0: v ← μv − γ_k·η(δ)/η·ĝ; x ← x + v)

with γ_k the ``lr`` schedule over server updates and η(δ) the delay rule (a drop leaves x unchanged and the
worker restarts on the current model). The registered names are this scheme with different defaults:

* ``asgd`` — vanilla asynchronous SGD (``vectozavr/ringmaster-lmo`` ``AsynchronousSGD``);
* ``delay-adaptive-asgd`` — γ·min(1, n/δ) (Mishchenko, Bach, Even, Woodworth, NeurIPS 2022);
* ``clipped-asgd`` — x ← x − γ·clip_λ(g) (Erickson & Johansson, arXiv 2606.13287; the clip form and its
  place at the server are a reconstruction, async.md §1);
* ``dc-asgd`` — DC-ASGD (Zheng et al., ICML 2017) with constant λ (``compensation = "dc"``) or adaptive λ
  (``{name = "dc-adaptive"}``), optional momentum as in MXNet's ``DCASGD``.
"""

from __future__ import annotations

from typing import Any

import torch

from ...registry import Composite
from ...schedules import make_lr
from ...validation import check_range
from ..base import ALGORITHMS, State
from .base import Arrival, AsyncScheme, Outcome, Server
from .pipeline import Pipeline


@ALGORITHMS.register("asgd")
class ASGD(AsyncScheme):
    """Asynchronous SGD: apply every arrival's (transformed, compensated) gradient with a delay-rule step."""

    def __init__(
        self,
        steps: int,
        lr: float = 0.01,
        delay: str | dict[str, Any] = "constant",
        operator: str | dict[str, Any] = "none",
        compensation: str | dict[str, Any] = "none",
        order: str = "clip-first",
        momentum: float = 0.0,
        schedule: str | dict[str, Any] = "constant",
        warmup: int = 0,
        name: str | None = None,
    ):
        if name is not None:
            self.name = name  # type: ignore[misc]  # one class, several registered names: the presets below
        owner = self.name
        self.lr, self.delay, self.operator, self.compensation, self.order = lr, delay, operator, compensation, order
        self.momentum = check_range("momentum", momentum, 0.0, 1.0, hi_open=True, owner=owner)
        self._lr = make_lr(lr, schedule, warmup, steps, owner)
        self._pipe = Pipeline(owner, delay, operator, compensation, order)

    def bind(self, n: int) -> None:
        super().bind(n)
        self._pipe.bind(n)

    def init(self, x0: torch.Tensor, comm) -> State:
        s = {"x": x0.clone(), **self._pipe.init(x0)}
        if self.momentum > 0:
            s["v"] = torch.zeros_like(x0)
        return s

    def apply(self, s: State, a: Arrival, server: Server, factor: float) -> State:
        """The update with delay factor ``factor`` (> 0) at server update k = ``server.updates``."""
        k = server.updates
        d, out = self._pipe.direction(a.result, s, a.x_read, k)
        step = self._lr(k) * factor
        if self.momentum > 0:
            out["v"] = self.momentum * s["v"] - step * d
            out["x"] = s["x"] + out["v"]
        else:
            out["x"] = s["x"] - step * d
        return out

    def arrive(self, s: State, a: Arrival, server: Server) -> Outcome:
        factor = self._pipe.factor(a.delay)
        if factor is None:
            return Outcome(s, updated=False, dropped=True)
        return Outcome(self.apply(s, a, server, factor), updated=True)


#: The presets: ``asgd`` with other defaults (registry composites without parts, so each schema is ASGD's).
ALGORITHMS.register(
    "delay-adaptive-asgd", "ASGD with Mishchenko et al.'s delay-adaptive step γ·min(1, n/δ) (NeurIPS 2022)"
)(Composite(ASGD, {}, {"delay": "mishchenko"}))  # type: ignore[arg-type]  # the registry builds a Composite from its parts
ALGORITHMS.register(
    "clipped-asgd", "ASGD on clipped gradients, x ← x − γ·min(1, λ/‖g‖)·g (Erickson & Johansson, arXiv 2606.13287)"
)(Composite(ASGD, {}, {"operator": {"name": "l2clip", "gamma": 1.0}}))  # type: ignore[arg-type]  # the registry builds a Composite from its parts
ALGORITHMS.register("dc-asgd", "DC-ASGD (Zheng et al. 2017): ĝ = g + λ·g⊙g⊙(x_now − x_read), constant or adaptive λ")(
    Composite(ASGD, {}, {"compensation": {"name": "dc", "lam": 0.04}})  # type: ignore[arg-type]  # a Composite entry
)
