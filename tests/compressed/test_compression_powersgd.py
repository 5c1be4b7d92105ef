"""PowerSGD with a server: a per-node reference loop (1e-12), full rank = DSGD, warm start, the vanilla phase
and small matrices averaged dense, and the bytes of the two rounds."""
from __future__ import annotations

import pytest
import torch

from tailtamer.api import build, build_components
from tailtamer.errors import ValidationError
from tailtamer.rng import Randomness

N, STEPS, SEED, D = 4, 12, 3, 8 * 6 + 3 * 2 + 5          # an 8×6 matrix, a 3×2 one (kept dense), 5 more


def config(alg: str = "powersgd", **hp) -> dict:
    return {"problem": {"name": "quadratic", "dim": D}, "algorithm": {"name": alg, "lr": 0.05, **hp},
            "topology": {"name": "server", "n": N}, "noise": {"name": "student-t", "df": 2.5, "scale": 0.3},
            "run": {"steps": STEPS, "seed": SEED, "eval_every": STEPS}}


PS = {"shapes": [[8, 6], [3, 2]], "start_iter": 2, "rank": 2, "min_compression_rate": 1.5}


def reference(hp: dict) -> torch.Tensor:
    """PowerSGD written out node by node (the hook's steps, with means instead of sums)."""
    c = build_components(config(**hp))
    prob, noise = c.problem, c.noise
    x = prob.x0()
    e = [torch.zeros(D, dtype=torch.float64) for _ in range(N)]
    q = None
    r = hp["rank"]
    for t in range(STEPS):
        g = [prob.grad(x[None], torch.tensor([i]), SEED, t, 0)[0] + noise.sample(SEED, torch.tensor([i]), t, D, 0)[0]
             for i in range(N)]
        if t < hp["start_iter"]:
            x = x - 0.05 * sum(g) / N
            continue
        m = [g[i] + e[i] for i in range(N)]
        mats = [mi[:48].reshape(8, 6) for mi in m]
        if q is None or not hp.get("warm_start", True):
            gen = Randomness(SEED, torch.arange(N), t).generator("powersgd")
            q = torch.randn(1, 6 * r, generator=gen, dtype=torch.float64)[0].reshape(6, r)
        p = sum(mi @ q for mi in mats) / N
        p = torch.linalg.qr(p).Q
        q = sum(mi.T @ p for mi in mats) / N
        approx = p @ q.T
        direction = torch.cat([approx.reshape(-1), sum(mi[48:] for mi in m) / N])
        e = [torch.cat([mats[i].reshape(-1) - approx.reshape(-1), torch.zeros(D - 48, dtype=torch.float64)])
             for i in range(N)]
        x = x - 0.05 * direction
    return x


@pytest.mark.parametrize("hp", [PS, {**PS, "warm_start": False}, {**PS, "rank": 1, "start_iter": 0}])
def test_powersgd_equals_the_per_node_reference(hp):
    x = build(config(**hp)).run()["x"]
    assert (x[0] - reference(hp)).abs().max().item() <= 1e-12


def test_full_rank_powersgd_is_dsgd():
    """rank = min(rows, cols): P Pᵀ projects onto the column space of mean M, so M̂ = mean M, mean e = 0."""
    x = build(config(shapes=[[8, 6]], rank=6, min_compression_rate=0.1, start_iter=0)).run()["x"]
    assert (x - build(config("dsgd-server")).run()["x"]).abs().max().item() <= 1e-12


def test_vanilla_phase_is_dsgd_and_bytes_are_the_two_rounds():
    loop = build(config(**{**PS, "start_iter": STEPS}))
    assert torch.equal(loop.run()["x"], build(config("dsgd-server")).run()["x"])
    loop = build(config(**PS))
    loop.run()
    dense_steps, ps_steps = 2, STEPS - 2
    per_ps_step = 8 * 2 + (6 * 2 + 3 * 2 + 5)                  # P of the 8×6; Q of it + the dense rest
    assert loop.comm.stats.bytes == N * 8 * (dense_steps * D + ps_steps * per_ps_step)
    assert loop.comm.stats.means == dense_steps + 2 * ps_steps


def test_powersgd_needs_matrix_shapes():
    with pytest.raises(ValidationError, match="model problem, or `shapes`"):
        build(config(start_iter=0)).run()
    with pytest.raises(ValidationError, match="cover"):
        build(config(shapes=[[10, 10]], start_iter=0)).run()


def test_matrix_shapes_come_from_a_model_problem_layout():
    c = build_components({"problem": {"name": "digits-cnn"}, "algorithm": {"name": "powersgd", "rank": 1},
                          "topology": {"name": "server", "n": 2}})
    slots, dense = c.algorithm.plan(c.problem.dim, type("G", (), {"problem": c.problem})())
    matrices = [s for s in c.problem.layout.slots if len(s.shape) >= 2]
    assert [o for o, _, _ in slots] == [s.offset for s in matrices if (s.shape[0] + s.numel // s.shape[0]) * 2
                                        < s.numel]
    assert len(slots) >= 2 and int((~dense).sum()) == sum(r * cc for _, r, cc in slots)
    assert all(r == s.shape[0] for (o, r, _), s in zip(slots, [m for m in matrices if m.offset in
                                                                 {o for o, _, _ in slots}]))
