"""Delay compensation on arrival (DC-ASGD, Zheng et al., ICML 2017, arXiv 1609.08326).

``ĝ = g + λ·g⊙g⊙(x_now − x_read)``, where x_read is the model the worker read (the server keeps a backup
per worker; async.md §1). Registered in :data:`COMPENSATIONS` (config ``compensation = "dc"`` or
``{name = "dc-adaptive", lam0 = 2.0}``):

* ``none`` — ĝ = g;
* ``dc`` — constant λ (DC-ASGD-c; MXNet's ``DCASGD`` default λ = 0.04);
* ``dc-adaptive`` — λ_t = λ0/√(MS_t + ε) element-wise, MS_t = m·MS_{t−1} + (1−m)·g⊙g (DC-ASGD-a; defaults
  m = 0.95, λ0 = 2, ε = 1e−7; the formula is a reconstruction, async.md §1).
"""

from __future__ import annotations

import torch

from ...operators import ema
from ...registry import Registry
from ...validation import check_nonneg, check_positive, check_range

Buffers = dict[str, torch.Tensor]


class Compensation:
    """Base: no buffers, ĝ = g."""

    buffers: tuple[str, ...] = ()

    def init(self, like: torch.Tensor) -> Buffers:
        return {b: torch.zeros_like(like) for b in self.buffers}

    def __call__(
        self, g: torch.Tensor, x_now: torch.Tensor, x_read: torch.Tensor, state: Buffers
    ) -> tuple[torch.Tensor, Buffers]:
        return g, state


#: Registry of delay compensations.
COMPENSATIONS: Registry[Compensation] = Registry("compensation")


@COMPENSATIONS.register("none")
class NoCompensation(Compensation):
    """ĝ = g."""


@COMPENSATIONS.register("dc")
class DCConstant(Compensation):
    """DC-ASGD-c: ĝ = g + λ·g⊙g⊙(x_now − x_read)."""

    def __init__(self, lam: float = 0.04):
        self.lam = check_nonneg("lam", lam, "compensation dc")

    def __call__(self, g, x_now, x_read, state):
        return g + self.lam * g * g * (x_now - x_read), state


@COMPENSATIONS.register("dc-adaptive")
class DCAdaptive(Compensation):
    """DC-ASGD-a: λ_t = λ0/√(MS_t + ε), MS_t = m·MS_{t−1} + (1−m)·g⊙g; ĝ = g + λ_t⊙g⊙g⊙(x_now − x_read)."""

    buffers = ("ms",)

    def __init__(self, lam0: float = 2.0, m: float = 0.95, eps: float = 1e-7):
        self.lam0 = check_nonneg("lam0", lam0, "compensation dc-adaptive")
        self.m = check_range("m", m, 0.0, 1.0, hi_open=True, owner="compensation dc-adaptive")
        self.eps = check_positive("eps", eps, "compensation dc-adaptive")

    def __call__(self, g, x_now, x_read, state):
        gg = g * g
        ms = ema(state["ms"], gg, self.m)
        lam = self.lam0 / torch.sqrt(ms + self.eps)
        return g + lam * gg * (x_now - x_read), {"ms": ms}


def make_compensation(value: str | dict, owner: str) -> Compensation:
    params = {} if isinstance(value, str) else dict(value)
    name = value if isinstance(value, str) else str(params.pop("name", ""))
    return COMPENSATIONS.build(name, params, section=f"algorithm.compensation ({owner})")
