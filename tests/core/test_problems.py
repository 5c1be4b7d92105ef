"""Mathematics of the synthetic problems: batched gradients vs autograd and a per-node loop, optima,
E1 data, Tukey's loss, metrics (including a comm hosting only some rows), and parameter validation."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from tailtamer.comm.base import CommStats
from tailtamer.comm.simulated import SimulatedComm
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.problems import PROBLEMS, SyntheticProblem, build_problem
from tailtamer.problems.tokenized import tukey, tukey_prime

CASES = {
    "tokenized": ("tokenized-regression", 20, {}),
    "tokenized-iid": ("tokenized-regression", 10, {"split": "iid", "samples": 200, "dim": 7}),
    "claim1": ("claim1", 20, {}),
    "quadratic": ("quadratic", 7, {"dim": 5, "condition": 100.0}),
    "quartic": ("quartic", 3, {"dim": 4}),
    "cosh": ("cosh", 3, {"dim": 4}),
    "logistic": ("logistic", 5, {"samples": 100, "dim": 4, "reg": 0.1}),
    "logistic-separable": ("logistic", 4, {"samples": 40, "dim": 3, "separable": True}),
    "least-squares": ("least-squares", 3, {"dim": 4, "samples": 50, "batch": 0}),  # batch 0: full gradient
}


def make(case: str) -> SyntheticProblem:
    name, n, params = CASES[case]
    return build_problem(name, n, params)


def random_x(p: SyntheticProblem, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    center = p.x_star if p.x_star is not None else torch.zeros(p.dim, dtype=torch.float64)
    return center + 1.5 * torch.randn(p.n, p.dim, generator=g, dtype=torch.float64)


def complete_comm(n: int) -> SimulatedComm:
    return SimulatedComm(np.full((n, n), 1.0 / n))


def test_every_registered_synthetic_problem_is_covered():
    synthetic = {
        name
        for name in PROBLEMS.names()
        if isinstance(PROBLEMS.get(name), type) and issubclass(PROBLEMS.get(name), SyntheticProblem)
    }
    assert synthetic == {c[0] for c in CASES.values()}


@pytest.mark.parametrize("case", CASES)
def test_local_grad_equals_autograd_of_local_loss(case):
    p = make(case)
    x = random_x(p).requires_grad_(True)
    nodes = torch.arange(p.n)
    (auto,) = torch.autograd.grad(p.local_loss(x, nodes).sum(), x)
    assert p.local_loss(x, nodes).shape == (p.n,)
    torch.testing.assert_close(p.local_grad(x.detach(), nodes), auto, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_batched_equals_per_node_loop(case):
    p = make(case)
    x = random_x(p, seed=1)
    nodes = torch.arange(p.n)
    loop_g = torch.cat([p.local_grad(x[i : i + 1], torch.tensor([i])) for i in range(p.n)])
    loop_f = torch.cat([p.local_loss(x[i : i + 1], torch.tensor([i])) for i in range(p.n)])
    torch.testing.assert_close(p.local_grad(x, nodes), loop_g, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(p.local_loss(x, nodes), loop_f, rtol=1e-12, atol=1e-14)
    # a subset of rows in any order is the same as those rows of the full batch
    sub = torch.tensor([p.n - 1, 0])
    torch.testing.assert_close(p.local_grad(x[sub], sub), loop_g[sub], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES)
def test_grad_is_deterministic_local_grad_and_follows_dtype(case):
    p = make(case)
    x = random_x(p, seed=2)
    nodes = torch.arange(p.n)
    g = p.grad(x, nodes, seed=3, step=7, call=1)
    assert torch.equal(g, p.local_grad(x, nodes)) and torch.equal(g, p.grad(x, nodes, seed=9, step=0))
    g32 = p.grad(x.float(), nodes, seed=0, step=0)
    assert g32.dtype == torch.float32 and g32.shape == (p.n, p.dim)
    torch.testing.assert_close(g32.double(), g, rtol=1e-3, atol=1e-3)
    x0 = p.x0(torch.float32)
    assert x0.shape == (p.dim,) and x0.dtype == torch.float32


@pytest.mark.parametrize("case", ["tokenized", "tokenized-iid", "claim1", "quadratic", "quartic"])
def test_gradient_of_f_vanishes_at_x_star(case):
    p = make(case)
    at_star = p.x_star.expand(p.n, p.dim)
    g = p.local_grad(at_star, torch.arange(p.n))
    assert g.mean(0).abs().max() < 1e-12
    if case.startswith("tokenized"):  # zero residuals: every local gradient vanishes, and the loss too
        assert g.abs().max() < 1e-12
        assert p.local_loss(at_star, torch.arange(p.n)).abs().max() < 1e-20


def test_claim1_optimum_and_grad_norm_at_x0():
    p = build_problem("claim1", 20, {})
    assert p.dim == 1 and p.x_star.item() == 5.0 and p.x0().item() == 0.5
    x = p.x0().expand(20, 1).clone()
    m = p.metrics(x, complete_comm(20))
    assert m["grad_norm"] == pytest.approx(4.5, abs=1e-12)
    assert m["dist_to_opt"] == pytest.approx(4.5, abs=1e-12) and m["consensus"] == 0.0
    g = p.local_grad(x, torch.arange(20)).flatten()
    assert torch.all(g[:10] == 0.5) and torch.all(g[10:] == -9.5)  # normalized: +1 and −1 cancel


def test_e1_data_statistics_and_contiguous_shards():
    p = build_problem("tokenized-regression", 20, {})
    assert (p.samples, p.dim, p.c) == (1000, 20, 4.6851)
    X = p.features
    assert set(np.unique(X)) <= {0.0, 1.0}
    means = X.mean(0)
    np.testing.assert_allclose(means[:2], 0.9, atol=0.04)
    np.testing.assert_allclose(means[2:4], 0.5, atol=0.06)
    np.testing.assert_allclose(means[4:], 0.1, atol=0.04)
    assert abs(means[4:].mean() - 0.1) < 0.01
    for i in range(20):
        np.testing.assert_array_equal(p.shards[i], np.arange(50 * i, 50 * i + 50))
    A = p._data["A"].numpy()
    assert A.shape == (20, 50, 20)
    np.testing.assert_array_equal(A[3], X[150:200])
    np.testing.assert_allclose(p.labels, X @ p.x_star.numpy(), rtol=0, atol=0)  # y = X w*, no noise
    assert torch.equal(p.x0(), torch.zeros(20, dtype=torch.float64))
    assert p.metric_names[0] == "dist_to_opt"


def test_e1_data_depends_on_data_seed_only():
    a = build_problem("tokenized-regression", 20, {})
    b = build_problem("tokenized-regression", 10, {})
    c = build_problem("tokenized-regression", 20, {"data_seed": 1})
    np.testing.assert_array_equal(a.features, b.features)
    assert torch.equal(a.x_star, b.x_star)
    assert not np.array_equal(a.features, c.features)
    iid = build_problem("tokenized-regression", 20, {"split": "iid"})
    np.testing.assert_array_equal(iid.features, a.features)  # same data, shuffled assignment
    assert sorted(iid.shards.ravel().tolist()) == list(range(1000))
    assert not np.array_equal(iid.shards, a.shards)
    odd = build_problem("tokenized-regression", 20, {"dim": 3})
    np.testing.assert_allclose(odd.features.mean(0), [0.9, 0.9, 0.5], atol=0.06)


def test_tukey_is_bounded_and_flat_beyond_c():
    c = 4.6851
    r = torch.linspace(-3 * c, 3 * c, 2001, dtype=torch.float64, requires_grad=True)
    rho = tukey(r, c)
    assert rho.max() <= c * c / 6 + 1e-15 and rho.min() >= 0
    out = r.abs() >= c
    assert torch.all(rho[out] == c * c / 6) and torch.all(tukey_prime(r, c)[out] == 0)
    (auto,) = torch.autograd.grad(rho.sum(), r)
    torch.testing.assert_close(tukey_prime(r.detach(), c), auto)
    inside = r.detach()[~out]
    expected = c * c / 6 * (1 - (1 - (inside / c) ** 2) ** 3)
    torch.testing.assert_close(rho.detach()[~out], expected)
    torch.testing.assert_close(tukey_prime(inside, c), inside * (1 - (inside / c) ** 2) ** 2)


@pytest.mark.parametrize(
    "name,params",
    [
        ("tokenized-regression", {"samples": 120, "dim": 5}),
        ("logistic", {"samples": 120, "dim": 5, "reg": 0.1}),
        ("quadratic", {"dim": 5}),
    ],
)
def test_stacked_loss_and_grad_equal_each_members_local_ones(name, params):
    """R stacked iterates (member r's node i on row r·n + i): ``stacked_loss`` and ``stacked_grad`` give each
    member's ``local_loss`` and ``local_grad`` of its own rows (a product per node instead of a gather of the
    node data per row; equal within rounding)."""
    n, R, d = 6, 4, params["dim"]
    p = build_problem(name, n, params)
    x = 3 * torch.randn(R * n, d, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    nodes = torch.arange(n)
    loss = torch.cat([p.local_loss(x[r * n : (r + 1) * n], nodes) for r in range(R)])
    grad = torch.cat([p.local_grad(x[r * n : (r + 1) * n], nodes) for r in range(R)])
    assert loss.shape == (R * n,) and not torch.equal(loss[:n], loss[n : 2 * n])  # members differ
    torch.testing.assert_close(p.stacked_loss(x), loss, rtol=1e-13, atol=1e-14)
    torch.testing.assert_close(p.stacked_grad(x), grad, rtol=1e-13, atol=1e-14)


def test_quadratic_spectrum_and_closed_form_optimum():
    p = build_problem("quadratic", 50, {"dim": 6, "condition": 1000.0})
    h, b = p._data["h"], p._data["b"]
    np.testing.assert_allclose(h.mean(0).numpy(), np.logspace(0, 3, 6), rtol=1e-12)
    assert torch.all(h > 0)
    torch.testing.assert_close(p.x_star, (h * b).sum(0) / h.sum(0))
    homo = build_problem("quadratic", 5, {"heterogeneity": 0.0, "hessian_spread": 0.0})
    assert torch.equal(homo._data["b"], homo._data["b"][:1].expand(5, -1))
    assert torch.equal(homo._data["h"], homo._data["h"][:1].expand(5, -1))
    big = build_problem("quadratic", 1000, {"dim": 1000})
    assert big.local_grad(big.x0().expand(1000, 1000), torch.arange(1000)).shape == (1000, 1000)


def test_logistic_labels():
    p = build_problem("logistic", 4, {"samples": 400, "dim": 5, "separable": True})
    np.testing.assert_array_equal(p.labels, np.where(p.features @ p.w_true > 0, 1.0, -1.0))
    q = build_problem("logistic", 4, {"samples": 400, "dim": 5})
    assert set(np.unique(q.labels)) == {-1.0, 1.0}
    agree = np.mean(q.labels == np.sign(q.features @ q.w_true))
    assert 0.6 < agree < 1.0  # logistic link: mostly, not always, the sign of the margin
    assert q.x_star is None and q.metric_names[0] == "grad_norm"


@pytest.mark.parametrize("case", CASES)
def test_metrics_match_direct_formulas(case):
    p = make(case)
    x = random_x(p, seed=4)
    comm = complete_comm(p.n)
    m = p.metrics(x, comm)
    assert list(m) == list(p.metric_names) and all(type(v) is float for v in m.values())
    assert comm.stats.as_dict() == CommStats().as_dict()  # evaluation traffic is not counted
    nodes = torch.arange(p.n)
    xbar = x.mean(0)
    xb = xbar.expand(p.n, p.dim).clone().requires_grad_(True)
    f = p.local_loss(xb, nodes).mean()
    (grad_f,) = torch.autograd.grad(f, xb)
    assert m["loss"] == pytest.approx(f.item(), rel=1e-12)
    assert m["grad_norm"] == pytest.approx(torch.linalg.norm(grad_f.sum(0)).item(), rel=1e-10)
    assert m["consensus"] == pytest.approx(((x - xbar) ** 2).sum().item() / p.n, rel=1e-12)
    if p.x_star is not None:
        dist = np.mean([np.linalg.norm((x[i] - p.x_star).numpy()) for i in range(p.n)])
        assert m["dist_to_opt"] == pytest.approx(dist, rel=1e-12)


@pytest.mark.parametrize("case", ["tokenized", "quadratic", "quartic", "claim1"])
def test_metrics_at_x_star_with_consensus(case):
    p = make(case)
    m = p.metrics(p.x_star.expand(p.n, p.dim).clone(), complete_comm(p.n))
    # the row average of identical rows is exact up to rounding
    assert m["consensus"] < 1e-28 and m["dist_to_opt"] == 0.0 and m["grad_norm"] < 1e-12


class _ThreadComm:
    """One of several 'processes' (threads) that each host some rows; ``mean`` sums their shares."""

    def __init__(self, n: int, nodes: list[int], group: dict):
        self.n, self.nodes, self.stats, self.group = n, torch.tensor(nodes), CommStats(), group

    @property
    def n_local(self) -> int:
        return len(self.nodes)

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        g = self.group
        g["barrier"].wait()
        with g["lock"]:
            g["acc"] = z.sum(0, keepdim=True) if g["acc"] is None else g["acc"] + z.sum(0, keepdim=True)
        g["barrier"].wait()
        out = g["acc"] / self.n
        g["barrier"].wait()
        g["acc"] = None
        g["barrier"].wait()
        return out


@pytest.mark.parametrize("case", ["tokenized", "quadratic", "logistic"])
def test_metrics_on_processes_hosting_some_rows_match_simulator(case):
    p = make(case)
    x = random_x(p, seed=5)
    full = p.metrics(x, complete_comm(p.n))
    parts = [list(range(0, p.n, 2)), list(range(1, p.n, 2))]  # interleaved rows on two "processes"
    group = {"barrier": threading.Barrier(len(parts)), "lock": threading.Lock(), "acc": None}
    results: list = [None] * len(parts)

    def work(k: int) -> None:
        results[k] = p.metrics(x[parts[k]], _ThreadComm(p.n, parts[k], group))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for r in results:
        assert r is not None and r.keys() == full.keys()
        for k in full:
            assert r[k] == pytest.approx(full[k], rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(
    "name, n, params, word",
    [
        ("tokenized-regression", 7, {}, "divisible"),
        ("tokenized-regression", 20, {"c": 0.0}, "c"),
        ("tokenized-regression", 20, {"split": "random"}, "split"),
        ("tokenized-regression", 20, {"dim": 0}, "dim"),
        ("tokenized-regression", 20, {"data_seed": -1}, "data_seed"),
        ("claim1", 3, {}, "even"),
        ("claim1", 20, {"x0": 10.0}, "x0"),
        ("claim1", 20, {"A": -1.0}, "A"),
        ("quadratic", 4, {"condition": 0.5}, "condition"),
        ("quadratic", 4, {"heterogeneity": -1.0}, "heterogeneity"),
        ("quartic", 4, {"x0": float("inf")}, "x0"),
        ("logistic", 3, {"samples": 100}, "divisible"),
        ("logistic", 4, {"reg": -0.1}, "reg"),
        ("logistic", 0, {"samples": 100}, "n"),
    ],
)
def test_invalid_parameters_raise_validation_error(name, n, params, word):
    with pytest.raises(ValidationError, match=word):
        build_problem(name, n, params)


def test_unknown_names_and_keys_are_config_errors():
    with pytest.raises(ConfigError, match="did you mean 'quadratic'"):
        build_problem("quadratik", 4, {})
    with pytest.raises(ConfigError, match="did you mean 'samples'"):
        build_problem("tokenized-regression", 20, {"sample": 1000})
    with pytest.raises(ConfigError, match="samples"):
        build_problem("tokenized-regression", 20, {"samples": "many"})
    assert "n" not in PROBLEMS.params("quadratic")
