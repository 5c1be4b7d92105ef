"""Tests of tailtamer.topology: builders, weightings, validation, spectral gap, Topology methods."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tailtamer.errors import ConfigError, DataNotFoundError, ValidationError
from tailtamer.topology import (
    TOPOLOGIES,
    Topology,
    build_topology,
    is_doubly_stochastic,
    metropolis_weights,
    period,
    spectral_gap,
    uniform_weights,
    validate_mixing,
)

UNDIRECTED = ["ring", "complete", "torus", "star", "hypercube", "erdos-renyi"]
SIZES = {
    "ring": [1, 2, 3, 5, 8, 20],
    "complete": [1, 2, 6, 9],
    "torus": [1, 2, 4, 6, 9, 12, 16, 7],
    "star": [1, 2, 3, 10],
    "hypercube": [1, 2, 4, 8, 32],
    "erdos-renyi": [1, 2, 5, 12, 30],
    "exponential": [1, 2, 3, 5, 8, 13, 16],
}


# --------------------------------------------------------------------------- spectral gap (ρ) values


def test_rho_ring_8_metropolis() -> None:
    # Metropolis on the cycle: w = 1/3; ρ = 1/3 + 2/3·cos(2π/8).
    rho = build_topology("ring", 8).rho
    assert round(rho, 4) == 0.8047
    assert rho == pytest.approx(1 / 3 + 2 / 3 * math.cos(2 * math.pi / 8), abs=1e-12)


def test_rho_ring_20_k2() -> None:
    rho = build_topology("ring", 20, {"k": 2}).rho
    assert round(rho, 3) == 0.904
    expected = (1 + 2 * math.cos(2 * math.pi / 20) + 2 * math.cos(4 * math.pi / 20)) / 5
    assert rho == pytest.approx(expected, abs=1e-12)


def test_rho_exponential_8_self_weight() -> None:
    topo = build_topology("exponential", 8, {"self_weight": 0.4})
    assert round(topo.rho, 4) == 0.6
    W = topo.W
    # Row i receives from i-1, i-2, i-4 (mod 8) with weight 0.2 each, and keeps 0.4.
    for i in range(8):
        assert W[i, i] == pytest.approx(0.4)
        assert sorted(topo.neighbours_in(i)) == sorted({(i - 1) % 8, (i - 2) % 8, (i - 4) % 8})
        for j in topo.neighbours_in(i):
            assert W[i, j] == pytest.approx(0.2)
        assert sorted(topo.neighbours_out(i)) == sorted({(i + 1) % 8, (i + 2) % 8, (i + 4) % 8})


def test_rho_complete_is_zero() -> None:
    for n in (1, 2, 5, 16):
        topo = build_topology("complete", n)
        assert abs(topo.rho) < 1e-12
        np.testing.assert_allclose(topo.W, np.full((n, n), 1 / n), atol=1e-15)


def test_spectral_gap_function_and_symmetric_equals_slem() -> None:
    W = build_topology("torus", 12).W
    eig = np.sort(np.abs(np.linalg.eigvalsh(W)))[::-1]
    assert spectral_gap(W) == pytest.approx(eig[1], abs=1e-12)  # symmetric: ρ = |λ₂|


def test_rho_is_cached() -> None:
    topo = build_topology("ring", 8)
    first = topo.rho
    assert "rho" in topo.__dict__ and topo.rho is first


# --------------------------------------------------------------------------- builders


@pytest.mark.parametrize("name", UNDIRECTED)
def test_undirected_metropolis_symmetric_doubly_stochastic(name: str) -> None:
    for n in SIZES[name]:
        topo = build_topology(name, n)
        W = topo.W
        assert W.shape == (n, n)
        assert topo.directed is False
        np.testing.assert_allclose(W, W.T, atol=0)
        np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(W.sum(axis=0), 1.0, atol=1e-12)
        assert is_doubly_stochastic(W)
        assert np.all(W >= 0) and np.all(np.diag(W) > 0)
        assert topo.rho < 1 - 1e-9 or n == 1
        # Metropolis rule, edge by edge.
        deg = np.array([len(topo.neighbours_in(i)) for i in range(n)])
        for i in range(n):
            for j in topo.neighbours_in(i):
                assert W[i, j] == pytest.approx(1 / (1 + max(deg[i], deg[j])))


@pytest.mark.parametrize("name", UNDIRECTED)
def test_undirected_uniform_row_stochastic(name: str) -> None:
    for n in SIZES[name]:
        topo = build_topology(name, n, {"weights": "uniform"})
        W = topo.W
        np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-12)
        for i in range(n):
            nbrs = topo.neighbours_in(i)
            np.testing.assert_allclose(W[i, nbrs + [i]], 1 / (1 + len(nbrs)))


def test_uniform_star_is_not_doubly_stochastic_but_regular_ring_is() -> None:
    star = build_topology("star", 5, {"weights": "uniform"}).W
    assert not is_doubly_stochastic(star)
    assert star.sum(axis=0)[0] == pytest.approx(1 / 5 + 4 * 1 / 2)  # hub column
    ring = build_topology("ring", 7, {"weights": "uniform"}).W  # 2-regular
    assert is_doubly_stochastic(ring)


def test_n_equals_one_gives_identity_everywhere() -> None:
    for name in [*UNDIRECTED, "exponential"]:
        np.testing.assert_array_equal(build_topology(name, 1).W, [[1.0]])


def test_ring_structure() -> None:
    topo = build_topology("ring", 10, {"k": 2})
    assert topo.edges == 20
    assert topo.neighbours_in(0) == [1, 2, 8, 9]
    np.testing.assert_allclose(topo.W[0, [0, 1, 2, 8, 9]], 0.2)
    # n = 2 degrades to the complete graph.
    np.testing.assert_allclose(build_topology("ring", 2).W, [[0.5, 0.5], [0.5, 0.5]])
    # k = (n-1)/2 for odd n is the complete graph.
    np.testing.assert_allclose(build_topology("ring", 7, {"k": 3}).W, np.full((7, 7), 1 / 7))


@pytest.mark.parametrize("n,k", [(8, 0), (8, 4), (5, 3), (2, 2), (1, 2)])
def test_ring_bad_k(n: int, k: int) -> None:
    with pytest.raises(ValidationError, match=r"k \(neighbours on each side\) must be an integer in"):
        build_topology("ring", n, {"k": k})


def test_torus_structure() -> None:
    t = build_topology("torus", 12)  # most square: 3 × 4
    assert t.edges == 24 and all(len(t.neighbours_in(i)) == 4 for i in range(12))
    # node 0 = (0,0): neighbours (0,1)=1, (0,3)=3, (1,0)=4, (2,0)=8
    assert t.neighbours_in(0) == [1, 3, 4, 8]
    # a side of 2: duplicates collapse, 2 × 4 torus has 3 distinct neighbours per node
    t2 = build_topology("torus", 8, {"rows": 2})
    assert all(len(t2.neighbours_in(i)) == 3 for i in range(8))
    assert t2.edges == 12
    np.testing.assert_allclose(t2.W[0, t2.neighbours_in(0)], 0.25)
    # prime n: 1 × n torus is the ring
    np.testing.assert_allclose(build_topology("torus", 7).W, build_topology("ring", 7).W)
    with pytest.raises(ValidationError, match=r"rows=5 does not divide n=12; valid rows: 1, 2, 3, 4, 6, 12"):
        build_topology("torus", 12, {"rows": 5})


def test_star_structure() -> None:
    t = build_topology("star", 6)
    assert t.neighbours_in(0) == [1, 2, 3, 4, 5]
    assert all(t.neighbours_in(i) == [0] for i in range(1, 6))
    assert t.W[0, 3] == pytest.approx(1 / 6) and t.W[3, 3] == pytest.approx(5 / 6)
    assert t.W[0, 0] == pytest.approx(1 / 6)
    assert t.edges == 5


def test_hypercube_structure() -> None:
    t = build_topology("hypercube", 16)
    for i in range(16):
        assert t.neighbours_in(i) == sorted(i ^ (1 << b) for b in range(4))
    np.testing.assert_allclose(np.diag(t.W), 0.2)
    assert t.edges == 16 * 4 // 2
    assert t.rho == pytest.approx(1 - 2 / 5)  # eigenvalues (1 + 4 - 2·w)/5 → second is 3/5


@pytest.mark.parametrize("n", [3, 6, 12, 100])
def test_hypercube_rejects_non_power_of_two(n: int) -> None:
    with pytest.raises(ValidationError, match=rf"n must be a power of 2, got n={n} \(nearest: "):
        build_topology("hypercube", n)


def test_exponential_directed_doubly_stochastic() -> None:
    for n in SIZES["exponential"]:
        topo = build_topology("exponential", n)
        W = topo.W
        assert topo.directed is True
        assert is_doubly_stochastic(W)
        m = (n - 1).bit_length()  # ⌊log2(n-1)⌋ + 1 in-neighbours
        for i in range(n):
            assert len(topo.neighbours_in(i)) == m
            np.testing.assert_allclose(W[i, [i, *topo.neighbours_in(i)]], 1 / (m + 1))
        # circulant: each row is the previous one shifted by one
        np.testing.assert_allclose(np.roll(W[0], 1), W[1 % n])
    W16 = build_topology("exponential", 16).W
    assert not np.allclose(W16, W16.T)  # genuinely directed
    assert build_topology("exponential", 16).edges == 16 * 4


@pytest.mark.parametrize("s", [0.0, 1.0, -0.1, 1.5])
def test_exponential_bad_self_weight(s: float) -> None:
    with pytest.raises(ValidationError, match=r"self_weight must be in \(0, 1\)"):
        build_topology("exponential", 8, {"self_weight": s})


def test_erdos_renyi_seeded_and_connected() -> None:
    a = build_topology("erdos-renyi", 30, {"p": 0.15, "seed": 3})
    b = build_topology("erdos-renyi", 30, {"p": 0.15, "seed": 3})
    c = build_topology("erdos-renyi", 30, {"p": 0.15, "seed": 4})
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.array_equal(a.W, c.W)
    assert a.rho < 1 - 1e-9  # connected ⇒ ρ < 1 for a symmetric W with positive diagonal
    from scipy.sparse.csgraph import connected_components

    assert connected_components(a.W > 0, directed=False)[0] == 1
    # average degree near p(n-1) (wide tolerance: one draw)
    assert 2 < a.edges * 2 / 30 < 8


def test_erdos_renyi_gives_up_with_clear_error() -> None:
    with pytest.raises(ValidationError, match=r"no connected graph with n=200, p=0.001 in 1000 draws"):
        build_topology("erdos-renyi", 200, {"p": 0.001})


def test_erdos_renyi_bad_p() -> None:
    with pytest.raises(ValidationError, match=r"p must be in \(0, 1\]"):
        build_topology("erdos-renyi", 10, {"p": 0.0})


# --------------------------------------------------------------------------- user matrices

LAZY3 = [[0.5, 0.5, 0.0], [0.25, 0.5, 0.25], [0.0, 0.5, 0.5]]  # row-stochastic, not symmetric


def test_matrix_inline_values() -> None:
    topo = build_topology("matrix", 0, {"values": LAZY3})
    np.testing.assert_array_equal(topo.W, np.array(LAZY3))
    assert topo.n == 3 and topo.directed is True
    assert not is_doubly_stochastic(topo.W)
    sym = build_topology("matrix", 2, {"values": [[0.75, 0.25], [0.25, 0.75]]})
    assert sym.directed is False and sym.rho == pytest.approx(0.5)


def test_matrix_from_npy_and_csv(tmp_path) -> None:
    W = build_topology("ring", 6).W
    npy = tmp_path / "w.npy"
    np.save(npy, W)
    csv = tmp_path / "w.csv"
    np.savetxt(csv, W, delimiter=",", fmt="%.17g")
    a = build_topology("matrix", 6, {"path": str(npy)})
    b = build_topology("matrix", 0, {"path": str(csv)})
    np.testing.assert_array_equal(a.W, W)
    np.testing.assert_allclose(b.W, W, atol=0)
    assert a.directed is False and b.directed is False
    assert a.rho == pytest.approx(build_topology("ring", 6).rho)


def test_matrix_adjacency_with_metropolis_weights() -> None:
    adj = [[0, 1, 0, 0], [1, 0, 1, 1], [0, 1, 0, 0], [0, 1, 0, 0]]  # star with hub 1
    topo = build_topology("matrix", 4, {"values": adj, "weights": "metropolis"})
    assert is_doubly_stochastic(topo.W)
    assert topo.W[1, 0] == pytest.approx(1 / 4) and topo.W[0, 0] == pytest.approx(3 / 4)


def test_matrix_missing_file_names_path(tmp_path) -> None:
    missing = tmp_path / "nope" / "W.npy"
    with pytest.raises(DataNotFoundError, match=r"file not found: .*nope[/\\]W\.npy"):
        build_topology("matrix", 0, {"path": str(missing)})


def test_matrix_errors(tmp_path) -> None:
    with pytest.raises(ValidationError, match="exactly one of 'path'.*got neither"):
        build_topology("matrix", 0, {})
    bad = tmp_path / "w.txt"
    bad.write_text("1")
    with pytest.raises(ValidationError, match="exactly one of 'path'.*got both"):
        build_topology("matrix", 0, {"path": str(bad), "values": LAZY3})
    with pytest.raises(ValidationError, match=r"must end in \.npy or \.csv"):
        build_topology("matrix", 0, {"path": str(bad)})
    with pytest.raises(ValidationError, match=r"the matrix is 3 × 3 but n = 4"):
        build_topology("matrix", 4, {"values": LAZY3})
    with pytest.raises(ValidationError, match=r"needs a symmetric pattern"):
        build_topology("matrix", 2, {"values": [[0, 1], [0, 0]], "weights": "uniform"})


# --------------------------------------------------------------------------- validation errors


def test_validate_accepts_good_matrices() -> None:
    validate_mixing(build_topology("ring", 8).W, requires="doubly_stochastic")
    validate_mixing(np.array(LAZY3))
    validate_mixing(np.array(LAZY3).T, requires="column_stochastic")
    validate_mixing(np.array([[1.0]]), requires="doubly_stochastic")


def test_validate_non_square() -> None:
    with pytest.raises(ValidationError, match=r"must be square \(n × n\), got shape \(2, 3\)"):
        validate_mixing(np.full((2, 3), 1 / 3))
    with pytest.raises(ValidationError, match=r"must be square"):
        validate_mixing(np.ones(3))


def test_validate_non_finite() -> None:
    W = np.full((2, 2), 0.5)
    W[1, 0] = np.nan
    with pytest.raises(ValidationError, match=r"non-finite entry W\[1, 0\]"):
        validate_mixing(W)


def test_validate_negative_entry() -> None:
    W = np.array([[1.2, -0.2], [0.5, 0.5]])
    with pytest.raises(ValidationError, match=r"negative entry W\[0, 1\] = -0.2"):
        validate_mixing(W)


def test_validate_row_sum_names_row() -> None:
    W = np.array([[0.5, 0.5, 0.0], [0.3, 0.3, 0.3], [0.0, 0.5, 0.5]])
    with pytest.raises(ValidationError, match=r"not row-stochastic: row 1 sums to 0.9"):
        validate_mixing(W)


def test_validate_doubly_stochastic_names_column() -> None:
    with pytest.raises(
        ValidationError, match=r"not doubly stochastic: column 0 sums to 0.75, not 1 .*\(3 columns in all\)"
    ):
        validate_mixing(np.array(LAZY3), requires="doubly_stochastic")
    with pytest.raises(ValidationError, match=r"not column-stochastic: column 0 sums to 0.75"):
        validate_mixing(np.array(LAZY3), requires="column_stochastic")
    with pytest.raises(ValidationError, match=r"not doubly stochastic"):
        build_topology("star", 5, {"weights": "uniform"}, requires="doubly_stochastic")


def test_validate_disconnected_block_diagonal() -> None:
    block = np.full((2, 2), 0.5)
    W = np.block([[block, np.zeros((2, 2))], [np.zeros((2, 2)), block]])
    assert is_doubly_stochastic(W)  # stochastic, yet unusable
    with pytest.raises(
        ValidationError,
        match=r"graph is disconnected: node 0 cannot reach node 2 "
        r"\(2 strongly connected components: \{0, 1\}; \{2, 3\}\)",
    ):
        validate_mixing(W)
    with pytest.raises(ValidationError, match="graph is disconnected"):
        build_topology("matrix", 4, {"values": W.tolist()})


def test_validate_one_way_reachability() -> None:
    # 0 feeds 1 but nothing feeds 0: weakly, not strongly, connected.
    W = np.array([[1.0, 0.0], [0.5, 0.5]])
    with pytest.raises(ValidationError, match=r"node 1 cannot reach node 0"):
        validate_mixing(W)


def test_validate_periodic() -> None:
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert period(W) == 2
    with pytest.raises(ValidationError, match=r"periodic with period 2"):
        validate_mixing(W, requires="doubly_stochastic")
    # directed 3-cycle: period 3; its lazy version is fine
    P = np.roll(np.eye(3), 1, axis=1)
    assert period(P) == 3
    with pytest.raises(ValidationError, match=r"periodic with period 3"):
        validate_mixing(P)
    validate_mixing((np.eye(3) + P) / 2, requires="doubly_stochastic")
    # aperiodic without self-loops: cycles of lengths 2 and 3 (gcd 1)
    A = np.array([[0, 0.5, 0.5], [1, 0, 0], [0, 1, 0]])
    assert period(A) == 1
    validate_mixing(A)
    # bipartite (even cycle 4) without self-loops: period 2
    C4 = (np.roll(np.eye(4), 1, axis=1) + np.roll(np.eye(4), -1, axis=1)) / 2
    assert period(C4) == 2


def test_validate_bad_requires() -> None:
    with pytest.raises(ValidationError, match=r"did you mean 'doubly_stochastic'"):
        validate_mixing(np.eye(1), requires="doubly_stochastc")


def test_unknown_weighting_suggests_nearest() -> None:
    with pytest.raises(
        ValidationError,
        match=r"weights must be one of .*got 'metropolos' "
        r"\(did you mean 'metropolis'\?\)",
    ):
        build_topology("ring", 8, {"weights": "metropolos"})
    with pytest.raises(ValidationError, match=r"did you mean 'uniform'"):
        build_topology("torus", 8, {"weights": "unifrom"})


def test_unknown_topology_suggests_nearest() -> None:
    with pytest.raises(ConfigError, match=r"unknown topology 'rng' \(did you mean 'ring'\?\)"):
        build_topology("rng", 8)
    with pytest.raises(ConfigError, match=r"unknown key 'kk' .*did you mean 'k'"):
        build_topology("ring", 8, {"kk": 2})


def test_bad_n() -> None:
    with pytest.raises(ValidationError, match=r"n must be an integer ≥ 1, got 0"):
        build_topology("ring", 0)
    with pytest.raises(ValidationError, match=r"n must be an integer ≥ 1, got -3"):
        build_topology("complete", -3)


# --------------------------------------------------------------------------- registry and Topology API


def test_registry_names_and_params() -> None:
    assert set(TOPOLOGIES.names()) >= {
        "ring",
        "complete",
        "exponential",
        "torus",
        "star",
        "hypercube",
        "erdos-renyi",
        "matrix",
    }
    assert set(TOPOLOGIES.params("ring")) == {"k", "weights"}
    assert TOPOLOGIES.params("erdos-renyi")["p"].default == 0.3
    assert TOPOLOGIES.params("exponential")["self_weight"].default is None
    assert TOPOLOGIES.params("matrix")["weights"].default == "given"


def test_weight_functions_directly() -> None:
    path3 = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    np.testing.assert_allclose(metropolis_weights(path3), [[2 / 3, 1 / 3, 0], [1 / 3, 1 / 3, 1 / 3], [0, 1 / 3, 2 / 3]])
    np.testing.assert_allclose(uniform_weights(path3), [[1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3], [0, 1 / 2, 1 / 2]])


def test_summary_and_json() -> None:
    topo = build_topology("ring", 8)
    text = topo.summary()
    for needle in (
        "ring",
        "nodes (n):         8",
        "directed:          False",
        "edges:             8",
        "degree:            min 2, max 2",
        "doubly stochastic: True",
        "rho:               0.8047",
        "0.3333 0.3333 0.0000",
    ):
        assert needle in text
    big = build_topology("ring", 13).summary()
    assert "W:" not in big
    d = topo.to_json()
    assert {"name", "n", "directed", "edges", "rho", "doubly_stochastic", "params", "W"} <= set(d)
    assert d["n"] == 8 and d["edges"] == 8 and d["doubly_stochastic"] is True
    assert d["params"] == {"k": 1, "weights": "metropolis"}
    assert round(d["rho"], 4) == 0.8047
    np.testing.assert_allclose(np.array(d["W"]), topo.W)
    json.dumps(d)  # serializable
    assert "W" not in build_topology("ring", 65).to_json()
    ex = build_topology("exponential", 8).summary()
    assert "in-degree:         min 3, max 3" in ex and "out-degree:        min 3, max 3" in ex


def test_neighbours_of_directed_user_matrix() -> None:
    W = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])  # i receives from i+1
    topo = Topology("matrix", W, directed=True)
    assert topo.neighbours_in(0) == [1] and topo.neighbours_out(0) == [2]
    assert topo.edges == 3
    validate_mixing(W, requires="doubly_stochastic")
