"""Stacked sweeps: R runs as one stacked run, each member equal to its standalone run.

Facts checked: a member of a stacked run draws what its standalone run draws (:class:`tailtamer.rng.RowSeeds`), so
its metrics equal the standalone run's within 1e-12 in float64 for every registered decentralized and
local-update method, stacked for real (no member runs alone), with members that differ in seed and step size
(and, for local-update methods, in which clients each round samples and in server settings); mixing and
averaging stay within a member; a diverging member is reported as its standalone run reports it while the
others go on; sweeps group
their jobs into stacked runs and skip finished folders.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tailtamer import rng
from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm import SimulatedComm
from tailtamer.comm.stacked import StackedComm
from tailtamer.experiments.runner import run_config
from tailtamer.experiments.stacked import StackedRun, plan, run_stacked
from tailtamer.experiments.sweep import run_sweep
from tailtamer.rundir.folder import read_metrics, read_summary
from tailtamer.topology import build_topology

TOL = 1e-12
NAMES = ALGORITHMS.names()


def _family(name: str) -> str:
    return ALGORITHMS.build(name, {}, steps=10).family


def _by_family(family: str) -> list[str]:
    return [n for n in NAMES if _family(n) == family]


def _cfg(name: str, seed: int, lr: float | None, steps: int, topology: dict, noise: str = "student-t", **extra) -> dict:
    alg = {"name": name, **({"lr": lr} if lr is not None else {}), **extra}
    noise_cfg = {"name": noise, "scale": 0.1, **({"df": 1.5} if noise == "student-t" else {})}
    return {
        "problem": {"name": "tokenized-regression", "samples": 120, "dim": 5},
        "algorithm": alg,
        "topology": topology,
        "noise": noise_cfg,
        "run": {"steps": steps, "seed": seed, "eval_every": 2, "dtype": "float64"},
    }


def _rows(folder: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in read_metrics(folder)]


def _assert_same(stacked: Path, alone: Path) -> None:
    a, b = _rows(stacked), _rows(alone)
    assert len(a) == len(b) >= 1
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for k in x:
            same = x[k] == y[k] or (x[k] != x[k] and y[k] != y[k])  # equal, or both NaN
            assert same or abs(x[k] - y[k]) <= TOL * max(1.0, abs(y[k])), (stacked, x["step"], k, x[k], y[k])
    sa, sb = read_summary(stacked), read_summary(alone)
    assert sa["status"] == sb["status"]
    assert sa.get("comm") == sb.get("comm") and sa.get("diverged") == sb.get("diverged")


def _compare(tmp_path: Path, cfgs: list[dict]) -> None:
    jobs = [(str(tmp_path / f"member{i}"), c) for i, c in enumerate(cfgs)]
    run_stacked(jobs, plot=False)
    for i, (folder, c) in enumerate(jobs):
        run_config(c, tmp_path / f"alone{i}", progress=False, plot=False)
        _assert_same(Path(folder), tmp_path / f"alone{i}")


def test_the_registry_has_both_families():
    assert _by_family("decentralized") and _by_family("local-update")


def _no_fallback(monkeypatch) -> None:
    """Make a stacked run that would run its members one by one fail instead (the test is about stacked runs)."""
    import tailtamer.experiments.stacked as stacked

    def alone(folder, *args, **kwargs):
        raise AssertionError(f"{folder} ran alone: the stacked run fell back to one run at a time")

    monkeypatch.setattr(stacked, "_alone", alone)


@pytest.mark.parametrize("name", _by_family("decentralized"))
def test_every_decentralized_member_equals_its_standalone_run(tmp_path, monkeypatch, name):
    """Stacked for real (no fallback), with Student-t noise whose polar rejection redraws per member."""
    _no_fallback(monkeypatch)
    lrs = (0.01, 0.003, 0.01) if "lr" in ALGORITHMS.params(name) else (None,) * 3
    ring = {"name": "ring", "n": 6}
    _compare(tmp_path, [_cfg(name, seed, lr, 8, ring) for seed, lr in zip((0, 1, 2), lrs)])


@pytest.mark.parametrize("name", _by_family("local-update"))
def test_every_local_update_member_equals_its_standalone_run(tmp_path, monkeypatch, name):
    """Stacked for real: members differ in seed (so in which clients each round samples), client step size and
    server step size (a row per member on the server's side), two local steps a round."""
    _no_fallback(monkeypatch)
    server = {"name": "server", "n": 4}
    _compare(
        tmp_path,
        [
            _cfg(name, seed, lr, 4, server, clients=0.5, local_steps=2, outer_lr=olr)
            for seed, lr, olr in ((0, 0.01, 0.5), (1, 0.003, 0.5), (2, 0.01, 0.25))
        ],
    )


def test_logistic_members_use_the_stacked_gradient_and_equal_their_standalone_runs(tmp_path, monkeypatch):
    """Logistic regression has ``stacked_loss``/``stacked_grad`` (one product per node for all members): the
    stacked run calls them and each member still equals its standalone run."""
    from tailtamer.problems.logistic import Logistic

    _no_fallback(monkeypatch)
    calls = []
    real = Logistic.stacked_grad
    monkeypatch.setattr(Logistic, "stacked_grad", lambda self, x: (calls.append(x.shape), real(self, x))[1])
    cfgs = [
        {
            **_cfg("gt-nsgdm", seed, lr, 6, {"name": "ring", "n": 6}, beta=0.8),
            "problem": {"name": "logistic", "samples": 120, "dim": 5, "reg": 0.1},
        }
        for seed, lr in ((0, 0.01), (1, 0.003), (2, 0.01))
    ]
    _compare(tmp_path, cfgs)
    assert (18, 5) in calls  # three members of six nodes in one call


@pytest.mark.parametrize(
    "name, topology, extra",
    [("dsgd", {"name": "ring", "n": 6}, {}), ("fedavg", {"name": "server", "n": 6}, {"clients": 0.5})],
)
def test_least_squares_minibatches_are_drawn_for_all_members_in_one_call(tmp_path, monkeypatch, name, topology, extra):
    """Least squares draws each node's minibatch by tailtamer.rng alone (``grad_takes_row_seeds``): a stacked run
    passes its row ids and members' seeds in one call, and each member still equals its standalone run (its
    own minibatches: members differ in seed)."""
    from tailtamer.problems.least_squares import LeastSquares

    _no_fallback(monkeypatch)
    calls = []
    real = LeastSquares.grad
    monkeypatch.setattr(
        LeastSquares, "grad", lambda self, x, *a, **k: (calls.append(x.shape), real(self, x, *a, **k))[1]
    )
    cfgs = [
        {
            **_cfg(name, seed, lr, 5, topology, **extra),
            "problem": {"name": "least-squares", "dim": 5, "samples": 200, "batch": 4},
        }
        for seed, lr in ((0, 0.05), (1, 0.02), (2, 0.05))
    ]
    _compare(tmp_path, cfgs)
    assert (18, 5) in calls and (6, 5) in calls  # three members of six nodes in one call; alone, six rows
    assert all(shape[0] in (6, 18) for shape in calls)


def test_random_compressor_draws_per_member(tmp_path):
    """A compressor drawing per node (rand-k) in a stacked run: each member draws with its own seed."""
    cfgs = [
        {**_cfg("choco-sgd", s, lr, 6, {"name": "ring", "n": 6}), "compression": {"name": "rand-k", "k": 2}}
        for s, lr in ((3, 0.01), (4, 0.02))
    ]
    _compare(tmp_path, cfgs)


def test_row_seeds_draw_each_members_standalone_numbers():
    seeds, n = [5, 9, 2**40 + 3], 4
    s = rng.RowSeeds(seeds, n)
    rows = torch.arange(len(seeds) * n)
    for draw in (rng.uniform, rng.normal, rng.bits, rng.bits_reference):
        got = draw(s, "noise", rows, 7, 3, 1)
        for r, seed in enumerate(seeds):
            assert torch.equal(got[r * n : (r + 1) * n], draw(seed, "noise", torch.arange(n), 7, 3, 1))
    ids, cols = torch.tensor([11, 0, 6]), torch.tensor([2, 1, 0])
    assert torch.equal(rng.uniform_at(s, "x", ids, cols, 3), rng.uniform(s, "x", rows, 3, 3)[ids, cols])
    with pytest.raises(ValueError):  # noqa: PT011 - a row past the last member: any message
        rng.uniform(s, "x", torch.tensor([len(seeds) * n]), 0, 1)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize(
    "schedule,warmup",
    [("constant", 0), ({"name": "poly", "power": 1.0}, 0), ("cosine", 7), ({"name": "robbins-monro", "power": 0.7}, 3)],
)
def test_members_sharing_a_schedule_get_exactly_their_own_step_sizes(dtype, schedule, warmup):
    """The stacked step size evaluates the shared factor once and scales the members' rates: every row holds
    the member's own lr_t converted to the run's dtype, bit for bit, warm-up included."""
    import tailtamer.algorithms.server.step_rules  # noqa: F401  (registers robbins-monro)
    from tailtamer.engine.stacked.rows import RowExpander, RowValues, merge
    from tailtamer.schedules import StackedStepSize, make_lr

    lrs, n, T = (0.1, 0.03, 0.007), 2, 40
    members = [make_lr(lr, schedule, warmup, T) for lr in lrs]
    stacked = merge(members, RowExpander(len(lrs), n, 1, dtype))
    assert isinstance(stacked, StackedStepSize)
    for t in range(T + 5):
        rows = stacked(t)
        assert rows.dtype == dtype and rows.shape == (len(lrs) * n, 1)
        for r, m in enumerate(members):
            assert torch.equal(rows[r * n : (r + 1) * n], torch.full((n, 1), m(t), dtype=dtype)), (t, r)
    same = [make_lr(0.1, schedule, warmup, T) for _ in lrs]
    assert merge(same, RowExpander(len(lrs), n, 1, dtype)) is same[0]  # equal members: one Python float
    other = members[:-1] + [make_lr(lrs[-1], "constant" if schedule != "constant" else "cosine", warmup, T)]
    assert isinstance(merge(other, RowExpander(len(lrs), n, 1, dtype)), RowValues)


@pytest.mark.parametrize("kernel", ["dense", "sparse", "diagonals"])
def test_stacked_comm_mixes_and_averages_within_each_member(kernel):
    topo = build_topology("ring", 8, {}, requires="doubly_stochastic", algorithm="dsgd")
    member = SimulatedComm(topo.W, kernel=kernel)
    comm = StackedComm(member, 3)
    z = torch.randn(24, 5, dtype=torch.float64)
    mixed, mean = comm.mix(z), comm.mean(z)
    W = torch.as_tensor(np.asarray(topo.W.todense() if hasattr(topo.W, "todense") else topo.W))
    for r in range(3):
        zr = z[r * 8 : (r + 1) * 8]
        assert torch.allclose(mixed[r * 8 : (r + 1) * 8], W @ zr, atol=1e-15, rtol=0)
        assert torch.equal(mean[r * 8 : (r + 1) * 8], zr.mean(0, keepdim=True).expand_as(zr))
    z[8:16] = float("nan")  # a poisoned member leaves the others untouched
    assert torch.isfinite(comm.mix(z)[:8]).all() and torch.isfinite(comm.mean(z)[16:]).all()
    assert comm.stats.mixes == 2 and comm.stats.messages == member.edges * 2 + 2 * 8


@pytest.mark.parametrize(
    "name, topology, extra",
    [("dsgd", {"name": "ring", "n": 6}, {}), ("adam-sgd", {"name": "server", "n": 4}, {"clients": 0.5})],
)
def test_a_diverging_member_is_reported_as_alone_and_the_others_go_on(tmp_path, monkeypatch, name, topology, extra):
    """Stacked for real; a local-update member's server rows are frozen with its client rows."""
    from tailtamer.errors import NonFiniteError

    _no_fallback(monkeypatch)
    quad = {"name": "quadratic", "dim": 4}
    cfgs = [
        {**_cfg(name, s, lr, 12, topology, **extra), "problem": quad} for s, lr in ((0, 0.01), (1, 1e200), (2, 0.003))
    ]
    jobs = [(str(tmp_path / f"member{i}"), c) for i, c in enumerate(cfgs)]
    run_stacked(jobs, plot=False)
    monkeypatch.undo()
    for i, c in enumerate(cfgs):
        try:
            run_config(c, tmp_path / f"alone{i}", progress=False, plot=False)
        except NonFiniteError:
            pass
        _assert_same(tmp_path / f"member{i}", tmp_path / f"alone{i}")
    bad, alone = read_summary(tmp_path / "member1"), read_summary(tmp_path / "alone1")
    assert bad["status"] == "diverged" and bad["diverged"] == alone["diverged"]
    assert bad["last_metrics"] == alone["last_metrics"]
    assert [read_summary(tmp_path / f"member{i}")["status"] for i in (0, 2)] == ["finished", "finished"]


@pytest.mark.parametrize(
    "name, differ",
    [
        ("adam2", {"beta1": (0.9, 0.8, 0.9), "outer_beta1": (0.9, 0.9, 0.5), "outer_eps": (1e-3, 1e-2, 1e-3)}),
        ("bi2clip", {"u": (1.0, 0.3, 1.0), "outer_u": (1.0, 1.0, 0.2), "outer_d": (0.01, 0.05, 0.01)}),
        ("diloco", {"weight_decay": (0.1, 0.0, 0.1), "outer_momentum": (0.9, 0.5, 0.7)}),
    ],
)
def test_local_update_members_keep_their_own_client_state_and_server_settings(tmp_path, monkeypatch, name, differ):
    """Members that differ in client and server (``outer_*``) settings, with each client's optimizer state kept
    across rounds (``reset_inner = false``: a per-client update count): stacked for real, each equal to its
    standalone run. The server settings act on one row per member, the client ones on its n rows."""
    _no_fallback(monkeypatch)
    server = {"name": "server", "n": 5}
    _compare(
        tmp_path,
        [
            _cfg(
                name,
                seed,
                0.01,
                5,
                server,
                clients=0.6,
                local_steps=2,
                reset_inner=False,
                **{k: v[seed] for k, v in differ.items()},
            )
            for seed in range(3)
        ],
    )


def test_plan_groups_by_shape_and_sweeps_skip_finished_folders(tmp_path):
    ring = {"name": "ring", "n": 6}
    jobs = [(str(tmp_path / f"a{s}-{lr}"), _cfg("gt-nsgdm", s, lr, 4, ring)) for s in (0, 1) for lr in (0.01, 0.02)]
    jobs += [(str(tmp_path / "other-n"), _cfg("gt-nsgdm", 0, 0.01, 4, {"name": "ring", "n": 8}))]
    jobs += [(str(tmp_path / "dsgd"), _cfg("dsgd", 0, 0.01, 4, ring))]
    jobs += [(str(tmp_path / f"fed{s}"), _cfg("fedavg", s, 0.01, 4, {"name": "server", "n": 4})) for s in (0, 1)]
    jobs += [(str(tmp_path / "fed-other-steps"), _cfg("fedavg", 0, 0.01, 4, {"name": "server", "n": 4}, local_steps=2))]
    units = plan(jobs, workers=1)
    stacks = [u for u in units if isinstance(u, StackedRun)]
    assert [sorted(b.folders) for b in stacks] == [sorted(f for f, _ in jobs[:4]), sorted(f for f, _ in jobs[6:8])]
    assert len(units) == 2 + 3  # two stacked runs; other-n, dsgd and fedavg with other local steps alone
    assert len([u for u in plan(jobs, workers=2) if isinstance(u, StackedRun)]) == 3
    run_sweep(jobs[:4], workers=1, progress=False)
    stamps = {f: (Path(f) / "summary.json").stat().st_mtime_ns for f, _ in jobs[:4]}
    run_sweep(jobs[:4], workers=1, progress=False)
    assert {f: (Path(f) / "summary.json").stat().st_mtime_ns for f, _ in jobs[:4]} == stamps
    for f, c in jobs[:4]:
        assert read_summary(Path(f))["status"] == "finished"
        assert json.loads((Path(f) / "summary.json").read_text())["seed"] == c["run"]["seed"]


def test_model_workloads_are_not_grouped():
    """A model workload's forward/backward is one call per member anyway: its runs stay single jobs (E2's GPT
    sweep runs exactly as before), while the same method on a synthetic problem is grouped."""
    from tailtamer.experiments.stacked import stack_key

    gpt = {
        "problem": {"name": "gpt-multi30k"},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.1},
        "topology": {"name": "ring", "n": 8},
        "run": {"steps": 4, "seed": 0},
    }
    units = plan([(f"g{s}", {**gpt, "run": {"steps": 4, "seed": s}}) for s in (0, 1, 2)], workers=1)
    assert not any(isinstance(u, StackedRun) for u in units) and len(units) == 3
    assert stack_key(_cfg("gt-nsgdm", 0, 0.01, 4, {"name": "ring", "n": 6})) is not None


def test_a_setting_used_as_a_python_number_falls_back_to_members_one_by_one(tmp_path, monkeypatch):
    """A method that uses a differing float in Python arithmetic (here ``math.sqrt(lr)``) cannot take a per-row
    tensor: the stacked run runs its members alone, and every folder still equals its standalone run."""
    import math

    from tailtamer.algorithms.decentralized.dsgd import DSGD

    monkeypatch.setattr(DSGD, "direction", lambda self, g, t: g * math.sqrt(self.lr) / math.sqrt(self.lr))
    ring = {"name": "ring", "n": 6}
    _compare(tmp_path, [_cfg("dsgd", 0, 0.01, 6, ring), _cfg("dsgd", 1, 0.02, 6, ring)])


@pytest.mark.parametrize("name", ["dsgd", "gt-nsgdm", "adam2"])
def test_a_members_checkpoints_hold_its_standalone_state_and_nothing_else(tmp_path, monkeypatch, name):
    """Every checkpoint a member writes holds its standalone run's state (same keys, same values within 1e-12,
    same step and traffic) and only its own rows: a slice of the stacked state would make ``torch.save`` write
    all R members' storage into every member's file. A local-update member's server state is its own
    ``[1, d]`` row of the stacked ``[R, d]``, and its clients' kept optimizer state its own n rows."""
    from tailtamer.rundir.checkpoint import CHECKPOINT, PREVIOUS, read_checkpoint

    local = _family(name) == "local-update"
    topology = {"name": "server", "n": 4} if local else {"name": "ring", "n": 6}
    extra = {"clients": 0.5, "reset_inner": False, "local_steps": 2} if local else {}
    cfgs = [_cfg(name, s, lr, 8, topology, **extra) for s, lr in ((0, 0.01), (1, 0.003), (2, 0.02))]
    for c in cfgs:
        c["run"]["checkpoint_every"] = 3
    jobs = [(str(tmp_path / f"member{i}"), c) for i, c in enumerate(cfgs)]
    _no_fallback(monkeypatch)
    run_stacked(jobs, plot=False)
    monkeypatch.undo()
    for i, (folder, c) in enumerate(jobs):
        run_config(c, tmp_path / f"alone{i}", progress=False, plot=False)
        for name in (CHECKPOINT, PREVIOUS):
            a, b = read_checkpoint(Path(folder) / name), read_checkpoint(tmp_path / f"alone{i}" / name)
            assert a["step"] == b["step"] and a["comm"] == b["comm"] and a["state"].keys() == b["state"].keys()
            for k, v in a["state"].items():
                assert v.shape == b["state"][k].shape and torch.allclose(v, b["state"][k], rtol=0, atol=TOL), k
                assert v.untyped_storage().nbytes() == v.numel() * v.element_size(), k


def test_vectorised_metrics_equal_each_members_own():
    """``stacked_metrics`` of R stacked iterates = ``metrics`` of each member's rows (synthetic problems), and
    a problem with its own ``metrics`` offers none."""
    from tailtamer.problems import PROBLEMS

    n, R = 5, 3
    comm = StackedComm(SimulatedComm(build_topology("ring", n, {}, requires="doubly_stochastic").W), R)
    prob = PROBLEMS.build("tokenized-regression", {"samples": 100, "dim": 4}, n=n)
    x = torch.randn(R * n, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    every = prob.stacked_metrics(x, R, comm.nodes)
    for r in range(R):
        alone = prob.metrics(x[r * n : (r + 1) * n], comm.member)
        assert every[r].keys() == alone.keys()
        assert all(abs(every[r][k] - alone[k]) <= TOL * max(1.0, abs(alone[k])) for k in alone)
    assert PROBLEMS.build("least-squares", {"dim": 4}, n=n).stacked_metrics(x, R, comm.nodes) is None
