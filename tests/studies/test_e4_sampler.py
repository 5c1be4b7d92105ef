"""The Student-t sampler's batched rejection rounds draw exactly the numbers of the round-by-round loop."""

from __future__ import annotations

import pytest
import torch

from tailtamer.noise import _draws, build_noise
from tailtamer.noise.student_t import MAX_ROUNDS, bailey


def round_by_round(seed: int, nodes: torch.Tensor, step: int, d: int, call: int, df: float) -> torch.Tensor:
    """The former sampler: one round of proposals at a time for the entries rejected so far."""
    u = _draws.uniform(seed, 0, nodes, step, d, call).mul_(2.0).sub_(1.0)
    v = _draws.uniform(seed, 1, nodes, step, d, call).mul_(2.0).sub_(1.0)
    w = u * u + v * v
    ok = w < 1.0
    out = torch.where(ok, bailey(u, torch.where(ok, w, 0.5), df), 0.0)
    rows, cols = torch.nonzero(~ok, as_tuple=True)
    for r in range(1, MAX_ROUNDS):
        if rows.numel() == 0:
            return out
        ids = nodes[rows]
        u = _draws.uniform_at(seed, 2 * r, ids, cols, step, call).mul_(2.0).sub_(1.0)
        v = _draws.uniform_at(seed, 2 * r + 1, ids, cols, step, call).mul_(2.0).sub_(1.0)
        w = u * u + v * v
        ok = w < 1.0
        out[rows[ok], cols[ok]] = bailey(u[ok], w[ok], df)
        rows, cols = rows[~ok], cols[~ok]
    raise AssertionError("did not terminate")


@pytest.mark.parametrize("df", [0.7, 1.5, 2.5, 30.0])
def test_batched_rounds_are_bitwise_the_round_by_round_draws(df):
    noise = build_noise("student-t", {"df": df, "scale": 1.0, "allow_no_mean": df <= 1})
    for seed, nodes, step, d, call in [
        (0, [0], 0, 400, 0),
        (3, [5, 2, 9], 17, 257, 1),
        (11, [7], 123456, 4000, 2),
        (2**40, [0, 1], 3, 1, 0),
    ]:
        nodes = torch.tensor(nodes)
        new = noise.standard(seed, nodes, step, d, call)
        old = round_by_round(seed, nodes, step, d, call, df)
        assert torch.equal(new.view(torch.int64), old.view(torch.int64))


def test_uniform_at_rounds_equals_uniform_at_per_stream():
    ids, coords = torch.tensor([4, 0, 4, 9]), torch.tensor([0, 399, 7, 3])
    rounds = _draws.uniform_at_rounds(5, range(2, 9), ids, coords, 12, 3)
    for j, k in enumerate(range(2, 9)):
        assert torch.equal(rounds[j], _draws.uniform_at(5, k, ids, coords, 12, 3))


def test_a_wrong_round_order_would_be_caught():
    """The comparison can fail: taking the *last* accepted round instead of the first changes draws."""
    ids, cols = torch.zeros(400, dtype=torch.int64), torch.arange(400)
    uv = _draws.uniform_at_rounds(0, range(2, 14), ids, cols, 0).mul_(2.0).sub_(1.0)
    ok = (uv[0::2] ** 2 + uv[1::2] ** 2) < 1.0
    first = ok.to(torch.int8).argmax(0)
    last = ok.shape[0] - 1 - ok.flip(0).to(torch.int8).argmax(0)
    assert (first != last).any()
