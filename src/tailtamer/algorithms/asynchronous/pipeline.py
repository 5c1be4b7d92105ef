"""What every scheme does to an arrival before its update: heavy-tail operator and delay compensation in a
chosen order, and the delay rule's step factor (async.md §1, "orthogonal knobs on both schemes").

``order = "clip-first"`` (the library default, async.md §1): ĝ = C(T(g)); ``"compensate-first"``: ĝ = T(C(g)),
with T the operator (a transform) and C the compensation ``g + λ·g⊙g⊙(x_now − x_read)``.
"""

from __future__ import annotations

from typing import Any

import torch

from ...validation import check_choice
from .compensation import make_compensation
from .delays import DELAY_RULES, DelayRule, make_delay_rule, spec
from .transforms import Applied, make_transform

ORDERS = ("clip-first", "compensate-first")
State = dict[str, torch.Tensor]


class Pipeline:
    """Operator ``operator`` and compensation ``compensation`` applied in ``order``; delay rule ``delay``.

    All three are validated at construction (before any compute); the delay rule, which needs the number
    of workers, is built by :meth:`init`.
    """

    def __init__(
        self,
        owner: str,
        delay: str | dict[str, Any],
        operator: str | dict[str, Any],
        compensation: str | dict[str, Any],
        order: str,
    ):
        self.owner = owner
        name, params = spec(delay)
        DELAY_RULES.validate(name, params, section=f"algorithm.delay ({owner})")
        self.delay_spec = delay
        self.op = Applied(make_transform(operator, owner), "op.")
        self.comp = make_compensation(compensation, owner)
        self.order = check_choice("order", order, ORDERS, owner)
        self.rule: DelayRule | None = None

    def bind(self, n: int) -> None:
        """Build the delay rule for n workers."""
        self.rule = make_delay_rule(self.delay_spec, n, self.owner)

    def init(self, like: torch.Tensor) -> State:
        return {**self.op.init(like), **{"dc." + b: v for b, v in self.comp.init(like).items()}}

    def factor(self, delay: int) -> float | None:
        """η(δ)/η, or None to drop."""
        assert self.rule is not None, "Pipeline.bind first"
        return self.rule(delay)

    def direction(self, g: torch.Tensor, s: State, x_read: torch.Tensor, t: int) -> tuple[torch.Tensor, State]:
        """ĝ and the updated operator/compensation buffers (merged into a copy of ``s``)."""
        out = dict(s)
        steps = (self._operator, self._compensate) if self.order == "clip-first" else (self._compensate, self._operator)
        for f in steps:
            g = f(g, out, x_read, t)
        return g, out

    def _operator(self, g, out, x_read, t):
        d, bufs = self.op(g, out, t, x=x_read)
        out.update(bufs)
        return d

    def _compensate(self, g, out, x_read, t):
        mine = {b: out["dc." + b] for b in self.comp.buffers}
        d, mine = self.comp(g, out["x"], x_read, mine)
        out.update({"dc." + b: v for b, v in mine.items()})
        return d
