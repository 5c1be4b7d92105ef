"""BiClip, its threshold schedules, and the adaptive moment operators (algorithms.md §2)."""
from __future__ import annotations

import pytest
import torch

from tailtamer.operators import (adagrad_moment, adam_direction, adam_moments, biclip, biclip_thresholds, clip_coords,
                                 rmsprop_moment, scaled_direction)


def heavy(shape=(6, 50), seed=0) -> torch.Tensor:
    """Heavy-tailed test values with exact zeros and both signs."""
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(shape, generator=gen, dtype=torch.float64) / torch.rand(shape, generator=gen,
                                                                            dtype=torch.float64).pow(0.7)
    z[:, ::7] = 0.0
    return z


@pytest.mark.parametrize("u,d", [(1.0, 0.1), (0.5, 0.0), (2.0, 2.0), (3.0, 1e-3)])
def test_biclip_keeps_signs_bounds_magnitudes_and_zeros(u, d):
    z = heavy()
    out = biclip(z, u, d)
    nz = z != 0
    assert torch.equal(torch.sign(out), torch.sign(z))                 # signs kept, zeros stay zero
    assert torch.all(out[~nz] == 0)
    mag = out[nz].abs()
    assert torch.all(mag >= d) and torch.all(mag <= u)                  # magnitudes within [d, u]
    inside = nz & (z.abs() >= d) & (z.abs() <= u)
    assert torch.equal(out[inside], z[inside])                          # identity between the thresholds


def test_biclip_special_cases():
    z = heavy(seed=1)
    assert torch.equal(biclip(z, 0.7, 0.0), clip_coords(z, 0.7))        # d = 0: coordinate clipping
    assert torch.equal(biclip(z, 0.7, 0.7), 0.7 * torch.sign(z))        # d = u: scaled sign
    big = float(z.abs().max()) + 1
    assert torch.equal(biclip(z, big, 0.0), z)                          # thresholds outside the data: identity


def test_biclip_thresholds_schedules():
    assert biclip_thresholds(1.0, 0.2, 0.0, 0.0, 50) == (1.0, 0.2)      # constant
    us, ds = zip(*(biclip_thresholds(1.0, 0.5, 0.5, 0.5, t) for t in range(20)))
    assert all(a < b for a, b in zip(us, us[1:]))                       # u_t grows
    assert all(a > b for a, b in zip(ds, ds[1:]))                       # d_t shrinks
    assert us[3] == pytest.approx(2.0) and ds[3] == pytest.approx(0.25)
    assert biclip_thresholds(1.0, 1.0, 0.0, -1.0, 5)[1] == 1.0          # d_t never exceeds u_t


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
