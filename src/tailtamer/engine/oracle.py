"""The gradient oracle handed to an algorithm: problem gradient + injected noise, checked for NaN/Inf."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import NonFiniteError, ValidationError
from ..noise.base import NoiseModel
from ..problems.base import Problem
from ..problems.synthetic import SyntheticProblem
from ..rng import Randomness, RowSeeds
from .noise_ahead import NoiseAhead, row_keyed, sample_checked


def first_bad_row(z: torch.Tensor) -> int | None:
    """Index of the first row of ``z`` holding NaN or Inf, or None when all is finite.

    Fast path: a finite sum proves every entry finite (NaN and ±Inf propagate through a sum); only when the
    sum is not finite (a bad entry, or an overflow of large finite ones) are the rows checked one by one.
    """
    if bool(torch.isfinite(z.sum())):
        return None
    ok = torch.isfinite(z.reshape(z.shape[0], -1)).all(dim=1)
    if bool(ok.all()):
        return None
    return int((~ok).nonzero()[0, 0])


def check_finite(z: torch.Tensor, nodes: torch.Tensor, step: int, what: str) -> None:
    """Raise :class:`NonFiniteError` naming the step and the global node id of the first bad row."""
    row = first_bad_row(z)
    if row is not None:
        raise NonFiniteError(step, int(nodes[row]), what)


class GradientOracle:
    """``grad(x)`` for the current step: ``problem.grad + noise``; the k-th call of a step draws call k.

    Implements :class:`tailtamer.algorithms.base.Oracle`. Every draw is a function of ``(seed, node, step,
    call)``, so repeated calls within one step (local steps) get fresh noise and a resumed or distributed run
    sees the same numbers; ``rng`` hands the step's randomness to algorithms that draw.
    """

    def __init__(
        self,
        problem: Problem,
        noise: NoiseModel | None,
        nodes: torch.Tensor,
        seed: int,
        check: bool = True,
        ahead: bool = False,
    ):
        self.problem, self.noise, self.nodes, self.seed, self.check = problem, noise, nodes, seed, check
        self.step, self.calls = 0, 0
        self._rng: Randomness | None = None
        #: ``ahead``: small noise draws are made for several steps at once (a lockstep run, whose steps follow
        #: one another; the same bits, :mod:`.noise_ahead`; only for a model that declares it), else one step at
        #: a time
        self._ahead = None
        if ahead and row_keyed(noise) and len(nodes):
            ids = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
            self._ahead = NoiseAhead(noise, seed, ids, RowSeeds([seed], int(ids.max()) + 1))

    def begin(self, step: int) -> None:
        """Start step ``step`` (resets the call counter)."""
        self.step, self.calls = step, 0
        self._rng = None

    @property
    def layout(self) -> Any:
        """The problem's parameter layout (None for a flat problem)."""
        return self.problem.layout

    def exact_grad(self, x: torch.Tensor) -> torch.Tensor:
        """The noiseless local gradients of this oracle's nodes (closed-form problems only)."""
        if not isinstance(self.problem, SyntheticProblem):
            raise ValidationError(
                "the oracle step rule needs a problem with exact local gradients "
                "(a synthetic problem: quartic, quadratic, ...)"
            )
        return self.problem.local_grad(x, self.nodes)

    @property
    def rng(self) -> Randomness:
        """The randomness handle of the current step (see :class:`tailtamer.rng.Randomness`)."""
        if self._rng is None:
            self._rng = Randomness(self.seed, self.nodes, self.step)
        return self._rng

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        g = self.problem.grad(x, self.nodes, self.seed, self.step, self.calls)
        if self.noise is not None:
            d = g[0].numel()
            xi = (
                self._ahead.draw(self.step, self.calls, d, g.dtype)
                if self._ahead is not None
                else sample_checked(self.noise, self.seed, self.nodes, self.step, d, self.calls, g.dtype)
            )
            g = g + xi.to(g.device).reshape(g.shape)
        self.calls += 1
        if self.check:
            check_finite(g, self.nodes, self.step, "gradient")
        return g
