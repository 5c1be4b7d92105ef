"""Step rules of the compressed/sign server methods (docs/compression.md §4, "Adaptive step that restores
D(C)SGD" and "Library schedules").

``η̄_k = lr · factor(k)`` is any registered schedule (``constant``, ``poly``, ``robbins-monro``, ...); ``rule``
then sets the step:

* ``"schedule"``: η_k = η̄_k (pre-scheduled);
* ``"oracle"``: η_k = η̄_k / (L0 + L1‖∇f(x_k)‖), with the exact full gradient (a benchmark rule: the oracle
  reads the problem's noiseless gradient; that read is not communication and is not counted);
* ``"practical"``: η_k = η̄_k / (a + b‖ĝ_k‖)^α, ĝ_k the server's aggregated direction, α ∈ [0, 1] the
  "degree of normalization" (b ∝ L1(1 + ω/N) per the derivation).

``robbins-monro`` (registered here in the shared schedule registry): factor(k) = (k + 1)^(−power) with
power ∈ (1/2, 1], so Σ η = ∞ and Σ η² < ∞ (the DSignSGD condition).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ...errors import ValidationError
from ...schedules import SCHEDULES, make_lr
from ...validation import check_choice, check_nonneg, check_positive, check_range

RULES = ("schedule", "oracle", "practical")


@dataclass(frozen=True)
class RobbinsMonro:
    """factor(t) = (t + 1)^(−power)."""

    power: float

    def __call__(self, t: int) -> float:
        return (t + 1.0) ** (-self.power)


@SCHEDULES.register("robbins-monro")
def robbins_monro(steps: int, power: float = 1.0) -> Callable[[int], float]:
    """Robbins–Monro decay, factor(t) = (t + 1)^(−power), power ∈ (1/2, 1] (Σ η = ∞, Σ η² < ∞)."""
    check_range("power", power, 0.5, 1.0, lo_open=True, owner="schedule robbins-monro")
    return RobbinsMonro(power)


class StepRule:
    """η_k from the base schedule and the rule (see the module docstring)."""

    def __init__(
        self,
        owner: str,
        steps: int,
        lr: float,
        schedule: str | dict[str, Any],
        warmup: int,
        rule: str,
        L0: float,
        L1: float,
        a: float,
        b: float,
        alpha: float,
    ):
        self.rule = check_choice("rule", rule, RULES, owner)
        self._base = make_lr(lr, schedule, warmup, steps, owner)
        self.L0, self.L1 = check_nonneg("L0", L0, owner), check_nonneg("L1", L1, owner)
        self.a, self.b = check_nonneg("a", a, owner), check_nonneg("b", b, owner)
        self.alpha = check_range("alpha", alpha, 0.0, 1.0, owner=owner)
        if rule == "oracle" and L0 + L1 <= 0:
            raise ValidationError(f"{owner}: the oracle rule needs L0 + L1 > 0")
        if rule == "practical" and a <= 0 and alpha > 0:
            check_positive("a", a, owner)

    @property
    def needs_exact_gradient(self) -> bool:
        return self.rule == "oracle"

    def __call__(self, t: int, norm: float | None = None) -> float:
        """η_t; ``norm`` is ‖∇f(x_t)‖ (oracle) or ‖ĝ_t‖ (practical), unused by the plain schedule."""
        base = self._base(t)
        if self.rule == "schedule":
            return base
        assert norm is not None, f"the {self.rule} rule needs the gradient norm"
        if self.rule == "oracle":
            return base / (self.L0 + self.L1 * float(norm))
        return base / (self.a + self.b * float(norm)) ** self.alpha  # practical

    def per_path(self, t: int, norm: torch.Tensor) -> torch.Tensor:
        """η_t for a stack of independent paths (``norm``: ``[M]`` norms; the SDE lab)."""
        base = self._base(t)
        if self.rule == "oracle":
            return base / (self.L0 + self.L1 * norm)
        if self.rule == "practical":
            return base / (self.a + self.b * norm) ** self.alpha
        return torch.full_like(norm, base)


def exact_gradient_norm(grad: Any, x: torch.Tensor, comm: Any) -> float:
    """‖∇f(x)‖ = ‖mean_i ∇f_i(x)‖ from the problem's noiseless local gradients (traffic not counted)."""
    with comm.stats.paused():
        g = comm.mean(grad.exact_grad(x))
    return float(g.norm())
