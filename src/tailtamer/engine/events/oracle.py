"""The gradient oracle of one worker job: the lockstep oracle of node ``worker`` at step ``job``."""

from __future__ import annotations

import torch

from ...noise.base import NoiseModel
from ...problems.base import Problem
from ..oracle import GradientOracle


def job_oracle(
    problem: Problem, noise: NoiseModel | None, seed: int, worker: int, job: int, check: bool = True
) -> GradientOracle:
    """``grad(x)`` for worker ``worker``'s job ``job``: the k-th call draws call k.

    It is the lockstep :class:`~tailtamer.engine.oracle.GradientOracle` of node ``worker`` begun at step ``job``,
    so every draw is a pure function of (seed, worker, job index, call): a simulated and a real asynchronous
    run draw the same numbers, and one worker with a fixed compute time reproduces the lockstep run of one
    node exactly.
    """
    oracle = GradientOracle(problem, noise, torch.tensor([worker], dtype=torch.int64), seed, check=check)
    oracle.begin(job)
    return oracle
