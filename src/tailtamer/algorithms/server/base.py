"""Shared parts of the server methods: N workers, one server, the model replicated on every row."""
from __future__ import annotations

from typing import Any, ClassVar

import torch

from ...compression import Compressor
from ...compression.sparse import Identity
from ..base import Algorithm, Oracle
from .step_rules import StepRule, exact_gradient_norm


class ServerMethod(Algorithm):
    """Base of the ``compressed`` family: ``requires = "none"`` (topology ``server``), a step rule.

    The iterate ``x`` is ``[n_local, d]`` with every row equal to the server model; each step every row
    moves by the same server update, so the rows stay equal. The constructor is every method's schema (the
    step rule's keys; ``compressor`` is supplied by the engine from ``[compression]`` when ``compresses``).
    """

    family: ClassVar[str] = "compressed"
    requires: ClassVar[str] = "none"
    compresses: ClassVar[bool] = True

    def __init__(self, steps: int, lr: float = 0.01, schedule: str | dict[str, Any] = "constant", warmup: int = 0,
                 rule: str = "schedule", L0: float = 0.0, L1: float = 0.0, a: float = 1.0, b: float = 0.0,
                 alpha: float = 1.0, compressor: Compressor | None = None):
        self.lr, self.schedule, self.warmup, self.rule = lr, schedule, warmup, rule
        self.L0, self.L1, self.a, self.b, self.alpha = L0, L1, a, b, alpha
        self._step = StepRule(self.name, steps, lr, schedule, warmup, rule, L0, L1, a, b, alpha)
        self._compressor: Compressor = compressor if compressor is not None else Identity()

    @property
    def compressor(self) -> Compressor:
        return self._compressor

    def step_size(self, t: int, x: torch.Tensor, ghat: torch.Tensor | None, grad: Oracle, comm) -> float:
        """η_t by the rule: the oracle reads ‖∇f(x)‖, the practical rule ‖ĝ‖ (the aggregated direction)."""
        if self._step.needs_exact_gradient:
            return self._step(t, exact_gradient_norm(grad, x, comm))
        if self._step.rule == "practical":
            return self._step(t, ghat.norm())
        return self._step(t)


def roundtrip(codec: Any, z: torch.Tensor) -> torch.Tensor:
    """What the receivers decode from ``z`` (the sender keeps the same rows, e.g. for error feedback)."""
    return codec.decode(codec.encode(z), z)
