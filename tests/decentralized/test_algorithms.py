"""Mathematical checks of the decentralized recipes (Yu, Jakovetić, Kar, ICLR 2026, arXiv 2505.03736)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.api import build, build_components, make_loop
from tailtamer.comm import SimulatedComm
from tailtamer.engine import GradientOracle, History
from tailtamer.errors import ConfigError, NonFiniteError, ValidationError
from tailtamer.schedules import make_lr
from tailtamer.testing import REFERENCES, run_reference

#: The uncompressed decentralized recipes (the compressed-gossip ones, CHOCO-SGD and its GT-NSGDm variant, have
#: their own per-node reference loops in tests/compressed/test_compression_gossip.py).
ALL = sorted(
    name
    for name in ALGORITHMS.names()
    if getattr(ALGORITHMS.get(name), "family", None) == "decentralized"
    and not getattr(ALGORITHMS.get(name), "compresses", False)
)

# Non-default settings that exercise every branch (clipping active, caps hit, Nesterov, schedules).
SETTINGS = {
    "dsgd": {"lr": 0.05, "schedule": "cosine", "warmup": 5},
    "dsgd-n": {"lr": 0.05},
    "dsgd-gclip": {"lr": 0.05, "gamma": 0.5},
    "dsgd-cclip": {"lr": 0.05, "gamma": 0.2},
    "dsgd-clip": {"lr": 0.3, "gamma": 0.5, "kappa": 0.4},
    "gt-dsgd": {"lr": 0.03, "schedule": {"name": "poly", "power": 0.5}},
    "gt-adam": {"lr": 0.01, "beta": 0.8, "beta2": 0.9, "q_max": 0.05},
    "gt-nsgdm": {"lr": 0.05, "beta": 0.8},
    "qg-dsgdm": {"lr": 0.03, "beta": 0.7, "nesterov": True},
    "sclip-ef": {"lr": 0.1, "beta": 0.9, "phi": 0.5, "eps": 0.3},
}


def test_settings_and_references_cover_registry():
    assert sorted(SETTINGS) == ALL == sorted(REFERENCES)


def config(
    alg: str, params: dict, topology: dict, noise: dict | None = None, steps: int = 50, problem: dict | None = None
) -> dict:
    return {
        "problem": problem or {"name": "tokenized-regression"},
        "algorithm": {"name": alg, **params},
        "topology": topology,
        "noise": noise or {"name": "none"},
        "run": {"steps": steps, "seed": 3, "eval_every": 10, "dtype": "float64"},
    }


@pytest.mark.parametrize(
    "topology", [{"name": "ring", "n": 20, "k": 2}, {"name": "exponential", "n": 8}], ids=["ring", "exponential"]
)
@pytest.mark.parametrize("alg", ALL)
def test_vectorized_equals_per_node_loop(alg, topology):
    """The stacked recipe and an independent per-node loop agree to 1e-12 (float64, 50 steps, noise on)."""
    cfg = config(alg, SETTINGS[alg], topology, {"name": "student-t", "df": 2.5, "scale": 0.5})
    c = build_components(cfg)
    loop = make_loop(c)
    x_vec = loop.run()["x"]

    problem, noise, seed = c.problem, c.noise, cfg["run"]["seed"]
    d = problem.dim

    def node_grad(i, xi, t):
        nodes = torch.tensor([i])
        return problem.grad(xi[None], nodes, seed, t, 0)[0] + noise.sample(seed, nodes, t, d, 0)[0]

    W = c.topology.W.tolist()
    x0 = [problem.x0(torch.float64) for _ in range(c.topology.n)]
    hp = {**ALGORITHMS.build(alg, {}, steps=50).hyperparameters(), **SETTINGS[alg]}
    lr_at = make_lr(hp["lr"], hp.get("schedule", "constant"), hp.get("warmup", 0), 50)
    x_ref = torch.stack(run_reference(alg, hp, W, x0, node_grad, 50, lr_at))
    assert x_vec.dtype == torch.float64
    assert (x_vec - x_ref).abs().max().item() <= 1e-12
    assert (x_vec - x_vec.mean(0)).abs().max() > 1e-6, alg  # a real trajectory: the nodes still disagree,
    assert (x_vec - torch.stack(x0)).abs().max() > 1e-3, alg  # and they moved from x₀


def test_claim1_dsgd_n_never_moves():
    """Claim 1: on the complete graph the normalized local gradients (+1, −1) cancel; DSGD-N stays at x₀."""
    hist = History()
    loop = build(
        {
            "problem": {"name": "claim1"},
            "algorithm": {"name": "dsgd-n", "lr": 0.01},
            "topology": {"name": "complete", "n": 20},
            "run": {"steps": 1000, "eval_every": 100},
        },
        callbacks=[hist],
    )
    state = loop.run()
    assert (state["x"] - 0.5).abs().max().item() <= 1e-12  # exact up to the rounding of W @ X
    assert all(abs(r["grad_norm"] - 4.5) < 1e-10 for r in hist.rows)
    assert len(hist.rows) == 11


def test_claim1_gt_nsgdm_reaches_optimum():
    """Claim 1: gradient tracking recovers the sign of the global gradient; GT-NSGDm ends within O(α)."""
    hist = History()
    loop = build(
        {
            "problem": {"name": "claim1"},
            "algorithm": {"name": "gt-nsgdm", "lr": 0.01, "beta": 0.9},
            "topology": {"name": "complete", "n": 20},
            "run": {"steps": 1000, "eval_every": 100},
        },
        callbacks=[hist],
    )
    loop.run()
    assert hist.rows[0]["grad_norm"] == pytest.approx(4.5)
    assert hist.rows[-1]["grad_norm"] < 0.1


@pytest.mark.parametrize(
    "topology", [{"name": "ring", "n": 10}, {"name": "exponential", "n": 8}, {"name": "erdos-renyi", "n": 10, "p": 0.3}]
)
def test_gt_nsgdm_tracker_mean_equals_momentum_mean(topology):
    """mean(Y_t) = mean(V_t) at every t for doubly stochastic W (tracking invariant)."""
    c = build_components(
        config("gt-nsgdm", {"lr": 0.05}, topology, {"name": "alpha-stable", "alpha": 1.5, "skew": 0.5})
    )
    comm = SimulatedComm(c.topology.W)
    alg = c.algorithm
    x0 = c.problem.x0(torch.float64).expand(comm.n, -1).clone()
    s = alg.init(x0, comm)
    oracle = GradientOracle(c.problem, c.noise, comm.nodes, seed=1)
    for t in range(100):
        oracle.begin(t)
        s = alg.step(s, oracle, comm, t)
        scale = s["v"].abs().max().item() + 1.0
        assert (s["y"].mean(0) - s["v"].mean(0)).abs().max().item() <= 1e-12 * scale


# ---- centralized forms ---------------------------------------------------------------------------


def centralized(alg: str, hp: dict, grad, x: torch.Tensor, steps: int, lr_at) -> torch.Tensor:
    """Single-machine optimizers written as textbooks state them (one vector, no graph)."""
    m = torch.zeros_like(x)
    q = torch.zeros_like(x)
    for t in range(steps):
        g, a = grad(x), lr_at(t)
        if alg in ("dsgd", "gt-dsgd"):  # SGD
            x = x - a * g
        elif alg == "dsgd-n":  # normalized SGD
            x = x - a * g / g.norm()
        elif alg == "dsgd-gclip":  # clipped SGD
            x = x - a * g * min(1.0, hp["gamma"] / g.norm().item())
        elif alg == "dsgd-cclip":
            x = x - a * torch.clamp(g, -hp["gamma"], hp["gamma"])
        elif alg == "dsgd-clip":
            gam = hp["gamma"] * (t + 1) ** hp["kappa"]
            x = x - hp["lr"] / (t + 1) * g * min(1.0, gam / g.norm().item())
        elif alg == "gt-nsgdm":  # normalized SGD with momentum
            m = hp["beta"] * m + (1 - hp["beta"]) * g
            x = x - a * m / m.norm()
        elif alg == "gt-adam":  # Adam without bias correction, capped q
            m = hp["beta"] * m + (1 - hp["beta"]) * g
            q = torch.clamp(hp["beta2"] * q + (1 - hp["beta2"]) * g * g, max=hp["q_max"])
            x = x - a * m / (q.sqrt() + hp["eps"])
        elif alg == "qg-dsgdm":  # heavy ball: m̂ ← μ m̂ + (1−μ)(μ m̂ + g)
            d = m * hp["beta"] + g
            step = g + hp["beta"] * d if hp.get("nesterov") else d
            m = hp["beta"] * m + (1 - hp["beta"]) * step
            x = x - a * step
        elif alg == "sclip-ef":
            k = t + 1.0
            b, phi, eps = hp["beta"] / k**0.5, hp["phi"] / k**0.5, hp["eps"] * k**0.6
            m = b * m + (1 - b) * phi * (g - m) / torch.sqrt((g - m) ** 2 + eps)
            x = x - hp["lr"] / k**0.2 * m
    return x


@pytest.mark.parametrize("alg", ALL)
def test_one_node_is_the_centralized_method(alg):
    cfg = config(alg, SETTINGS[alg], {"name": "complete", "n": 1}, steps=40, problem={"name": "quadratic", "dim": 5})
    c = build_components(cfg)
    x_alg = make_loop(c).run()["x"][0]
    hp = {**ALGORITHMS.build(alg, {}, steps=40).hyperparameters(), **SETTINGS[alg]}
    lr_at = make_lr(hp["lr"], hp.get("schedule", "constant"), hp.get("warmup", 0), 40)
    grad = lambda x: c.problem.grad(x[None], torch.tensor([0]), 0, 0)[0]  # noqa: E731
    x_ref = centralized(alg, hp, grad, c.problem.x0(torch.float64), 40, lr_at)
    assert (x_alg - x_ref).abs().max().item() <= 1e-12


LINEAR_IN_G = ["dsgd", "gt-dsgd", "gt-nsgdm", "qg-dsgdm"]


@pytest.mark.parametrize("alg", ALL)
def test_averaging_matrix_keeps_consensus_and_linear_methods_are_centralized(alg):
    """With W = 11ᵀ/n and no noise every adapt-then-combine method keeps all nodes equal; the methods whose
    nonlinearity acts after averaging (tracking or plain SGD) follow the centralized method on
    f = (1/n)Σf_i exactly. GT-Adam combines *before* its local adaptive step (X⁺ = WX − αM/(√Q+ε)), so its
    nodes differ by their own step; for it the node average moves by the average step."""
    n, steps = 6, 40
    cfg = config(
        alg,
        SETTINGS[alg],
        {"name": "complete", "n": n},
        steps=steps,
        problem={"name": "quadratic", "dim": 5, "heterogeneity": 2.0},
    )
    c = build_components(cfg)
    loop = make_loop(c)
    s = loop.run()
    x = s["x"]
    if alg == "gt-adam":
        assert torch.allclose(s["s"].mean(0), s["g"].mean(0), atol=1e-12)  # tracking invariant
        assert (x - x[0]).abs().max().item() > 1e-6  # nodes really differ
        return
    assert (x - x[0]).abs().max().item() <= 1e-12
    if alg in LINEAR_IN_G:
        hp = {**ALGORITHMS.build(alg, {}, steps=steps).hyperparameters(), **SETTINGS[alg]}
        lr_at = make_lr(hp["lr"], hp.get("schedule", "constant"), hp.get("warmup", 0), steps)
        full = lambda z: c.problem.grad(z.expand(n, -1), torch.arange(n), 0, 0).mean(0)  # noqa: E731
        x_ref = centralized(alg, hp, full, c.problem.x0(torch.float64), steps, lr_at)
        assert (x[0] - x_ref).abs().max().item() <= 1e-12


# ---- convergence and robustness ------------------------------------------------------------------

CONVERGE = {
    "dsgd": {"lr": 0.05},
    "dsgd-n": {"lr": 0.02, "schedule": {"name": "poly", "power": 1.0, "t0": 50.0}},
    "dsgd-gclip": {"lr": 0.05, "gamma": 5.0},
    "dsgd-cclip": {"lr": 0.05, "gamma": 2.0},
    "dsgd-clip": {"lr": 2.0, "gamma": 2.0},
    "gt-dsgd": {"lr": 0.05},
    "gt-adam": {"lr": 0.02, "beta2": 0.99},
    "gt-nsgdm": {"lr": 0.02, "beta": 0.9, "schedule": "cosine"},
    "qg-dsgdm": {"lr": 0.02, "beta": 0.8},
    "sclip-ef": {"lr": 0.5, "beta": 0.9, "phi": 5.0, "eps": 1.0},
}


@pytest.mark.parametrize("alg", ALL)
def test_converges_on_quadratic_with_gaussian_noise(alg):
    hist = History()
    cfg = config(
        alg,
        CONVERGE[alg],
        {"name": "ring", "n": 8},
        {"name": "gaussian", "scale": 0.1},
        steps=1500,
        problem={"name": "quadratic", "dim": 5, "condition": 5.0, "heterogeneity": 0.0},
    )
    cfg["run"]["eval_every"] = 1500
    make_loop(build_components(cfg), [hist]).run()
    start, end = hist.rows[0]["dist_to_opt"], hist.rows[-1]["dist_to_opt"]
    assert end < 0.1 * start, (start, end)


ROBUST = ["gt-nsgdm", "dsgd-n", "dsgd-gclip", "dsgd-cclip", "dsgd-clip", "sclip-ef"]


def cauchy_quartic(alg: str, params: dict) -> dict:
    return config(
        alg,
        params,
        {"name": "ring", "n": 10},
        {"name": "cauchy", "scale": 1.0},
        steps=2000,
        problem={"name": "quartic", "dim": 10},
    )


@pytest.mark.parametrize("alg", ROBUST)
def test_normalized_and_clipped_methods_stay_finite_under_cauchy_noise(alg):
    hist = History()
    cfg = cauchy_quartic(alg, {"lr": 0.01} if alg != "sclip-ef" else {"lr": 0.01, "phi": 1.0})
    make_loop(build_components(cfg), [hist]).run()
    assert all(np.isfinite(r["dist_to_opt"]) and r["dist_to_opt"] < 10.0 for r in hist.rows)


@pytest.mark.parametrize("alg", ["dsgd", "gt-dsgd"])
def test_dsgd_blows_up_under_cauchy_noise_and_the_engine_names_step_and_node(alg):
    loop = make_loop(build_components(cauchy_quartic(alg, {"lr": 0.01})))
    with pytest.raises(NonFiniteError) as err:
        loop.run()
    assert 0 <= err.value.node < 10 and 0 <= err.value.step < 2000
    assert f"step {err.value.step}" in str(err.value) and f"node {err.value.node}" in str(err.value)


# ---- schedules and validation ----------------------------------------------------------------------


def test_gt_nsgdm_theory_schedules():
    T, p = 10_000, 1.5
    known = ALGORITHMS.build("gt-nsgdm", {"theory": "known-p", "p": p, "lr": 1.0}, steps=T)
    assert 1 - known.beta == pytest.approx(T ** (-p / (3 * p - 2)))
    assert known.lr == pytest.approx(T ** (-(2 * p - 1) / (3 * p - 2)))
    unknown = ALGORITHMS.build("gt-nsgdm", {"theory": "unknown-p", "lr": 2.0}, steps=T)
    assert 1 - unknown.beta == pytest.approx(T**-0.5)
    assert unknown.lr == pytest.approx(2.0 * T**-0.75)


@pytest.mark.parametrize(
    "alg,params,match",
    [
        ("dsgd", {"lr": -1.0}, "lr must be in"),
        ("dsgd", {"lr": 0.0}, "lr must be in"),
        ("gt-nsgdm", {"beta": 1.0}, "beta must be in"),
        ("gt-nsgdm", {"theory": "known"}, "theory must be one of .*did you mean 'known-p'"),
        ("gt-nsgdm", {"p": 2.5}, "p must be in"),
        ("dsgd-gclip", {"gamma": 0.0}, "gamma must be in"),
        ("dsgd-cclip", {"gamma": -2.0}, "gamma must be in"),
        ("gt-adam", {"beta2": 1.5}, "beta2 must be in"),
        ("gt-adam", {"eps": 0.0}, "eps must be in"),
        ("qg-dsgdm", {"beta": -0.1}, "beta must be in"),
        ("sclip-ef", {"phi": 0.0}, "phi must be in"),
        ("dsgd", {"warmup": -3}, "warmup must be in"),
        ("dsgd", {"schedule": "cosin"}, "did you mean 'cosine'"),
    ],
)
def test_invalid_hyperparameters_fail_at_construction(alg, params, match):
    with pytest.raises((ValidationError, ConfigError), match=match):
        ALGORITHMS.build(alg, params, steps=10)


def test_unknown_algorithm_and_key_suggest_the_nearest():
    with pytest.raises(ConfigError, match="did you mean 'gt-nsgdm'"):
        ALGORITHMS.build("gt-nsgd", {}, steps=10)
    with pytest.raises(ConfigError, match="did you mean 'beta'"):
        ALGORITHMS.build("gt-nsgdm", {"betta": 0.9}, steps=10)
    with pytest.raises(ConfigError, match="expects|expected a number"):
        ALGORITHMS.build("dsgd", {"lr": "fast"}, steps=10)


def test_tracking_methods_reject_a_matrix_that_is_not_doubly_stochastic():
    cfg = config("gt-nsgdm", {}, {"name": "star", "n": 6, "weights": "uniform"})
    with pytest.raises(ValidationError, match="doubly stochastic|column"):
        build_components(cfg)
