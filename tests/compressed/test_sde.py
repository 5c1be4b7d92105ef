"""The SDE lab: the DSignSGD drift in closed form for three tails, the discrete–SDE gap shrinking with η,
blow-up detection, (L0, L1) of the test problems, and ``tailtamer sde``."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tailtamer.cli.main import main as cli
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.noise import NOISES
from tailtamer.problems import PROBLEMS
from tailtamer.sde import LAB_METHODS, NoiseLaw, build_lab, run_lab

LAWS = [
    (NoiseLaw("gaussian", 0.7), {"name": "gaussian", "scale": 0.7}),
    (NoiseLaw("student-t", 0.7, 2.5), {"name": "student-t", "df": 2.5, "scale": 0.7}),
    (NoiseLaw("student-t", 1.3, 1.5), {"name": "student-t", "df": 1.5, "scale": 1.3}),
    (NoiseLaw("cauchy", 1.3, 1.0), {"name": "cauchy", "scale": 1.3}),
]
GRADS = torch.tensor([[-3.0, -0.8, -0.1, 0.0, 0.05, 0.4, 1.0, 2.5]], dtype=torch.float64)


@pytest.mark.parametrize("law,noise", LAWS, ids=lambda v: getattr(v, "label", ""))
def test_dsignsgd_drift_is_two_cdf_minus_one(law, noise):
    """b = −(2F(∂f/σ) − 1): against the noise model's own CDF (scipy), the closed forms, and the mean of
    sign(∂f + σz) over 400,000 draws from the same noise model the engine injects."""
    method = LAB_METHODS.build("dsignsgd", {}, law=law, workers=1)
    b, _ = method.drift_diffusion(GRADS)
    cdf = torch.from_numpy(
        NOISES.build(noise["name"], {k: v for k, v in noise.items() if k != "name"}).scipy().cdf(GRADS.numpy())
    )
    assert torch.allclose(-b, 2 * cdf - 1, rtol=0, atol=1e-12)
    closed = {
        "gaussian": torch.erf(GRADS / (math.sqrt(2) * law.sigma)),
        "cauchy": 2 / math.pi * torch.atan(GRADS / law.sigma),
    }.get(law.kind)
    if closed is not None:
        assert torch.allclose(-b, closed, rtol=0, atol=1e-12)
    model = NOISES.build(noise["name"], {k: v for k, v in noise.items() if k != "name"})
    z = model.sample(3, torch.arange(400000), 0, GRADS.shape[1])
    mc = torch.where(GRADS + z < 0, -1.0, 1.0).mean(0)
    assert (mc - (-b[0])).abs().max() < 4 / math.sqrt(400000)


def test_sign_drift_is_bounded_and_linear_near_the_optimum():
    """|b| ≤ 1 for every tail, and b ≈ −(2F′(0)/σ)∇f near 0 (a preconditioned gradient flow)."""
    tiny = torch.tensor([[1e-6]], dtype=torch.float64)
    for law, slope in (
        (NoiseLaw("gaussian", 2.0), 2 / math.sqrt(2 * math.pi) / 2.0),
        (NoiseLaw("cauchy", 2.0, 1.0), 2 / math.pi / 2.0),
    ):
        m = LAB_METHODS.build("dsignsgd", {}, law=law, workers=3)
        b, root = m.drift_diffusion(torch.tensor([[1e9, -1e9]], dtype=torch.float64))
        assert b.abs().max() <= 1 and root.max() <= 1 / math.sqrt(3) + 1e-15
        assert abs(float(m.drift_diffusion(tiny)[0]) / 1e-6 + slope) < 1e-6


def lab_config(method: dict, noise: dict, lr: float, paths: int = 20000, horizon: float = 2.0) -> dict:
    return {
        "problem": {"name": "quartic", "dim": 1, "x0": 2.0},
        "method": {**method, "lr": lr},
        "noise": noise,
        "sde": {"paths": paths, "horizon": horizon, "seed": 1, "record": 20},
    }


@pytest.mark.parametrize(
    "method,noise,x0",
    [
        ({"name": "dsignsgd", "workers": 1}, {"name": "cauchy", "scale": 0.3}, 2.0),
        ({"name": "dcsgd", "workers": 2, "omega": 1.0}, {"name": "student-t", "df": 5.0, "scale": 0.5}, 1.0),
    ],
)
def test_the_discrete_sde_gap_shrinks_as_eta_does(method, noise, x0):
    """max_t |E f_disc − E f_SDE| over t ∈ [0, 2], 20,000 paths each, for η = 0.2, 0.1, 0.05 (first-order
    weak approximation: the gap falls with η until the Monte-Carlo floor ~1e-4)."""
    gaps = []
    for eta in (0.2, 0.1, 0.05):
        cfg = lab_config(method, noise, eta)
        cfg["problem"]["x0"] = x0
        gaps.append(run_lab(build_lab(cfg))["gap"])
    assert gaps[0] > gaps[1] > gaps[2], gaps
    assert gaps[2] < 0.25 * gaps[0], gaps


def test_sde_moments_match_the_discrete_direction():
    """Drift and diffusion are the mean and standard deviation of one step's direction (400,000 draws)."""
    g = torch.tensor([[0.3, -1.5]], dtype=torch.float64).expand(400000, 2)
    for name, params, law in (
        ("dcsgd", {"omega": 4.0}, NoiseLaw("student-t", 0.5, 5.0)),
        ("dsignsgd", {}, NoiseLaw("cauchy", 1.0, 1.0)),
        ("dsgd", {}, NoiseLaw("gaussian", 2.0)),
    ):
        m = LAB_METHODS.build(name, params, law=law, workers=3)
        u = m.direction(g, np.random.default_rng(0))
        b, root = m.drift_diffusion(g[:1])
        assert torch.allclose(u.mean(0), -b[0], rtol=0, atol=5 * float(root.max()) / math.sqrt(400000)), name
        assert torch.allclose(u.std(0), root[0], rtol=0.02), name


def test_pre_scheduled_dsgd_blows_up_and_the_oracle_rule_does_not():
    """η x0² > 2 on the quartic: every constant-step path diverges (monotone blow-up, compression.md §5);
    the oracle rule η/(L0 + L1|∇f|) keeps every path."""
    cfg = lab_config({"name": "dsgd", "workers": 1}, {"name": "gaussian", "scale": 0.01}, 0.6, paths=50, horizon=30.0)
    res = run_lab(build_lab(cfg), sde=False)
    assert res["discrete"]["blow_up_fraction"] == 1.0
    cfg["method"].update(rule="oracle", L0=3.0, L1=3.0)
    res = run_lab(build_lab(cfg))
    assert res["discrete"]["blow_up_fraction"] == 0.0 and res["discrete"]["mean"][-1] < 0.05


@pytest.mark.parametrize("name,L", [("quartic", (3.0, 3.0)), ("cosh", (1.0, 1.0))])
def test_problems_are_l0_l1_smooth_with_the_stated_constants(name, L):
    """‖∇²f(x)‖₂ ≤ L0 + L1‖∇f(x)‖ on many random points (the Hessians are diagonal)."""
    p = PROBLEMS.build(name, {"dim": 3}, n=1)
    x = torch.randn(5000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    x.requires_grad_(True)
    g = p.local_grad(x, torch.zeros(1, dtype=torch.int64))
    hess_diag = torch.autograd.grad(g.sum(), x)[0]
    assert (hess_diag.abs().amax(1) <= L[0] + L[1] * g.norm(dim=1) + 1e-9).all()
    assert torch.allclose(g, torch.autograd.grad(p.local_loss(x, torch.zeros(1, dtype=torch.int64)).sum(), x)[0])
    if name == "cosh":
        assert PROBLEMS.get("cosh").smoothness == L


def test_bad_lab_configs_fail_early():
    with pytest.raises(ValidationError, match="finite noise variance"):
        run_lab(build_lab(lab_config({"name": "dsgd", "workers": 1}, {"name": "student-t", "df": 1.5}, 0.1, 10)))
    with pytest.raises(ConfigError, match="did you mean 'dsignsgd'"):
        build_lab(lab_config({"name": "dsignsdg"}, {"name": "gaussian"}, 0.1))
    with pytest.raises(ValidationError, match="did you mean 'cauchy'"):
        build_lab(lab_config({"name": "dsignsgd"}, {"name": "cauchi"}, 0.1))
    with pytest.raises(ConfigError, match="unknown SDE-lab section"):
        build_lab({"methd": {}})


def test_cli_writes_json_and_plot(tmp_path):
    cfg = tmp_path / "lab.toml"
    cfg.write_text(
        '[problem]\nname = "cosh"\ndim = 2\n[method]\nname = "dsignsgd"\nworkers = 2\nlr = 0.05\n'
        '[noise]\nname = "cauchy"\n[sde]\npaths = 200\nhorizon = 1.0\n'
    )
    assert cli(["sde", str(cfg), "--out", str(tmp_path / "out"), "--set", "sde.record=10"]) == 0
    res = json.loads((tmp_path / "out" / "sde.json").read_text())
    assert len(res["t"]) == 11 and res["t"][-1] == pytest.approx(1.0) and res["gap"] >= 0
    assert (tmp_path / "out" / "sde.png").stat().st_size > 1000


def test_every_cell_of_the_e5_study_is_a_valid_lab_config():
    """The E5 declaration (experiments/studies/compressed_sign_sde/) builds: every cell validates before anything
    runs."""
    from tailtamer.experiments.studies.compressed_sign_sde import TABLES

    cells = 0
    for table in TABLES:
        for row in table.rows:
            for col in table.cols:
                cfg = table.config(row, col)
                lab = build_lab(cfg)
                assert ("omega" in cfg["method"]) == (lab.method.name == "dcsgd")
                cells += 1
    assert cells > 100 and {t.name for t in TABLES} >= {
        "blow_up_omega0_d1",
        "blow_up_omega0_d10",
        "blow_up_law",
        "sde_match_d1",
        "sign_speedup",
    }
