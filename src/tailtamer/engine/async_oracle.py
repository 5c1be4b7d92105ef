"""The gradient oracle of one worker job: problem gradient + injected noise, keyed by (worker, job index)."""
from __future__ import annotations

import torch

from ..noise.base import NoiseModel
from ..problems.base import Problem
from ..rng import Randomness
from .oracle import check_finite


class JobOracle:
    """``grad(x)`` for worker ``worker``'s job ``job``: the k-th call draws call k.

    Every draw is the one the lockstep :class:`~tailtamer.engine.oracle.GradientOracle` makes for node
    ``worker`` at step ``job``: a pure function of (seed, worker, job index, call). A simulated and a real
    asynchronous run therefore draw the same numbers, and one worker with a fixed compute time reproduces
    the lockstep run of one node exactly.
    """

    def __init__(self, problem: Problem, noise: NoiseModel | None, seed: int, worker: int, job: int,
                 check: bool = True):
        self.problem, self.noise, self.seed, self.job, self.check = problem, noise, seed, job, check
        self.nodes = torch.tensor([worker], dtype=torch.int64)
        self.calls = 0

    @property
    def rng(self) -> Randomness:
        return Randomness(self.seed, self.nodes, self.job)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        g = self.problem.grad(x, self.nodes, self.seed, self.job, self.calls)
        if self.noise is not None:
            xi = self.noise.sample(self.seed, self.nodes, self.job, g[0].numel(), self.calls, dtype=g.dtype)
            g = g + xi.to(g.device).reshape(g.shape)
        self.calls += 1
        if self.check:
            check_finite(g, self.nodes, self.job, "gradient")
        return g
