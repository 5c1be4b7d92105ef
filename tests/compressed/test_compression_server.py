"""Server methods (dsgd-server, dcsgd, dsignsgd, ef, ef21): equal to per-node reference loops to 1e-12 in
float64, the reductions (identity compressor = DSGD), the step rules, and the bytes that travel."""

from __future__ import annotations

import pytest
import torch

from reference_compressed import run_server_reference
from tailtamer.api import build, build_components, make_loop
from tailtamer.compression import build_compressor
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.schedules import make_lr

N, D, STEPS, SEED = 4, 6, 30, 11


def config(alg: str, compression: dict | None = None, noise: dict | None = None, **hp) -> dict:
    cfg = {
        "problem": {"name": "quartic", "dim": D, "x0": 1.0},
        "algorithm": {"name": alg, "lr": 0.05, **hp},
        "topology": {"name": "server", "n": N},
        "noise": noise or {"name": "student-t", "df": 2.5, "scale": 0.3},
        "run": {"steps": STEPS, "seed": SEED, "eval_every": STEPS},
    }
    if compression is not None:
        cfg["compression"] = compression
    return cfg


def reference(cfg: dict) -> torch.Tensor:
    c = build_components(cfg)
    problem, noise = c.problem, c.noise
    hp = c.algorithm.hyperparameters()

    def grad(i, x, t, call):
        nodes = torch.tensor([i])
        return problem.grad(x[None], nodes, SEED, t, call)[0] + noise.sample(SEED, nodes, t, D, call)[0]

    def exact(x):
        return problem.local_grad(x.expand(N, D), torch.arange(N)).mean(0)

    comp = build_compressor(cfg.get("compression"))
    if hp.get("scaled"):  # C/(1+ω), ω of the unbiased compressor at d = D
        comp = lambda v, rng, call, c=comp: c(v, rng, call) / (1.0 + c.omega(D))  # noqa: E731
    base = make_lr(hp["lr"], hp.get("schedule", "constant"), hp.get("warmup", 0), STEPS)
    return run_server_reference(cfg["algorithm"]["name"], hp, comp, problem.x0(), N, grad, exact, STEPS, base, SEED)


CASES = [
    ("dsgd-server", None, {}),
    ("dsgd-server", None, {"rule": "oracle", "L0": 3.0, "L1": 3.0, "schedule": {"name": "poly", "power": 0.6}}),
    ("dcsgd", {"name": "rand-k", "k": 2}, {}),
    ("dcsgd", {"name": "bernoulli", "q": 0.4}, {"rule": "practical", "a": 1.0, "b": 0.5, "alpha": 0.7}),
    ("dcsgd", {"name": "qsgd", "levels": 3}, {"rule": "oracle", "L0": 3.0, "L1": 3.0}),
    ("dcsgd", {"name": "top-k", "k": 2}, {}),
    ("dsignsgd", None, {"schedule": {"name": "robbins-monro", "power": 0.75}}),
    ("dsignsgd", None, {"vote": True}),
    ("ef", {"name": "top-k", "k": 2}, {}),
    ("ef", {"name": "scaled-sign"}, {"rule": "oracle", "L0": 1.0, "L1": 3.0}),
    ("ef21", {"name": "top-k", "k": 1}, {}),
    ("ef21", {"name": "rand-k", "k": 3}, {"rule": "practical", "a": 1.0, "b": 1.0, "alpha": 1.0, "scaled": True}),
    ("ef", {"name": "bernoulli", "q": 0.3}, {"scaled": True}),
]


@pytest.mark.parametrize("alg,compression,hp", CASES)
def test_server_methods_equal_the_per_node_reference(alg, compression, hp):
    cfg = config(alg, compression, **hp)
    x = build(cfg).run()["x"]
    assert x.dtype == torch.float64
    assert torch.equal(x, x[:1].expand_as(x))  # every row holds the server model
    assert (x[0] - reference(cfg)).abs().max().item() <= 1e-12
    assert bool(torch.isfinite(x).all())


def test_dcsgd_with_identity_is_dsgd_bitwise_and_ef_with_identity_is_dsgd():
    dsgd = build(config("dsgd-server")).run()["x"]
    assert torch.equal(build(config("dcsgd", {"name": "identity"})).run()["x"], dsgd)
    assert torch.equal(build(config("dcsgd")).run()["x"], dsgd)  # no section: identity
    assert (build(config("ef", {"name": "identity"})).run()["x"] - dsgd).abs().max() <= 1e-12


def test_majority_vote_of_one_worker_is_signsgd():
    one = dict(config("dsignsgd"), topology={"name": "server", "n": 1})
    vote = dict(config("dsignsgd", vote=True), topology={"name": "server", "n": 1})
    assert torch.equal(build(one).run()["x"], build(vote).run()["x"])


def test_ef_residual_carries_what_compression_dropped():
    """EF's invariant: x_t − mean_i e_i = x_0 − Σ_k η_k mean_i g_i (the compressed steps lose nothing)."""
    cfg = config("ef", {"name": "top-k", "k": 1}, noise={"name": "none"})
    loop = build(cfg)
    s = loop.initial_state()
    total = torch.zeros(D, dtype=torch.float64)
    for t in range(STEPS):
        loop.oracle.begin(t)
        total += 0.05 * loop.problem.local_grad(s["x"], torch.arange(N)).mean(0)
        s = loop.algorithm.step(s, loop.oracle, loop.comm, t)
    assert (s["x"][0] - s["e"].mean(0) - (loop.problem.x0() - total)).abs().max() <= 1e-12


@pytest.mark.parametrize(
    "alg,compression,row_bytes",
    [
        ("dsgd-server", None, D * 8),
        ("dcsgd", {"name": "top-k", "k": 2}, 2 * 12),
        ("dsignsgd", None, 1),
        ("ef", {"name": "qsgd", "levels": 1, "biased": True}, 8 + 1 + 1),
    ],
)
def test_bytes_counted_are_the_packets(alg, compression, row_bytes):
    loop = build(config(alg, compression))
    loop.run()
    assert loop.comm.stats.as_dict() == {
        "messages": N * STEPS,
        "bytes": N * STEPS * row_bytes,
        "mixes": 0,
        "means": STEPS,
    }


def test_ef21_sends_dense_once_then_packets():
    loop = build(config("ef21", {"name": "top-k", "k": 2}))
    loop.run()
    assert loop.comm.stats.bytes == N * D * 8 + N * STEPS * 2 * 12


def test_oracle_rule_restores_dsgd_on_the_quartic_where_a_constant_step_blows_up():
    """(L0,L1)-smooth quartic from x0 = 4·1: a constant step 0.2 diverges (η x² > 2), the oracle rule
    η̄/(L0 + L1‖∇f‖) converges (compression.md §4, adaptive step)."""
    base = config("dsgd-server", noise={"name": "gaussian", "scale": 0.1}, lr=0.2)
    base["problem"]["x0"] = 4.0
    base["run"]["check_finite"] = False
    x = build(base).run()["x"]
    assert not bool(torch.isfinite(x).all()) or x.abs().max() > 1e6
    oracle = dict(base, algorithm={"name": "dsgd-server", "lr": 0.2, "rule": "oracle", "L0": 3.0, "L1": 3.0})
    oracle["run"] = dict(base["run"], steps=400)
    assert build(oracle).run()["x"].abs().max() < 0.5


def test_bad_configs_fail_early():
    with pytest.raises(ValidationError, match="does not compress"):
        build_components(config("dsgd-server", {"name": "top-k"}))
    with pytest.raises(ValidationError, match="practical"):
        build_components(config("ef", rule="practical"))
    with pytest.raises(ValidationError, match="rule must be one of"):
        build_components(config("dcsgd", rule="oracel"))
    with pytest.raises(ConfigError, match="did you mean 'rand-k'"):
        build_components(config("dcsgd", {"name": "randk"}))
    with pytest.raises(ConfigError, match="unknown key 'compressor'"):  # the engine supplies it
        build_components(config("dcsgd", compressor="top-k"))
    with pytest.raises(ValidationError, match="power"):
        build_components(config("dsignsgd", schedule={"name": "robbins-monro", "power": 0.5}))


def test_a_gossip_topology_is_ignored_by_a_server_method():
    server = build(config("dcsgd", {"name": "rand-k", "k": 2})).run()["x"]
    ring = config("dcsgd", {"name": "rand-k", "k": 2})
    ring["topology"] = {"name": "ring", "n": N}
    c = build_components(ring)
    assert c.topology is None
    assert torch.equal(make_loop(c).run()["x"], server)


@pytest.mark.parametrize(
    "alg,compression,hp",
    [
        ("ef21", {"name": "top-k", "k": 2}, {}),
        ("ef", {"name": "qsgd"}, {}),
        ("powersgd", None, {"shapes": [[3, 2]], "rank": 1, "min_compression_rate": 0.5, "start_iter": 3}),
    ],
)
def test_stopping_and_resuming_gives_the_same_run(alg, compression, hp, tmp_path):
    """Every piece of state is node-stacked (server estimates replicated on each row), so a checkpoint of the
    state and a resumed run give the uninterrupted run exactly."""
    from tailtamer.rundir import save_checkpoint
    from tailtamer.rundir.checkpoint import load_checkpoint

    whole = build(config(alg, compression, **hp)).run()
    half_cfg = config(alg, compression, **hp)
    half_cfg["run"]["steps"] = STEPS // 2
    first = build(half_cfg)
    save_checkpoint(tmp_path, first, STEPS // 2, first.run())
    second = build(config(alg, compression, **hp))
    state, step = load_checkpoint(tmp_path, second)
    resumed = second.run(state, step)
    assert all(v.shape[0] == N for v in resumed.values())
    assert all(torch.equal(resumed[k], whole[k]) for k in whole)
