"""The ``powersgd`` compressor (rank-r power step with warm start, compression/lowrank.py): exact on rank-r
matrices, never expanding but with no contraction in the worst case, warm start converging to the best rank-r
approximation on a fixed matrix, the factors as the packet (r·(m + k) values per m × k matrix), its state carried
by the server methods through checkpoint and resume, and refused by methods that cannot carry it."""

from __future__ import annotations

import itertools

import pytest
import torch

from tailtamer.api import build, build_components
from tailtamer.comm.codec import packet_row_bytes
from tailtamer.compression import COMPRESSORS, build_compressor
from tailtamer.compression.lowrank import orthogonalize
from tailtamer.errors import ValidationError
from tailtamer.rng import Randomness

M, K = 12, 9


def rng(step: int = 0, n: int = 1) -> Randomness:
    return Randomness(7, torch.arange(n), step)


def compress(c, z: torch.Tensor, state: torch.Tensor, step: int = 0) -> tuple[torch.Tensor, torch.Tensor, tuple]:
    codec = c.codec(rng(step, z.shape[0]), 0, state=state)
    packet = codec.encode(z)
    return codec.decode(packet, z), codec.state, packet


def test_rank_r_matrices_are_reproduced_exactly():
    g = torch.Generator().manual_seed(0)
    for r in (1, 2, 3):
        c = COMPRESSORS.build("powersgd", {"rank": r, "shapes": [[M, K]], "min_compression_rate": 1.0})
        mats = torch.randn(3, M, r, generator=g, dtype=torch.float64) @ torch.randn(
            3, r, K, generator=g, dtype=torch.float64
        )
        z = mats.reshape(3, -1)
        out, _, _ = compress(c, z, c.init_state(z))
        assert (out - z).abs().max() <= 1e-12 * z.abs().max()
        # and a rank r + 1 matrix is not (the compressor really truncates)
        bigger = z + 0.5 * (
            torch.randn(3, M, 1, generator=g, dtype=torch.float64)
            @ torch.randn(3, 1, K, generator=g, dtype=torch.float64)
        ).reshape(3, -1)
        assert (compress(c, bigger, c.init_state(bigger))[0] - bigger).norm() > 1e-3


def test_warm_start_converges_to_the_best_rank_r_approximation_on_a_fixed_matrix():
    g = torch.Generator().manual_seed(1)
    u, _ = torch.linalg.qr(torch.randn(M, M, generator=g, dtype=torch.float64))
    v, _ = torch.linalg.qr(torch.randn(K, K, generator=g, dtype=torch.float64))
    sigma = torch.tensor([5.0, 4.0, 2.0, 1.5, 1.0, 0.5, 0.3, 0.2, 0.1], dtype=torch.float64)
    mat = u[:, :K] @ torch.diag(sigma) @ v.T
    z = mat.reshape(1, -1)
    for r in (1, 2):
        best = float(sigma[r:].norm())  # Eckart–Young: the best rank-r error
        warm = COMPRESSORS.build("powersgd", {"rank": r, "shapes": [[M, K]]})
        cold = COMPRESSORS.build("powersgd", {"rank": r, "shapes": [[M, K]], "warm_start": False})
        state, errors, cold_errors = warm.init_state(z), [], []
        for step in range(40):
            out, state, _ = compress(warm, z, state, step)
            errors.append(float((out - z).norm()))
            cold_errors.append(float((compress(cold, z, cold.init_state(z), step)[0] - z).norm()))
        assert all(b <= a + 1e-12 for a, b in itertools.pairwise(errors))  # subspace iteration: monotone
        assert errors[0] > best * 1.01 and errors[-1] == pytest.approx(best, rel=1e-6)
        assert min(cold_errors) > best * 1.001  # fresh Q each time: no gain


def test_it_never_expands_but_has_no_contraction():
    """C(M) = P Pᵀ M is a projection: ‖C(M) − M‖ ≤ ‖M‖ always; yet when M Q = 0 the output can be 0 (δ = 0)."""
    c = COMPRESSORS.build("powersgd", {"rank": 1, "shapes": [[M, K]]})
    g = torch.Generator().manual_seed(2)
    z = torch.randn(50, M * K, generator=g, dtype=torch.float64) * torch.rand(50, 1, generator=g, dtype=torch.float64)
    out, _, _ = compress(c, z, c.init_state(z))
    assert bool(((out - z).norm(dim=1) <= z.norm(dim=1) + 1e-12).all())
    assert c.delta(M * K) is None and c.omega(M * K) is None and not c.unbiased
    q = torch.zeros(1, K, dtype=torch.float64)
    q[0, 0] = 1.0  # a warm-start Q = e_1
    p = orthogonalize(torch.zeros(M, 1, dtype=torch.float64))  # what M Q = 0 turns into
    a = torch.randn(M, generator=g, dtype=torch.float64)
    a = a - p[:, 0] * (p[:, 0] @ a)  # a ⟂ P
    b = torch.randn(K, generator=g, dtype=torch.float64)
    b[0] = 0.0  # b ⟂ Q: M Q = 0 exactly
    worst = torch.outer(a, b).reshape(1, -1)
    out, _, _ = compress(c, worst, q)
    assert out.abs().max() <= 1e-12 and worst.norm() > 1


@pytest.mark.parametrize("dtype,size", [(torch.float32, 4), (torch.float64, 8)])
def test_the_packet_is_the_factors(dtype, size):
    for r in (1, 2, 3):
        c = COMPRESSORS.build("powersgd", {"rank": r, "shapes": [[M, K]], "min_compression_rate": 1.0})
        z = torch.randn(2, M * K, dtype=dtype)
        _, state, packet = compress(c, z, c.init_state(z))
        assert packet_row_bytes(packet) == r * (M + K) * size
        assert c.bits(M * K, size * 8) == pytest.approx(size * 8 * r * (M + K) / (M * K))
        assert state.shape == (2, K * r)


def test_vectors_and_small_matrices_travel_dense_and_the_layout_of_a_model_is_used():
    c = COMPRESSORS.build("powersgd", {"rank": 1, "shapes": [[M, K], [2, 2]]})
    z = torch.randn(1, M * K + 4 + 5, dtype=torch.float64)
    out, _, packet = compress(c, z, c.init_state(z))
    assert torch.equal(out[:, M * K :], z[:, M * K :])  # the 2 × 2 (not worth it) and the vector
    assert packet_row_bytes(packet) == 8 * ((M + K) + 4 + 5)
    comp = build_components(
        {
            "problem": {"name": "digits-cnn"},
            "algorithm": {"name": "ef"},
            "compression": {"name": "powersgd", "rank": 1},
            "topology": {"name": "server", "n": 2},
        }
    )
    layout, d = comp.problem.layout, comp.problem.dim
    bits = comp.algorithm.compressor.bits(d, 32, layout)
    plan = comp.algorithm.compressor.plan(d, layout)
    assert plan.slots and bits < 32 and int((~plan.dense).sum()) == sum(r * cc for _, r, cc in plan.slots)


def config(alg: str, steps: int = 8, **comp) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": 40},
        "algorithm": {"name": alg, "lr": 0.05},
        "compression": {"name": "powersgd", "rank": 2, "shapes": [[6, 5], [3, 3]], "min_compression_rate": 1.0, **comp},
        "topology": {"name": "server", "n": 4},
        "noise": {"name": "student-t", "df": 2.5, "scale": 0.3},
        "run": {"steps": steps, "seed": 3, "eval_every": steps, "dtype": "float64"},
    }


@pytest.mark.parametrize("alg", ["dcsgd", "ef", "ef21"])
def test_server_methods_carry_its_state_through_checkpoint_and_resume(alg, tmp_path):
    from tailtamer.rundir import save_checkpoint
    from tailtamer.rundir.checkpoint import load_checkpoint

    whole = build(config(alg)).run()
    assert whole["compressor"].shape == (4, 5 * 2)  # the 3 × 3 is not worth it at rank 2: dense
    first = build(config(alg, steps=4))
    save_checkpoint(tmp_path, first, 4, first.run())
    second = build(config(alg))
    state, step = load_checkpoint(tmp_path, second)
    resumed = second.run(state, step)
    assert resumed.keys() == whole.keys() and all(torch.equal(resumed[k], whole[k]) for k in whole)


def test_full_rank_is_the_identity_and_dcsgd_then_is_dsgd():
    full = build(config("dcsgd", rank=5, shapes=[[6, 5]])).run()["x"]
    dense = config("dsgd-server")
    del dense["compression"]
    assert (full - build(dense).run()["x"]).abs().max() <= 1e-12


def test_stateful_compressor_refused_where_no_state_is_carried():
    cfg = config("choco-sgd")
    cfg["topology"] = {"name": "ring", "n": 4}
    with pytest.raises(ValidationError, match="keeps state between steps"):
        build_components(cfg)
    with pytest.raises(ValidationError, match="rank"):
        build_compressor({"name": "powersgd", "rank": 0})
    with pytest.raises(ValidationError, match="warm-start Q per node"):
        COMPRESSORS.build("powersgd", {})(torch.zeros(1, 4))


def test_ef_with_powersgd_equals_the_per_node_reference():
    """ef + the compressor, written out node by node: p_i = η g_i + e_i; P_i = qr(M_i Q_i); Q_i ← M_iᵀ P_i;
    Δ_i = P_i Q_iᵀ (the 3 × 3 and the last 7 coordinates dense); e_i = p_i − Δ_i; x ← x − mean Δ_i."""
    cfg = config("ef")
    c = build_components(cfg)
    prob, noise, n, seed, r = c.problem, c.noise, 4, 3, 2
    x = prob.x0()
    e = [torch.zeros(40, dtype=torch.float64) for _ in range(n)]
    q = None
    for t in range(8):
        if q is None:
            gen = Randomness(seed, torch.arange(n), t).generator("powersgd")
            q = [torch.randn(1, 5 * r, generator=gen, dtype=torch.float64)[0].reshape(5, r)] * n
        deltas = []
        for i in range(n):
            i_ = torch.tensor([i])
            g = prob.grad(x[None], i_, seed, t, 0)[0] + noise.sample(seed, i_, t, 40, 0)[0]
            p = 0.05 * g + e[i]
            mat = p[:30].reshape(6, 5)
            pp = torch.linalg.qr(mat @ q[i]).Q
            q[i] = mat.T @ pp
            delta = torch.cat([(pp @ q[i].T).reshape(-1), p[30:]])
            e[i] = p - delta
            deltas.append(delta)
        x = x - sum(deltas) / n
    got = build(cfg).run()["x"]
    assert (got[0] - x).abs().max() <= 1e-12
