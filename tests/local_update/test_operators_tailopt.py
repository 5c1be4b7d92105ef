"""BiClip, its threshold schedules, and the adaptive moment operators (docs/tailopt.md)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from tailtamer.operators import (
    adagrad_moment,
    adam_direction,
    adam_moments,
    biclip,
    biclip_thresholds,
    clip_coords,
    rmsprop_moment,
    scaled_direction,
)


def heavy(shape=(6, 50), seed=0) -> torch.Tensor:
    """Heavy-tailed test values with exact zeros and both signs."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(shape, generator=gen, dtype=torch.float64) / torch.rand(
        shape, generator=gen, dtype=torch.float64
    ).pow(0.7)
    z[:, ::7] = 0.0
    return z


@pytest.mark.parametrize("u,d", [(1.0, 0.1), (0.5, 0.0), (2.0, 2.0), (3.0, 1e-3)])
def test_biclip_keeps_signs_bounds_magnitudes_and_zeros(u, d):
    z = heavy()
    out = biclip(z, u, d)
    nz = z != 0
    assert torch.equal(torch.sign(out), torch.sign(z))  # signs kept, zeros stay zero
    assert torch.all(out[~nz] == 0)
    mag = out[nz].abs()
    assert torch.all(mag >= d) and torch.all(mag <= u)  # magnitudes within [d, u]
    inside = nz & (z.abs() >= d) & (z.abs() <= u)
    assert torch.equal(out[inside], z[inside])  # identity between the thresholds


def test_biclip_special_cases():
    z = heavy(seed=1)
    assert torch.equal(biclip(z, 0.7, 0.0), clip_coords(z, 0.7))  # d = 0: coordinate clipping
    assert torch.equal(biclip(z, 0.7, 0.7), 0.7 * torch.sign(z))  # d = u: scaled sign
    big = float(z.abs().max()) + 1
    assert torch.equal(biclip(z, big, 0.0), z)  # thresholds outside the data: identity


def test_biclip_thresholds_schedules():
    assert biclip_thresholds(1.0, 0.2, 0.0, 0.0, 50) == (1.0, 0.2)  # constant
    us, ds = zip(*(biclip_thresholds(1.0, 0.5, 0.5, 0.5, t) for t in range(20)))
    assert all(a < b for a, b in itertools.pairwise(us))  # u_t grows
    assert all(a > b for a, b in itertools.pairwise(ds))  # d_t shrinks
    assert us[3] == pytest.approx(2.0) and ds[3] == pytest.approx(0.25)
    assert biclip_thresholds(1.0, 1.0, 0.0, -1.0, 5)[1] == 1.0  # d_t never exceeds u_t


def _run_torch(opt_cls, grads, **kw):
    p = torch.zeros_like(grads[0], requires_grad=True)
    opt = opt_cls([p], lr=1.0, **kw)
    out = []
    for g in grads:
        before = p.detach().clone()
        p.grad = g.clone()
        opt.step()
        out.append(before - p.detach())
    return out


def test_adaptive_directions_equal_torch_optim():
    """With lr = 1 the change of a torch.optim parameter is exactly the direction of our operators."""
    grads = [heavy((3, 8), seed=s) for s in range(6)]
    b1, b2, eps = 0.8, 0.95, 1e-3
    m = v = torch.zeros_like(grads[0])
    ref = _run_torch(torch.optim.Adam, grads, betas=(b1, b2), eps=eps)
    for k, (g, r) in enumerate(zip(grads, ref), start=1):
        m, v = adam_moments(m, v, g, b1, b2)
        torch.testing.assert_close(adam_direction(m, v, k, b1, b2, eps), r, rtol=1e-12, atol=1e-14)
    # per-row step counts (tensor k) give the same as scalar k
    k = torch.full((3, 1), 6.0, dtype=torch.float64)
    torch.testing.assert_close(adam_direction(m, v, k, b1, b2, eps), adam_direction(m, v, 6, b1, b2, eps))

    v = torch.zeros_like(grads[0])
    for g, r in zip(grads, _run_torch(torch.optim.RMSprop, grads, alpha=b2, eps=eps)):
        v = rmsprop_moment(v, g, b2)
        torch.testing.assert_close(scaled_direction(g, v, eps), r, rtol=1e-12, atol=1e-14)
    v = torch.zeros_like(grads[0])
    for g, r in zip(grads, _run_torch(torch.optim.Adagrad, grads, eps=eps)):
        v = adagrad_moment(v, g)
        torch.testing.assert_close(scaled_direction(g, v, eps), r, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------- registered transforms
from tailtamer.errors import ConfigError, ValidationError  # noqa: E402
from tailtamer.operators import TRANSFORMS, chain  # noqa: E402
from tailtamer.registry import Composite, Part, Registry  # noqa: E402

TORCH_FORMS = {  # transform (and settings) → the torch.optim optimizer whose lr = 1 step is its direction
    "identity": ({}, torch.optim.SGD, {}),
    "momentum": ({"momentum": 0.7, "nesterov": True}, torch.optim.SGD, {"momentum": 0.7, "nesterov": True}),
    "adam": ({"beta1": 0.8, "beta2": 0.95, "eps": 1e-3}, torch.optim.Adam, {"betas": (0.8, 0.95), "eps": 1e-3}),
    "outer-adam": ({"form": "torch"}, torch.optim.Adam, {"betas": (0.9, 0.99), "eps": 1e-3}),  # its variant
    "rmsprop": ({"beta2": 0.9}, torch.optim.RMSprop, {"alpha": 0.9, "eps": 1e-8}),
    "outer-rmsprop": ({}, torch.optim.RMSprop, {"alpha": 0.99, "eps": 1e-3}),
    "adagrad": ({}, torch.optim.Adagrad, {"eps": 1e-10}),
    "outer-adagrad": ({}, torch.optim.Adagrad, {"eps": 1e-3}),
}


def _directions(T, grads, x=None):
    state, out = T.init(grads[0]), []
    for k, g in enumerate(grads, start=1):
        d, state = T.update(g, state, t=k - 1, k=k, x=x)
        out.append(d)
    return out, state


@pytest.mark.parametrize("name", sorted(TORCH_FORMS))
def test_transform_equals_torch_optim(name):
    """Each stateful transform, updated k = 1, 2, … times, gives torch.optim's step with lr = 1."""
    ours, theirs, kw = TORCH_FORMS[name]
    grads = [heavy((3, 8), seed=s) for s in range(6)]
    got, _ = _directions(TRANSFORMS.build(name, ours), grads)
    for a, b in zip(got, _run_torch(theirs, grads, **kw)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


def test_adamw_adds_decoupled_weight_decay():
    grads, x = [heavy((2, 5), seed=s) for s in range(3)], heavy((2, 5), seed=9)
    a, _ = _directions(TRANSFORMS.build("adamw", {"weight_decay": 0.1}), grads, x)
    b, _ = _directions(TRANSFORMS.build("adam", {}), grads, x)
    for u, v in zip(a, b):
        torch.testing.assert_close(u, v + 0.1 * x, rtol=0, atol=0)


def test_outer_adam_default_is_fedadam_two_rounds_by_hand():
    """FedAdam (Reddi et al. 2021 Alg. 2), TailOPT's outer Adam: β₁ = 0.5, β₂ = 0.75, τ = 0.5, v₋₁ = τ² = 0.25,
    Δ₁ = (2, −1), Δ₂ = (1, 3):
    round 1: m = (1, −0.5), v = 0.75·0.25 + 0.25·(4, 1) = (1.1875, 0.4375), d = m/(√v + 0.5);
    round 2: m = (1, 1.25), v = 0.75·v + 0.25·(1, 9) = (1.140625, 2.578125), d = m/(√v + 0.5).
    torch's form (bias-corrected, v₀ = 0) gives m̂/(√v̂ + τ) = (2/2.5, −1/1.5) in round 1 instead."""
    T = TRANSFORMS.build("outer-adam", {"beta1": 0.5, "beta2": 0.75, "eps": 0.5})
    assert T.form == "fedopt"
    d1 = torch.tensor([[2.0, -1.0]], dtype=torch.float64)
    d2 = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    s = T.init(d1)
    assert s["v"].tolist() == [[0.25, 0.25]] and s["m"].tolist() == [[0.0, 0.0]]
    a, s = T.update(d1, s, k=1)
    assert s["v"].tolist() == [[1.1875, 0.4375]]
    expect1 = [1 / (math.sqrt(1.1875) + 0.5), -0.5 / (math.sqrt(0.4375) + 0.5)]
    assert a[0].tolist() == pytest.approx(expect1, rel=1e-15, abs=0)
    b, s = T.update(d2, s, k=2)
    assert s["m"].tolist() == [[1.0, 1.25]] and s["v"].tolist() == [[1.140625, 2.578125]]
    expect2 = [1 / (math.sqrt(1.140625) + 0.5), 1.25 / (math.sqrt(2.578125) + 0.5)]
    assert b[0].tolist() == pytest.approx(expect2, rel=1e-15, abs=0)
    torch_form = TRANSFORMS.build("outer-adam", {"beta1": 0.5, "beta2": 0.75, "eps": 0.5, "form": "torch"})
    c, _ = torch_form.update(d1, torch_form.init(d1), k=1)
    assert c[0].tolist() == pytest.approx([2 / 2.5, -1 / 1.5], rel=1e-15)
    with pytest.raises(ValidationError, match="form must be one of 'fedopt', 'torch'"):
        TRANSFORMS.build("outer-adam", {"form": "reddi"})


@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_every_transform_keeps_its_state_layout_and_round_trips_its_hyperparameters(name):
    T = TRANSFORMS.build(name, {})
    g = heavy((4, 7))
    state = T.init(g)
    assert sorted(state) == sorted(T.buffers)
    for k in range(1, 4):
        d, new = T.update(g * k, state, t=k, k=k, x=g)
        assert d.shape == g.shape and d.dtype == g.dtype and bool(torch.isfinite(d).all())
        assert {b: (v.shape, v.dtype) for b, v in new.items()} == {b: (v.shape, v.dtype) for b, v in state.items()}
        state = new
    assert T.name == name
    again = TRANSFORMS.build(name, T.hyperparameters())
    assert again.hyperparameters() == T.hyperparameters()


def test_chain_equals_the_pieces_applied_by_hand():
    g = heavy((3, 5))
    clip, mom = TRANSFORMS.build("biclip", {"u": 0.5, "d": 0.1}), TRANSFORMS.build("momentum", {"momentum": 0.9})
    T = chain(clip, mom)
    state = T.init(g)
    m = mom.init(g)
    for t in range(3):
        d, state = T.update(g * (t + 1), state, t=t)
        e, m = mom.update(clip.update(g * (t + 1), {}, t=t)[0], m, t=t)
        assert torch.equal(d, e) and torch.equal(state["1.m"], m["m"])


@pytest.mark.parametrize(
    "name,params,message",
    [
        ("biclip", {"u": 1.0, "d": 2.0}, "biclip: d must be ≤ u"),
        ("adam", {"beta1": 1.0}, "adam: beta1 must be in"),
        ("momentum", {"nesterov": True}, "momentum: nesterov needs momentum > 0"),
        ("l2clip", {"gamma": -1.0}, "l2clip: gamma must be in"),
    ],
)
def test_transform_hyperparameters_are_validated_at_construction(name, params, message):
    with pytest.raises(ValidationError, match=message):
        TRANSFORMS.build(name, params)
    with pytest.raises(
        ValidationError,
        match=message.replace(f"{name}: ", "alg: outer_")
        .replace(" u", " outer_u")
        .replace(" momentum >", " outer_momentum >"),
    ):
        TRANSFORMS.build(name, params, owner="alg", prefix="outer_")


# ------------------------------------------------------------------------------------------- composite entries
def test_composite_schema_is_the_union_of_its_parts_with_prefixes():
    reg: Registry = Registry("thing", context=("steps",))

    def base(steps: int, *, name: str, inner, outer, lr: float = 0.1):
        return name, inner, outer, lr

    reg.register("pair")(
        Composite(
            base,
            {"inner": Part(TRANSFORMS, "biclip"), "outer": Part(TRANSFORMS, "momentum", prefix="outer_")},
            {"outer_momentum": 0.5},
        )
    )
    params = reg.params("pair")
    assert list(params) == ["lr", "u", "d", "u_growth", "d_decay", "outer_momentum", "outer_nesterov"]
    assert params["outer_momentum"].default == 0.5 and params["u"].default == 1.0
    name, inner, outer, lr = reg.build("pair", {"u": 2.0}, steps=3)
    assert (name, inner.u, inner.d, outer.momentum, lr) == ("pair", 2.0, 0.01, 0.5, 0.1)
    with pytest.raises(ConfigError, match="did you mean 'outer_momentum'"):
        reg.validate("pair", {"outer_momentun": 0.1})
    with pytest.raises(ValidationError, match="pair: outer_nesterov needs outer_momentum > 0"):
        reg.build("pair", {"outer_nesterov": True, "outer_momentum": 0.0}, steps=3)
    with pytest.raises(ValueError, match="exposed twice"):
        reg.register("clash")(
            Composite(base, {"inner": Part(TRANSFORMS, "l2clip"), "outer": Part(TRANSFORMS, "l2clip")})
        )
    with pytest.raises(ValueError, match="unknown keys"):
        reg.register("typo")(
            Composite(
                base,
                {"inner": Part(TRANSFORMS, "l2clip"), "outer": Part(TRANSFORMS, "l2clip", prefix="outer_")},
                {"gama": 1.0},
            )
        )
    assert reg.names() == ["pair"]  # a rejected entry is not registered


def test_registering_a_class_gives_it_its_name_once():
    reg: Registry = Registry("thing")

    class Base:
        name = ""

    class A(Base):
        pass

    class B(Base):
        name = "bee"

    reg.register("a")(A)
    assert A.name == "a" and Base.name == ""
    with pytest.raises(ValueError, match="says its name is 'bee'"):
        reg.register("b")(B)
    with pytest.raises(ValueError, match="registered twice"):
        reg.register("a")(Base)
