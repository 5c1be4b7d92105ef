"""Delay rules: the step-size factor η(δ)/η a scheme applies to an arrival with delay δ, or a drop.

Registered in :data:`DELAY_RULES` (config: ``delay = "mishchenko"`` or ``delay = {name = "threshold", R = 8}``):

* ``constant`` — factor 1 (plain ASGD);
* ``mishchenko`` — ``min(1, n/δ)`` with n the number of workers (Mishchenko, Bach, Even, Woodworth 2022,
  ``konstmish/asynchronous_sgd``: γ_k = γ·n/max(n, δ_k));
* ``threshold`` — factor 1 if δ < R, else the arrival is dropped (η = 0 if τ > C;
  Ringmaster's discard rule, Maranjyan, Tyurin, Richtárik 2025, Alg. 4);
* ``poly`` — ``1/(1+δ)^power`` (docs/async.md; FedBuff's staleness weight 1/√(1+δ) at power ½ and
  FedScale's 1/(1+δ) at power 1);
* ``inverse`` — ``min(1, c/δ)``, a step ``min(η, c/τ)`` with c = ``c``·η.

The rules and their sources are tabulated in docs/async.md.

A rule returns ``None`` to drop the arrival.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...registry import Registry
from ...validation import check_nonneg, check_positive
from ..base import Algorithm  # noqa: F401  (import order: algorithms.base before registries here)

DelayRule = Callable[[int], float | None]

#: Registry of delay rules; factories receive ``n`` (number of workers) from the engine.
DELAY_RULES: Registry[DelayRule] = Registry("delay rule", context=("n",))


@DELAY_RULES.register("constant")
def constant(n: int) -> DelayRule:
    """η(δ) = η."""
    return lambda delay: 1.0


@DELAY_RULES.register("mishchenko")
def mishchenko(n: int) -> DelayRule:
    """η(δ) = η·min(1, n/δ) (Mishchenko et al. 2022)."""
    return lambda delay: 1.0 if delay <= n else n / delay


@DELAY_RULES.register("threshold")
def threshold(n: int, R: int = 8) -> DelayRule:
    """η(δ) = η if δ < R, else drop the arrival (Ringmaster's discard rule)."""
    check_positive("R", R, "delay rule threshold")
    return lambda delay: 1.0 if delay < R else None


@DELAY_RULES.register("poly")
def poly(n: int, power: float = 0.5) -> DelayRule:
    """η(δ) = η/(1+δ)^power."""
    check_nonneg("power", power, "delay rule poly")
    return lambda delay: (1.0 + delay) ** (-power)


@DELAY_RULES.register("inverse")
def inverse(n: int, c: float = 1.0) -> DelayRule:
    """η(δ) = η·min(1, c/δ)."""
    check_positive("c", c, "delay rule inverse")
    return lambda delay: 1.0 if delay <= c else c / delay


def spec(value: str | dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``"name"`` or ``{name = ..., key = value}`` → ``(name, params)``."""
    if isinstance(value, str):
        return value, {}
    params = dict(value)
    return str(params.pop("name", "")), params


def make_delay_rule(value: str | dict[str, Any], n: int, owner: str) -> DelayRule:
    name, params = spec(value)
    return DELAY_RULES.build(name, params, section=f"algorithm.delay ({owner})", n=n)
