"""Tests of the noise models (the laws of the GT-NSGDm paper's experiments, arXiv 2505.03736): laws against
scipy.stats, zero mean, purity, moments, validation.

Laws are checked by Kolmogorov–Smirnov tests on 20,000 draws at a fixed seed (p > 1e-3). For α-stable laws
other than the headline one, scipy's CDF (numerical integration, ~0.15 ms a point) is evaluated on a
grid of 1,001 sample quantiles and interpolated linearly: the CDF is monotone, so the interpolation error
is at most the CDF increment between grid points, ≈ 1/1000, against a KS critical value of ≈ 0.014.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
import torch

from tailtamer import rng
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.noise import NOISES, NoiseModel, _draws, build_noise, symmetric_lomax

N_KS = 20_000
P_MIN = 1e-3


def draws(name: str, params: dict, n: int = N_KS, seed: int = 1234, step: int = 0) -> np.ndarray:
    """``n`` draws as a flat numpy array (4 nodes × n/4 coordinates)."""
    model = build_noise(name, params)
    return model.sample(seed, torch.arange(4), step, n // 4).flatten().numpy()


def interpolated_cdf(dist, x: np.ndarray, points: int = 1001):
    """Linear interpolation of ``dist.cdf`` on ``points`` sample quantiles (including min and max)."""
    grid = np.unique(np.quantile(x, np.linspace(0.0, 1.0, points)))
    values = dist.cdf(grid)
    return lambda y: np.interp(y, grid, values)


# ---------------------------------------------------------------- laws (KS against scipy.stats)

KS_CASES = [
    ("gaussian", {}),
    ("gaussian", {"scale": 2.5}),
    ("student-t", {}),
    ("student-t", {"df": 3.0, "scale": 0.5}),
    ("student-t", {"df": 0.7, "scale": 2.0, "allow_no_mean": True}),
    ("student-t", {"df": 30.0}),
    ("cauchy", {}),
    ("cauchy", {"scale": 3.0}),
    ("pareto", {}),
    ("pareto", {"shape": 0.8, "scale": 2.0, "allow_no_mean": True}),
    ("alpha-stable", {"alpha": 2.0, "skew": 0.3, "scale": 1.5}),
]


@pytest.mark.parametrize("name,params", KS_CASES)
def test_ks_against_scipy(name, params):
    x = draws(name, params)
    assert scipy.stats.kstest(x, build_noise(name, params).scipy().cdf).pvalue > P_MIN


def test_ks_stable_headline_exact_cdf():
    """α = 1.5, β = 0.5 (the GT-NSGDm setting) against scipy's exact levy_stable CDF at every draw."""
    params = {"alpha": 1.5, "skew": 0.5, "scale": 1.0}
    x = draws("alpha-stable", params)
    assert scipy.stats.levy_stable.parameterization == "S1"
    assert scipy.stats.kstest(x, build_noise("alpha-stable", params).scipy().cdf).pvalue > P_MIN


@pytest.mark.parametrize(
    "params",
    [
        {"alpha": 1.5, "skew": 0.0, "scale": 1.0},
        {"alpha": 1.8, "skew": -0.8, "scale": 2.0},
        {"alpha": 1.2, "skew": 1.0, "scale": 0.5},
        {"alpha": 1.5, "skew": -1.0, "scale": 1.0},
    ],
)
def test_ks_stable_interpolated_cdf(params):
    x = draws("alpha-stable", params, seed=99)
    assert np.isfinite(x).all()
    cdf = interpolated_cdf(build_noise("alpha-stable", params).scipy(), x)
    assert scipy.stats.kstest(x, cdf).pvalue > P_MIN


def test_stable_alpha_two_is_gaussian_with_variance_two_scale_squared():
    scale = 1.5
    x = draws("alpha-stable", {"alpha": 2.0, "skew": 0.7, "scale": scale}, n=200_000)
    assert scipy.stats.kstest(x[:N_KS], scipy.stats.norm(scale=math.sqrt(2) * scale).cdf).pvalue > P_MIN
    assert x.var() == pytest.approx(2 * scale**2, rel=0.02)  # sd of the estimate ≈ sqrt(2/2e5) ≈ 0.3%


def test_stable_is_zero_mean_with_skew():
    """The sample mean of n draws is scale·n^(1/α − 1)·S_α = 0.01·scale·S_α for n = 1e6, α = 1.5; a 0.05·scale
    tolerance is 5 units of that stable variable, and excludes the S0 offset −β·tan(πα/2)·scale = +0.5·scale."""
    scale = 2.0
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5, "scale": scale})
    x = model.sample(7, torch.arange(10), 3, 100_000)
    assert abs(x.mean().item()) < 0.05 * scale
    assert x.median().item() < 0  # positive skew with zero mean pushes the median below 0


def test_scipy_stable_object_follows_parameterization():
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5, "scale": 2.0})
    """Under S0 scipy() shifts the location so the law (compared by CDF) is unchanged. (scipy's ``mean()``
    returns ``loc`` whatever the parametrisation, so it cannot be used for this check.)"""
    model = build_noise("alpha-stable", {"alpha": 1.5, "skew": 0.5, "scale": 2.0})
    x = np.array([-3.0, -0.5, 0.0, 1.0, 4.0])
    gen = scipy.stats.levy_stable
    assert gen.parameterization == "S1"
    assert model.scipy().mean() == pytest.approx(0.0, abs=1e-12)
    expected = model.scipy().cdf(x)
    try:
        gen.parameterization = "S0"
        assert np.allclose(model.scipy().cdf(x), expected, atol=1e-6)
    finally:
        gen.parameterization = "S1"


def test_pareto_magnitude_is_lomax_and_sign_symmetric():
    shape, scale = 1.5, 2.0
    x = draws("pareto", {"shape": shape, "scale": scale}, n=40_000)
    assert scipy.stats.kstest(np.abs(x), scipy.stats.lomax(shape, scale=scale).cdf).pvalue > P_MIN
    positive = x > 0
    # sign: binomial(40000, 1/2), sd = 100; magnitudes of the two signs are independent Lomax samples
    assert abs(int(positive.sum()) - len(x) // 2) < 400
    assert scipy.stats.ks_2samp(x[positive], -x[~positive]).pvalue > P_MIN


def test_symmetric_lomax_scipy_object():
    d = symmetric_lomax(2.0, scale=3.0)
    q = np.array([0.01, 0.3, 0.5, 0.9])
    assert np.allclose(d.cdf(d.ppf(q)), q)
    assert d.cdf(0.0) == pytest.approx(0.5)
    assert d.pdf(4.0) == pytest.approx(0.5 * scipy.stats.lomax(2.0, scale=3.0).pdf(4.0))


# ---------------------------------------------------------------- purity and determinism

PURITY_CASES = [(name, {}) for name in NOISES.names()] + [
    ("alpha-stable", {"alpha": 1.5, "skew": 0.5}),
    ("student-t", {"df": 0.5, "allow_no_mean": True}),
]


@pytest.mark.parametrize("d", [17, 5003])
@pytest.mark.parametrize("name,params", PURITY_CASES)
def test_subset_of_nodes_equals_rows_of_all_nodes(name, params, d):
    """Bitwise. Odd ``d`` puts a node's row at varying offsets of torch's vectorised loops (and 5003 × 10 is
    above the size at which torch splits work across threads): a kernel whose scalar tail differs from its
    vector body (torch's ``pow``) would fail this."""
    model = build_noise(name, params)
    full = model.sample(5, torch.arange(10), 11, d, call=2)
    for nodes in ([3, 7], [7, 3], [9], [3, 3, 0]):
        part = model.sample(5, torch.tensor(nodes), 11, d, call=2)
        assert torch.equal(part, full[nodes])


@pytest.mark.parametrize("name,params", PURITY_CASES)
def test_same_counters_same_draws_different_counters_different(name, params):
    model = build_noise(name, params)
    nodes = torch.arange(3)
    a = model.sample(1, nodes, 4, 64, call=0)
    assert torch.equal(a, build_noise(name, params).sample(1, nodes, 4, 64, call=0))
    assert a.shape == (3, 64) and a.dtype == torch.float64
    if name == "none":
        assert not a.any()
        return
    for other in (model.sample(2, nodes, 4, 64), model.sample(1, nodes, 5, 64), model.sample(1, nodes, 4, 64, call=1)):
        assert not torch.equal(a, other)
    assert len(torch.unique(a)) > 60  # i.i.d. across nodes and coordinates


@pytest.mark.parametrize("name", NOISES.names())
def test_dtype_is_the_float64_draw_cast(name):
    model = build_noise(name, {})
    x32 = model.sample(0, torch.arange(2), 0, 100, dtype=torch.float32)
    assert x32.dtype == torch.float32
    assert torch.equal(x32, model.sample(0, torch.arange(2), 0, 100).to(torch.float32))


def test_uniform_at_matches_rng_uniform():
    nodes = torch.tensor([0, 5, 123456789, -3])
    for k in (0, 1, 7):
        full = _draws.uniform(42, k, nodes, 9, 17, call=3)
        rows, cols = torch.meshgrid(torch.arange(4), torch.arange(17), indexing="ij")
        at = _draws.uniform_at(42, k, nodes[rows.flatten()], cols.flatten(), 9, call=3)
        assert torch.equal(at.reshape(4, 17), full)
    assert torch.equal(_draws.uniform(42, 0, nodes, 9, 17), rng.uniform(42, _draws.sub_stream(0), nodes, 9, 17))


def test_student_t_rejection_redraws_are_used():
    """With 40,000 entries, ~21% are rejected in round 0 and some survive several rounds; all are filled."""
    x = build_noise("student-t", {"df": 4.0}).sample(3, torch.arange(4), 0, 10_000)
    assert torch.isfinite(x).all() and (x != 0).all()


# ---------------------------------------------------------------- moments

MOMENT_CASES = [
    ("none", {}, (True, True, math.inf)),
    ("gaussian", {"scale": 3.0}, (True, True, math.inf)),
    ("student-t", {"df": 1.5}, (True, False, 1.5)),
    ("student-t", {"df": 0.8, "allow_no_mean": True}, (False, False, 0.8)),
    ("student-t", {"df": 5.0}, (True, True, 5.0)),
    ("alpha-stable", {"alpha": 1.5, "skew": 0.5}, (True, False, 1.5)),
    ("alpha-stable", {"alpha": 2.0}, (True, True, math.inf)),
    ("pareto", {"shape": 2.0}, (True, False, 2.0)),
    ("pareto", {"shape": 3.5}, (True, True, 3.5)),
    ("pareto", {"shape": 0.5, "allow_no_mean": True}, (False, False, 0.5)),
    ("cauchy", {}, (False, False, 1.0)),
]


@pytest.mark.parametrize("name,params,expected", MOMENT_CASES)
def test_moments(name, params, expected):
    m = build_noise(name, params).moments()
    assert (m["mean"], m["variance"], m["max_moment"]) == expected
    assert isinstance(m["max_moment"], float)


def test_every_registered_model_is_a_noise_model_with_a_law():
    assert set(NOISES.names()) == {"none", "gaussian", "student-t", "alpha-stable", "pareto", "cauchy"}
    for name in NOISES.names():
        model = build_noise(name)
        assert isinstance(model, NoiseModel)
        assert (model.scipy() is None) == (name == "none")


# ---------------------------------------------------------------- validation

INVALID = [
    ("gaussian", {"scale": 0.0}, "scale"),
    ("gaussian", {"scale": -1.0}, "scale"),
    ("gaussian", {"scale": math.inf}, "scale"),
    ("gaussian", {"scale": math.nan}, "scale"),
    ("student-t", {"df": 0.0}, "df"),
    ("student-t", {"df": -2.0}, "df"),
    ("student-t", {"scale": 0.0}, "scale"),
    ("alpha-stable", {"alpha": 1.0}, "alpha"),
    ("alpha-stable", {"alpha": 0.5}, "alpha"),
    ("alpha-stable", {"alpha": 2.01}, "alpha"),
    ("alpha-stable", {"skew": 1.5}, "skew"),
    ("alpha-stable", {"skew": -1.01}, "skew"),
    ("alpha-stable", {"scale": -1.0}, "scale"),
    ("pareto", {"shape": 0.0}, "shape"),
    ("pareto", {"shape": -1.0}, "shape"),
    ("pareto", {"scale": 0.0}, "scale"),
    ("cauchy", {"scale": 0.0}, "scale"),
]


@pytest.mark.parametrize("name,params,param", INVALID)
def test_invalid_parameter_raises_validation_error_naming_it(name, params, param):
    with pytest.raises(ValidationError, match=rf"\b{param} must be"):
        build_noise(name, params)


def test_alpha_at_most_one_explains_why():
    with pytest.raises(ValidationError, match=r"alpha must be in \(1, 2\].*no mean"):
        build_noise("alpha-stable", {"alpha": 1.0})


@pytest.mark.parametrize(
    "name,param,value",
    [("student-t", "df", 1.0), ("student-t", "df", 0.5), ("pareto", "shape", 1.0), ("pareto", "shape", 0.3)],
)
def test_tail_index_at_most_one_has_no_mean_and_needs_an_opt_in(name, param, value):
    """Like α-stable with α ≤ 1: no mean, so refused unless ``allow_no_mean`` opts in (a stress test)."""
    with pytest.raises(ValidationError, match=rf"{param} = {value:g} ≤ 1 has no mean.*allow_no_mean"):
        build_noise(name, {param: value})
    model = build_noise(name, {param: value, "allow_no_mean": True})
    assert model.moments()["mean"] is False
    assert build_noise(name, {param: 1.0 + 1e-9}).moments()["mean"] is True


def test_unknown_name_and_key_suggest_the_nearest():
    with pytest.raises(ConfigError, match="did you mean 'student-t'"):
        build_noise("student_t", {})
    with pytest.raises(ConfigError, match="did you mean 'alpha-stable'"):
        build_noise("alpha_stable")
    with pytest.raises(ConfigError, match="did you mean 'skew'"):
        build_noise("alpha-stable", {"skw": 0.5})
    with pytest.raises(ConfigError):
        build_noise("alpha-stable", {"alpha": "big"})


@pytest.mark.parametrize("name,params", PURITY_CASES)
def test_blockwise_sampling_equals_one_whole_draw_bit_for_bit(name, params):
    """``sample`` computes large draws in row blocks (noise.base.BLOCK entries); the result equals the
    whole-array transform, in float64 and rounded once to float32, on a shape whose blocks end mid-array."""
    from tailtamer.noise.base import BLOCK

    model = build_noise(name, params)
    n, d = 2 * BLOCK // 997 + 3, 997
    nodes = torch.arange(n) + 5
    got64 = model.sample(3, nodes, 4, d, call=1)
    got32 = model.sample(3, nodes, 4, d, call=1, dtype=torch.float32)
    if name == "none":
        assert not got64.any() and got32.dtype == torch.float32
        return
    whole = model.standard(3, nodes, 4, d, 1) * model.scale if model.scale != 1.0 else model.standard(3, nodes, 4, d, 1)
    assert torch.equal(got64, whole) and torch.equal(got32, whole.to(torch.float32))


@pytest.mark.parametrize("k", [1, 2, 6])
def test_first_accepted_round_is_the_first_true_row_of_each_column(k):
    """The rejection samplers' first accepted round, on every column that accepts at all: the index argmax finds
    and the one a scalar scan finds (columns with none are the caller's to drop)."""
    from tailtamer.noise._draws import first_accepted

    ok = torch.rand(k, 5000, generator=torch.Generator().manual_seed(k)) < 0.3
    ok[:, :3] = False  # columns that never accept
    got, hit = first_accepted(ok), ok.any(0)
    assert torch.equal(got[hit], ok.to(torch.int8).argmax(0)[hit])
    scan = [next(j for j in range(k) if ok[j, c]) for c in range(200) if hit[c]]
    assert got[:200][hit[:200]].tolist() == scan and int(hit.sum()) > 1000
