"""Error feedback only with contracting compressors (issue 29, item 3): EF (Karimireddy et al. 2019) and EF21
(Richtárik et al. 2021) assume E‖C(x) − x‖² ≤ (1 − δ)‖x‖²; an unbiased compressor with ω ≥ 1 is refused in
one line naming the scaled form C/(1+ω), which ``scaled = true`` applies."""

from __future__ import annotations

import pytest
import torch

from tailtamer.algorithms.server.error_feedback import ErrorFeedback
from tailtamer.api import build, build_components
from tailtamer.compression import build_compressor
from tailtamer.compression.scaled import Scaled
from tailtamer.errors import ValidationError
from tailtamer.rng import Randomness

torch.set_num_threads(1)

D = 20


def config(alg: str, compression: dict, steps: int = 60, **hp) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": D, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": alg, "lr": 0.05, **hp},
        "topology": {"name": "server", "n": 4},
        "noise": {"name": "gaussian", "scale": 0.1},
        "compression": compression,
        "run": {"steps": steps, "eval_every": steps, "check_finite": False},
    }


@pytest.mark.parametrize("alg", ["ef", "ef21"])
@pytest.mark.parametrize(
    "compression,omega",
    [
        ({"name": "rand-k", "k": 2}, "9"),
        ({"name": "bernoulli", "q": 0.25}, "3"),
        ({"name": "qsgd", "levels": 1}, "4.472"),
    ],
)
def test_an_unbiased_compressor_with_omega_at_least_one_is_refused_in_one_line(alg, compression, omega):
    with pytest.raises(ValidationError) as err:
        build_components(config(alg, compression))
    msg = str(err.value)
    assert "\n" not in msg and f"ω = {omega} ≥ 1 at d = {D}" in msg and "scaled = true" in msg
    assert f"{alg}: compressor '{compression['name']}'" in msg


@pytest.mark.parametrize("alg", ["ef", "ef21"])
def test_contracting_compressors_and_omega_below_one_are_accepted(alg):
    for comp in (
        {"name": "top-k", "k": 2},
        {"name": "qsgd", "levels": 1, "biased": True},
        {"name": "rand-k", "k": 11},
        {"name": "bernoulli", "q": 0.6},
        {"name": "scaled-sign"},
    ):
        build_components(config(alg, comp))


def test_the_scaled_form_is_c_over_one_plus_omega_and_contracts():
    c = build_compressor({"name": "rand-k", "k": 2})
    s = Scaled(c)
    assert s.delta(D) == 1 / (1 + 9) and not s.unbiased and s.bits(D) == c.bits(D) and s.random
    x = torch.randn(1, D, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    rng = Randomness(3, torch.tensor([0]), 5)
    assert torch.equal(s(x, rng, 0), c(x, rng, 0) * (1 / 10))
    with pytest.raises(ValidationError, match="unbiased"):
        Scaled(build_compressor({"name": "top-k", "k": 2}))


@pytest.mark.parametrize("alg", ["ef", "ef21"])
@pytest.mark.parametrize("compression", [{"name": "rand-k", "k": 2}, {"name": "bernoulli", "q": 0.25}])
def test_scaled_stays_bounded_where_the_unscaled_pair_diverged(alg, compression, monkeypatch):
    """The unscaled pair (the check bypassed, as the code ran before) blows up within 60 steps; the scaled
    one stays near the optimum's scale."""
    bounded = build(config(alg, compression, scaled=True)).run()["x"]
    assert bool(torch.isfinite(bounded).all()) and bounded.abs().max() < 10
    monkeypatch.setattr(ErrorFeedback, "check_dim", lambda self, d: None)
    x = build(config(alg, compression)).run()["x"]
    assert not bool(torch.isfinite(x).all()) or x.abs().max() > 1e10
