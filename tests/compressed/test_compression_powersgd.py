"""PowerSGD with a server: a per-node reference loop (1e-12), full rank = DSGD, warm start, the vanilla phase
and small matrices averaged dense, and the bytes of the two rounds."""

from __future__ import annotations

import pytest
import torch

from tailtamer.api import build, build_components
from tailtamer.errors import ValidationError
from tailtamer.rng import Randomness

N, STEPS, SEED, D = 4, 12, 3, 8 * 6 + 3 * 2 + 5  # an 8×6 matrix, a 3×2 one (kept dense), 5 more


def config(alg: str = "powersgd", **hp) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": D},
        "algorithm": {"name": alg, "lr": 0.05, **hp},
        "topology": {"name": "server", "n": N},
        "noise": {"name": "student-t", "df": 2.5, "scale": 0.3},
        "run": {"steps": STEPS, "seed": SEED, "eval_every": STEPS},
    }


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
        g = [
            prob.grad(x[None], torch.tensor([i]), SEED, t, 0)[0] + noise.sample(SEED, torch.tensor([i]), t, D, 0)[0]
            for i in range(N)
        ]
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
        e = [
            torch.cat([mats[i].reshape(-1) - approx.reshape(-1), torch.zeros(D - 48, dtype=torch.float64)])
            for i in range(N)
        ]
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
    per_ps_step = 8 * 2 + (6 * 2 + 3 * 2 + 5)  # P of the 8×6; Q of it + the dense rest
    assert loop.comm.stats.bytes == N * 8 * (dense_steps * D + ps_steps * per_ps_step)
    assert loop.comm.stats.means == dense_steps + 2 * ps_steps


def test_powersgd_needs_matrix_shapes():
    with pytest.raises(ValidationError, match="model problem, or `shapes`"):
        build(config(start_iter=0)).run()
    with pytest.raises(ValidationError, match="cover"):
        build(config(shapes=[[10, 10]], start_iter=0)).run()


def test_matrix_shapes_come_from_a_model_problem_layout():
    c = build_components(
        {
            "problem": {"name": "digits-cnn"},
            "algorithm": {"name": "powersgd", "rank": 1},
            "topology": {"name": "server", "n": 2},
        }
    )
    slots, dense = c.algorithm.plan(c.problem.dim, type("G", (), {"layout": c.problem.layout})())
    matrices = [s for s in c.problem.layout.slots if len(s.shape) >= 2]
    assert [o for o, _, _ in slots] == [
        s.offset for s in matrices if (s.shape[0] + s.numel // s.shape[0]) * 2 < s.numel
    ]
    assert len(slots) >= 2 and int((~dense).sum()) == sum(r * cc for _, r, cc in slots)
    assert all(
        r == s.shape[0] for (o, r, _), s in zip(slots, [m for m in matrices if m.offset in {o for o, _, _ in slots}])
    )


def test_a_rank_above_min_rows_cols_is_capped_as_torchs_hook_and_logged_once(caplog):
    """rank 7 exceeds min(rows, cols) of both the 8×6 and the 3×2 matrix; with min_compression_rate 0.1 both
    are compressed, at ranks 6 and 2 (full rank: P Pᵀ = I, exact), so the run is DSGD's (the old code raised
    a RuntimeError in the QR's shapes). The cap is logged once."""
    hp = {"shapes": [[8, 6], [3, 2]], "start_iter": 0, "rank": 7, "min_compression_rate": 0.1}
    with caplog.at_level("WARNING", logger="tailtamer.compression.lowrank"):
        x = build(config(**hp)).run()["x"][0]  # rank 7 > min(8, 6) and > min(3, 2): both capped
    dsgd = build(config("dsgd-server")).run()["x"][0]
    assert (x - dsgd).abs().max().item() <= 1e-12  # full rank on every matrix: exact, so DSGD
    lines = [r.getMessage() for r in caplog.records if "powersgd rank" in r.getMessage()]
    assert lines == [
        (
            "tailtamer: powersgd rank 7 exceeds min(rows, cols) of [3, 2], [8, 6]; capped at min(rank, "
            "rows, cols) per matrix, as torch's powerSGD_hook does"
        )
    ]


def test_the_compressor_caps_its_rank_and_says_so_instead_of_silently_sending_dense(caplog):
    from tailtamer.compression import build_compressor

    c = build_compressor({"name": "powersgd", "rank": 100, "shapes": [[5, 10]], "min_compression_rate": 0.5})
    with caplog.at_level("WARNING", logger="tailtamer.compression.lowrank"):
        plan = c.plan(50)
        c.plan(60)
    assert plan.slots == ((0, 5, 10),) and plan.ranks == (5,)  # (5 + 10)·5·0.5 < 50: compressed at rank 5
    assert c.bits(50, 32) == 32 * 5 * 15 / 50
    assert sum("powersgd rank 100" in r.getMessage() for r in caplog.records) == 1
    z = torch.randn(2, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    codec = c.codec(Randomness(0, torch.arange(2), 0), 0, state=c.init_state(z))
    assert torch.allclose(codec.roundtrip(z), z, rtol=0, atol=1e-12)  # rank min(5, 10) = 5: exact
