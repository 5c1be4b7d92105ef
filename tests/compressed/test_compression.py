"""Compressors: the ω / δ / bias each one states, checked by averaging many draws or exactly; compact packets."""

from __future__ import annotations

import math

import pytest
import torch

from tailtamer.comm import SimulatedComm, packet_row_bytes
from tailtamer.compression import COMPRESSORS, build_compressor
from tailtamer.compression.bits import pack, unpack
from tailtamer.compression.sign import sign_pm
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.rng import Randomness

D = 12
X = torch.tensor([3.0, -1.0, 0.5, -4.0, 0.0, 2.0, -0.25, 1.5, -2.5, 0.75, 1.0, -0.1], dtype=torch.float64)


def draws(name: str, params: dict, m: int = 40000, x: torch.Tensor = X) -> torch.Tensor:
    """m independent draws of C(x): m 'nodes' of one step, each compressing the same row."""
    c = COMPRESSORS.build(name, params)
    rng = Randomness(seed=7, nodes=torch.arange(m), step=3)
    return c(x.expand(m, -1).clone(), rng, call=0)


UNBIASED = [
    ("bernoulli", {"q": 0.3}),
    ("rand-k", {"k": 3}),
    ("qsgd", {"levels": 1}),
    ("qsgd", {"levels": 15}),
    ("identity", {}),
]


@pytest.mark.parametrize("name,params", UNBIASED)
def test_unbiased_compressors_average_to_x_and_meet_their_omega(name, params):
    m = 40000
    out = draws(name, params, m)
    c = COMPRESSORS.build(name, params)
    assert c.unbiased
    err = ((out - X) ** 2).sum(1)
    omega = c.omega(D)
    sd = out.std(0) / math.sqrt(m)
    assert ((out.mean(0) - X).abs() <= 5 * sd + 1e-12).all()  # E C(x) = x
    bound = omega * float((X**2).sum())
    assert float(err.mean()) <= bound * 1.03 + 1e-12  # E‖C(x) − x‖² ≤ ω‖x‖²


@pytest.mark.parametrize("name,params", [("bernoulli", {"q": 0.3}), ("rand-k", {"k": 3})])
def test_sparsifier_variance_is_exactly_omega(name, params):
    """Bernoulli and rand-k attain E‖C(x) − x‖² = ω‖x‖² (not just ≤)."""
    err = ((draws(name, params) - X) ** 2).sum(1)
    want = COMPRESSORS.build(name, params).omega(D) * float((X**2).sum())
    assert abs(float(err.mean()) - want) < 4 * float(err.std()) / math.sqrt(len(err))


def test_rand_k_picks_every_subset_equally_often():
    out = draws("rand-k", {"k": 1}, 30000, torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    kept = (out != 0).to(torch.float64)
    assert (kept.sum(1) == 1).all()
    freq = kept.mean(0)
    assert ((freq - 1 / 3).abs() < 4 * math.sqrt(2 / 9 / 30000)).all()
    assert set(out[out != 0].tolist()) == {3.0, 6.0, 9.0}  # scaled by d/k = 3


def test_top_k_is_a_delta_contraction_exactly():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(200, 30, dtype=torch.float64, generator=gen) ** 3
    c = COMPRESSORS.build("top-k", {"fraction": 0.2})
    out = c(z)
    assert c.delta(30) == 6 / 30 and not c.unbiased
    assert (((out - z) ** 2).sum(1) <= (1 - c.delta(30)) * (z**2).sum(1) + 1e-12).all()
    kept = out != 0
    assert (kept.sum(1) == 6).all()
    assert (z.abs().masked_fill(kept, 0).amax(1) <= z.abs().masked_fill(~kept, math.inf).amin(1)).all()


def test_scaled_sign_error_is_norm_minus_l1_squared_over_d():
    gen = torch.Generator().manual_seed(1)
    z = torch.randn(50, 17, dtype=torch.float64, generator=gen)
    out = COMPRESSORS.build("scaled-sign", {})(z)
    want = (z**2).sum(1) - z.abs().sum(1) ** 2 / 17
    assert torch.allclose(((out - z) ** 2).sum(1), want, rtol=0, atol=1e-12)
    assert (want <= (1 - 1 / 17) * (z**2).sum(1) + 1e-12).all()


def test_sign_decodes_to_plus_minus_one_with_sign_zero_plus():
    z = torch.tensor([[0.0, -2.0, 3.0, -0.0, 1e-300, -1e-300, 5.0, 6.0, -7.0]], dtype=torch.float64)
    out = COMPRESSORS.build("sign", {})(z)
    assert out.tolist() == [[1.0, -1.0, 1.0, 1.0, 1.0, -1.0, 1.0, 1.0, -1.0]]
    assert torch.equal(out, sign_pm(z))


def test_qsgd_outputs_lie_on_the_level_grid_and_biased_variant_scales():
    c = COMPRESSORS.build("qsgd", {"levels": 4})
    rng = Randomness(0, torch.arange(1), 0)
    out = c(X.unsqueeze(0), rng)
    grid = out * 4 / X.norm()
    assert torch.allclose(grid, grid.round(), atol=1e-12)
    assert ((out == 0) | (torch.sign(out) == torch.sign(X))).all()
    b = COMPRESSORS.build("qsgd", {"levels": 4, "biased": True})
    assert torch.allclose(b(X.unsqueeze(0), rng), out / (1 + c.omega(D)), rtol=0, atol=1e-14)
    assert not b.unbiased and b.omega(D) is None and b.delta(D) == 1 / (1 + c.omega(D))
    assert c.omega(D) == min(D / 16, math.sqrt(D) / 4)


@pytest.mark.parametrize(
    "name,params,row_bytes",
    [
        ("identity", {}, 1000 * 8),
        ("bernoulli", {"q": 0.1}, 1000 * 8),  # random-length rows travel dense
        ("rand-k", {"fraction": 0.01}, 10 * (4 + 8)),  # int32 indices + float64 values
        ("top-k", {"k": 10}, 10 * (4 + 8)),
        ("sign", {}, 125),  # 1000 bits
        ("scaled-sign", {}, 125 + 8),
        ("qsgd", {"levels": 15}, 8 + 125 + 500),  # norm + sign bits + 4-bit levels
        ("qsgd", {"levels": 1}, 8 + 125 + 125),
        ("qsgd", {"levels": 7}, 8 + 125 + 375),  # 3-bit levels
    ],
)
def test_packets_are_compact_and_match_the_stated_bits(name, params, row_bytes):
    c = COMPRESSORS.build(name, params)
    z = torch.randn(3, 1000, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    packet = c.codec(Randomness(0, torch.arange(3), 0)).encode(z)
    assert packet_row_bytes(packet) == row_bytes
    assert math.isclose(c.bits(1000, 64) * 1000 / 8, row_bytes)


def test_comm_mean_counts_the_compressed_bytes():
    c = COMPRESSORS.build("sign", {})
    z = torch.randn(4, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    comm = SimulatedComm(None, n=4)
    m = comm.mean(z, codec=c.codec())
    assert torch.equal(m, sign_pm(z).mean(0, keepdim=True)) and comm.stats.bytes == 4 * 8


def test_draws_depend_on_node_step_and_call_only():
    """A process hosting rows 2 and 3 compresses them exactly as the simulator does (counter-based draws)."""
    c = COMPRESSORS.build("rand-k", {"k": 4})
    z = torch.randn(6, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    full = c(z, Randomness(1, torch.arange(6), 5), call=2)
    part = c(z[2:4], Randomness(1, torch.tensor([2, 3]), 5), call=2)
    assert torch.equal(full[2:4], part)
    assert not torch.equal(full, c(z, Randomness(1, torch.arange(6), 5), call=3))


def test_bit_packing_roundtrips_every_width():
    gen = torch.Generator().manual_seed(5)
    for width in range(1, 9):
        codes = torch.randint(0, 2**width, (3, 29), generator=gen)
        packed = pack(codes, width)
        assert packed.shape == (3, math.ceil(29 * width / 8))
        assert torch.equal(unpack(packed, width, 29), codes)


def test_three_bit_codes_form_one_msb_first_bit_stream():
    """7, 0, 5, 1 in 3 bits: 111 000 101 001 → 1110 0010 | 1001 0000 (4 zero bits of padding)."""
    packed = pack(torch.tensor([[7, 0, 5, 1]]), 3)
    assert packed.tolist() == [[0b11100010, 0b10010000]]
    assert unpack(packed, 3, 4).tolist() == [[7, 0, 5, 1]]


def test_qsgd_levels_take_ceil_log2_of_s_plus_one_bits():
    """s levels give ℓ ∈ [0, s]: ⌈log₂(s+1)⌉ bits, so s = 7 packs in 3 bits (it took 4 before issue 29)."""
    z = torch.randn(2, 1000, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    rng = Randomness(0, torch.arange(2), 0)
    for s, width in [(1, 1), (2, 2), (3, 2), (4, 3), (7, 3), (8, 4), (15, 4), (16, 5), (100, 7), (255, 8)]:
        c = COMPRESSORS.build("qsgd", {"levels": s})
        norm, signs, levels = c.codec(rng).encode(z)
        assert levels.shape == (2, math.ceil(1000 * width / 8)) and c.bits(1000, 64) == 1 + width + 64 / 1000
        assert torch.equal(c.codec(rng).decode((norm, signs, levels), z), c(z, rng))
        grid = c(z, rng) * s / z.norm(dim=1, keepdim=True)  # decoded: sign·ℓ with ℓ ∈ {0, …, s}
        assert torch.allclose(grid, grid.round(), atol=1e-9) and grid.abs().max() <= s


def test_bad_input_fails_early_with_a_clear_message():
    with pytest.raises(ConfigError, match="did you mean 'top-k'"):
        build_compressor({"name": "topk"})
    with pytest.raises(ValidationError, match="q must be"):
        build_compressor({"name": "bernoulli", "q": 0.0})
    with pytest.raises(ValidationError, match="grad.rng"):
        COMPRESSORS.build("rand-k", {}).codec()
    with pytest.raises(ValidationError, match="exceeds the dimension"):
        COMPRESSORS.build("top-k", {"k": 50})(torch.zeros(1, 10))
    assert build_compressor(None).name == "identity"
