"""Large topologies without dense matrices: CSR weights, ρ without densifying, validation on the non-zeros,
and simulator kernels that give the same floats for the same W whether it is stored dense or sparse."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from tailtamer.comm import SimulatedComm, kernels
from tailtamer.errors import ValidationError
from tailtamer.topology import build_topology, spectral_gap, validate_mixing
from tailtamer.topology.sparse import DENSE_MAX_N, as_csr
from tailtamer.topology.spectral import circulant_rho, hypercube_rho, lanczos_rho, sparse_rho, torus_rho

BIG = DENSE_MAX_N + 4  # the first sizes stored sparse (divisible by 4 for the torus)


@pytest.mark.parametrize(
    "name,n,params",
    [
        ("ring", 20, {}),
        ("ring", 20, {"k": 2}),
        ("ring", 50, {"k": 3, "weights": "uniform"}),
        ("exponential", 8, {"self_weight": 0.4}),
        ("exponential", 13, {}),
        ("torus", 12, {}),
        ("torus", 8, {"rows": 2}),
        ("torus", 7, {}),
        ("torus", 6, {"rows": 1}),
        ("hypercube", 2, {}),
        ("hypercube", 16, {}),
        ("hypercube", 64, {}),
        ("complete", 5, {}),
        ("star", 9, {}),
        ("star", 9, {"weights": "uniform"}),
        ("erdos-renyi", 30, {"p": 0.2}),
    ],
)
def test_rho_without_densifying_equals_the_svd(name, n, params):
    """Closed forms (circulant FFT, torus, hypercube) and Lanczos agree with the dense SVD to 1e-10."""
    topo = build_topology(name, n, params)
    W = topo.dense()
    svd = spectral_gap(W)
    assert sparse_rho(as_csr(W)) == pytest.approx(svd, abs=1e-10)
    assert lanczos_rho(as_csr(W)) == pytest.approx(svd, abs=1e-10)
    if topo.spectrum is not None:
        assert topo.spectrum() == pytest.approx(svd, abs=1e-12)


def test_closed_forms_by_hand():
    ring8 = np.array([1 / 3, 1 / 3, 0, 0, 0, 0, 0, 1 / 3])
    assert circulant_rho(ring8) == pytest.approx(1 / 3 + 2 / 3 * np.cos(np.pi / 4))
    assert hypercube_rho(8) == pytest.approx(0.5) and hypercube_rho(1) == 0.0
    assert torus_rho(3, 4) == pytest.approx(spectral_gap(build_topology("torus", 12).W))


@pytest.mark.parametrize(
    "name,params",
    [
        ("ring", {}),
        ("ring", {"k": 2}),
        ("torus", {}),
        ("star", {}),
        ("exponential", {}),
        ("erdos-renyi", {"p": 0.003}),
        ("star", {"weights": "uniform"}),
    ],
)
def test_large_topologies_are_sparse_valid_and_linear_in_edges(name, params):
    topo = build_topology(name, BIG, params)
    assert topo.sparse and isinstance(topo.W, sp.sparray)
    assert topo.W.nnz <= 2 * topo.edges + BIG  # stored: links (both ways) plus the diagonal
    requires = "row_stochastic" if params.get("weights") == "uniform" else "doubly_stochastic"
    validate_mixing(topo.W, requires=requires)
    if requires == "doubly_stochastic":  # ρ < 1 for a primitive doubly stochastic W
        assert 0.0 <= topo.rho < 1.0
    din, dout = topo.degrees()
    assert din.sum() == dout.sum() and len(din) == BIG
    assert topo.neighbours_in(1) == sorted(topo.neighbours_in(1))


def test_large_hypercube_and_ring_rho_match_the_formulas():
    cube = build_topology("hypercube", 8192)
    assert cube.sparse and cube.rho == pytest.approx(12 / 14)  # k = 13: (k − 1)/(k + 1)
    ring = build_topology("ring", BIG)
    assert ring.rho == pytest.approx((1 + 2 * np.cos(2 * np.pi / BIG)) / 3, abs=1e-14)


def test_sparse_weights_equal_the_dense_formulas():
    """Metropolis on a large star: hub–leaf 1/BIG and leaf self-weight 1 − 1/BIG, as the dense formula says."""
    W = build_topology("star", BIG).W
    assert W[0, 5] == pytest.approx(1 / BIG) and W[5, 5] == pytest.approx(1 - 1 / BIG)
    assert W[0, 0] == pytest.approx(1 / BIG)


def test_sparse_validation_names_the_bad_entry_and_the_disconnection():
    W = as_csr(build_topology("ring", BIG).W)
    bad = W.copy()
    bad[3, 4] = -0.1
    with pytest.raises(ValidationError, match=r"negative entry W\[3, 4\]"):
        validate_mixing(bad)
    cut = sp.block_diag([W, W], format="csr")
    with pytest.raises(ValidationError, match="disconnected"):
        validate_mixing(cut)
    off = W.copy()
    off[7, 7] = 0.5
    with pytest.raises(ValidationError, match="row 7 sums to"):
        validate_mixing(off)


@pytest.mark.parametrize(
    "name,n,params",
    [
        ("ring", 100, {"k": 2}),
        ("exponential", 100, {}),
        ("torus", 100, {}),
        ("erdos-renyi", 80, {"p": 0.05}),
        ("star", 70, {}),
    ],
)
@pytest.mark.parametrize("kind", kernels.KINDS)
def test_each_kernel_gives_the_same_floats_for_dense_and_sparse_storage(name, n, params, kind):
    W = build_topology(name, n, params).W
    z = torch.randn(n, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for dtype in (torch.float64, torch.float32):
        a = SimulatedComm(W, kernel=kind).mix(z.to(dtype))
        b = SimulatedComm(as_csr(W), kernel=kind).mix(z.to(dtype))
        assert torch.equal(a, b)
    assert kernels.choose(W) == kernels.choose(as_csr(W))
    assert SimulatedComm(W).edges == SimulatedComm(as_csr(W)).edges


def test_a_large_ring_mixes_with_wrapped_diagonals_and_preserves_the_mean():
    comm = SimulatedComm(build_topology("ring", 50_000).W)
    assert comm.kernel == "diagonals"
    z = torch.randn(50_000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = comm.mix(z)
    torch.testing.assert_close(y.mean(0), z.mean(0), rtol=0, atol=1e-12)
    torch.testing.assert_close(y[5], (z[4] + z[5] + z[6]) / 3, rtol=1e-15, atol=1e-15)


def test_build_topology_is_the_one_path_and_names_the_algorithm():
    from tailtamer.topology import build_topology as exported

    assert exported is build_topology
    with pytest.raises(ValidationError, match="cannot be used with algorithm 'gt-nsgdm'.*doubly"):
        build_topology("star", 5, {"weights": "uniform"}, requires="doubly_stochastic", algorithm="gt-nsgdm")
    with pytest.raises(ValidationError, match="no mixing matrix"):
        build_topology("server", 5)
