"""Noise drawn for several steps at once (engine/noise_ahead.py) is the noise of one draw per step, bit for bit:
for every registered noise model and both dtypes, for a stacked run's rows and a standalone run's (all nodes,
or a distributed rank's subset), through both oracles, across two calls a step, more steps than one draw
covers, and a jump back."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailtamer import rng
from tailtamer.engine import noise_ahead as na
from tailtamer.engine.oracle import GradientOracle
from tailtamer.engine.stacked.oracle import StackedOracle, StackedSeeds
from tailtamer.noise import NOISES, build_noise

MODELS = ["alpha-stable", "cauchy", "gaussian", "pareto", "student-t"]


def test_every_registered_noise_model_is_covered():
    assert set(NOISES.names()) - {"none"} == set(MODELS)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_multi_step_draw_is_each_steps_draw_bit_for_bit(name, dtype):
    """StepRows: one draw over K steps' rows equals K draws of one step each (a rejection sampler's redraws
    decode subsets of the rows); each step's rows are every member's standalone draw. An off-by-one in the
    step or the member of a row fails here."""
    noise, seeds, n, d, K, step = build_noise(name), [5, 9, 2**40 + 3], 4, 3, 5, 17
    stacked = StackedSeeds(seeds, n)
    N = len(seeds) * n
    ahead = noise.sample(na.StepRows(stacked, K), torch.arange(K * N), step, d, call=1, dtype=dtype)
    for k in range(K):
        one = noise.sample(stacked, torch.arange(N), step + k, d, call=1, dtype=dtype)
        assert torch.equal(ahead[k * N : (k + 1) * N], one)
        for r, seed in enumerate(seeds):
            assert torch.equal(one[r * n : (r + 1) * n], noise.sample(seed, torch.arange(n), step + k, d, 1, dtype))
    assert not torch.equal(ahead[:N], ahead[N : 2 * N])
    sub = np.array([K * N - 1, 0, N + 2])
    nodes, keys = na.StepRows(stacked, K).decode(sub, "noise", step, 1)
    want = [stacked.decode(np.array([i]), "noise", step + k, 1) for k, i in ((K - 1, N - 1), (0, 0), (1, 2))]
    assert nodes.tolist() == [int(w[0][0]) for w in want] and keys.tolist() == [int(w[1][0]) for w in want]
    with pytest.raises(ValueError, match="row ids must lie in"):
        na.StepRows(stacked, K).decode(np.array([K * N]), "noise", step, 1)


class _ZeroGrad:
    """A problem whose gradient is 0 (an oracle's output is then its noise alone)."""

    def grad(self, x, nodes, seed, step, call):
        return torch.zeros_like(x)


def _walk() -> list[int]:
    return list(range(na.MAX_STEPS_AHEAD + 3)) + [2, 1]


@pytest.mark.parametrize("name", ["alpha-stable", "student-t"])
def test_the_stacked_oracle_draws_ahead_and_stays_exact(name):
    noise, seeds, n, d = build_noise(name), [1, 2], 4, 3
    oracle = StackedOracle(_ZeroGrad(), noise, torch.arange(n), seeds)
    stacked = StackedSeeds(seeds, n)
    x = torch.zeros(len(seeds) * n, d, dtype=torch.float64)
    assert oracle._ahead.steps_ahead(d) == na.MAX_STEPS_AHEAD
    for t in _walk():
        oracle.begin(t)
        for call in (0, 1):
            want = noise.sample(stacked, torch.arange(len(seeds) * n), t, d, call, dtype=torch.float64)
            assert torch.equal(oracle(x), want)


@pytest.mark.parametrize("nodes", [torch.arange(6), torch.tensor([3, 4, 5]), torch.tensor([7])])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_a_standalone_oracle_draws_ahead_the_numbers_it_draws_step_by_step(nodes, dtype):
    """All nodes of a run, a distributed rank's nodes 3–5, and one node: the lockstep oracle drawing ahead
    returns what the oracle drawing one step at a time returns."""
    noise, seed, d = build_noise("alpha-stable"), 2**33 + 11, 5
    fast = GradientOracle(_ZeroGrad(), noise, nodes, seed, ahead=True)
    slow = GradientOracle(_ZeroGrad(), noise, nodes, seed)
    assert fast._ahead is not None and slow._ahead is None
    x = torch.zeros(len(nodes), d, dtype=dtype)
    for t in _walk():
        fast.begin(t), slow.begin(t)
        for _ in range(2):
            assert torch.equal(fast(x), slow(x))


def test_large_draws_stay_one_step_at_a_time():
    ahead = na.NoiseAhead(build_noise("gaussian"), 0, torch.arange(1000), rng.RowSeeds([0], 1000))
    assert ahead.steps_ahead(d=na.AHEAD_ENTRIES // 1000) == 1
    assert ahead.steps_ahead(d=1) == na.MAX_STEPS_AHEAD
