"""torch.distributed backend: exchange plan, equivalence with the simulator, `launch` vs `run`, resume after a
crash (real runs and simulated ones)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.api import build_components, make_loop
from tailtamer.comm.distributed import DistributedComm, block_bounds, exchange_plan
from tailtamer.distributed.launcher import DistributedRunError, spawn
from tailtamer.distributed.run import launch
from tailtamer.errors import ConfigError
from tailtamer.experiments.runner import run_config
from tailtamer.rundir import save_checkpoint
from tailtamer.rundir.checkpoint import CHECKPOINT
from tailtamer.rundir.folder import read_metrics
from tailtamer.topology import TOPOLOGIES

NPROC = 4
STEPS = 20
#: (topology, n): directed with two nodes per rank; odd n with uneven blocks (2, 2, 2, 1). The launch tests
#: below add a ring of 5 (blocks 2, 1, 1, 1).
CASES = [({"name": "exponential"}, 8), ({"name": "ring"}, 7)]


def decentralized() -> list[str]:
    """Every registered uncompressed algorithm of the decentralized family (the compressed-gossip ones are
    checked on gloo in tests/compressed/test_compression_distributed.py)."""
    out = []
    for name in ALGORITHMS.names():
        family = getattr(ALGORITHMS.get(name), "family", None)
        if family is None:
            try:
                family = ALGORITHMS.build(name, {}, steps=STEPS).family
            except Exception:  # noqa: BLE001 - an entry that cannot build without settings is skipped
                continue
        if family == "decentralized" and not getattr(ALGORITHMS.get(name), "compresses", False):
            out.append(name)
    return out


def config(alg: str, topology: dict, n: int, steps: int = STEPS, **run) -> dict:
    return {
        "problem": {"name": "tokenized-regression", "samples": 560},
        "algorithm": {"name": alg},
        "topology": {**topology, "n": n},
        "noise": {"name": "student-t", "df": 2.5, "scale": 0.5},
        "run": {"steps": steps, "seed": 7, "eval_every": 5, "dtype": "float64", **run},
    }


def equivalence_config(alg: str, topology: dict, n: int) -> dict:
    cfg = config(alg, topology, n)
    cfg["run"]["eval_every"] = STEPS
    return cfg


# ---- no processes ----------------------------------------------------------------------------------


def test_block_bounds():
    assert block_bounds(7, 4) == [(0, 2), (2, 4), (4, 6), (6, 7)]
    assert block_bounds(4, 4) == [(0, 1), (1, 2), (2, 3), (3, 4)]
    with pytest.raises(ValueError, match="every process needs"):
        block_bounds(3, 4)


@pytest.mark.parametrize("name,n", [("ring", 7), ("exponential", 8), ("star", 5), ("erdos-renyi", 9)])
def test_exchange_plan_is_consistent(name, n):
    """What rank s plans to send r is exactly what r plans to receive from s, and it covers every edge."""
    W = TOPOLOGIES.build(name, {}, n=n).W
    bounds = block_bounds(n, 4)
    plans = [exchange_plan(W, bounds, r) for r in range(4)]
    for s in range(4):
        for r in range(4):
            sent = plans[s][0].get(r, np.array([], dtype=int))
            got = plans[r][1].get(s, np.array([], dtype=int))
            assert sent.tolist() == got.tolist()
    for i, j in zip(*np.nonzero(W)):
        ri = next(r for r, (lo, hi) in enumerate(bounds) if lo <= i < hi)
        rj = next(r for r, (lo, hi) in enumerate(bounds) if lo <= j < hi)
        if ri != rj:
            assert j in plans[ri][1][rj]


def test_decentralized_list_is_complete():
    """Exactly the gossip methods of the GT-NSGDm paper (arXiv 2505.03736) are checked against torch.distributed
    below."""
    assert decentralized() == [
        "dsgd",
        "dsgd-cclip",
        "dsgd-clip",
        "dsgd-gclip",
        "dsgd-n",
        "gt-adam",
        "gt-dsgd",
        "gt-nsgdm",
        "qg-dsgdm",
        "sclip-ef",
    ]


# ---- 4 gloo processes against the simulator -------------------------------------------------------


def _equivalence_body(rank: int, world: int, algs: list[str]) -> dict:
    out = {}
    for topology, n in CASES:
        for alg in algs:
            c = build_components(equivalence_config(alg, topology, n))
            comm = DistributedComm(c.topology.W, timeout=60)
            loop = make_loop(c, comm=comm)
            x = loop.run()["x"]
            out[(topology["name"], n, alg)] = (comm.nodes.tolist(), x, comm.stats.as_dict(), loop.last_metrics)
    return out


@pytest.mark.multiprocess
def test_every_decentralized_algorithm_matches_the_simulator():
    """4 gloo processes and the simulator: same config and seed, float64, 20 steps → x equal within 1e-10,
    identical communication counts, same metrics."""
    algs = decentralized()
    results = spawn(_equivalence_body, NPROC, (algs,), timeout=60)
    for topology, n in CASES:
        for alg in algs:
            loop = make_loop(build_components(equivalence_config(alg, topology, n)))
            x_sim = loop.run()["x"]
            x_real = torch.zeros_like(x_sim)
            for res in results:
                nodes, x, stats, metrics = res[(topology["name"], n, alg)]
                x_real[nodes] = x
                assert stats == loop.comm.stats.as_dict(), (alg, topology, n)
                for k, v in loop.last_metrics.items():
                    assert metrics[k] == pytest.approx(v, rel=1e-9, abs=1e-12), (alg, topology, n, k)
            assert x_real.dtype == torch.float64
            err = (x_real - x_sim).abs().max().item()
            assert err <= 1e-10, f"{alg} on {topology['name']} n={n}: max |x_real − x_sim| = {err:.3g}"


# ---- tailtamer launch vs tailtamer run; crash and --resume ----------------------------------------

LAUNCH_CFG = config("gt-nsgdm", {"name": "ring"}, 5, steps=30, checkpoint_every=10)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("launch")
    run_config(LAUNCH_CFG, root / "sim", progress=False, plot=False)
    launch(LAUNCH_CFG, root / "real", NPROC, timeout=60, plot=False)
    return root


def _rows(folder):
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in read_metrics(folder)]


@pytest.mark.multiprocess
def test_launch_writes_the_same_run_folder_as_run(folders):
    sim = json.loads((folders / "sim" / "summary.json").read_text())
    real = json.loads((folders / "real" / "summary.json").read_text())
    assert real["status"] == "finished" and real["steps"] == sim["steps"] == 30
    assert real["comm"] == sim["comm"]
    assert real["distributed"] == {"world_size": NPROC, "backend": "gloo"}
    assert real["metrics"].keys() == sim["metrics"].keys()
    for k, v in sim["metrics"].items():
        assert math.isclose(real["metrics"][k], v, rel_tol=1e-9, abs_tol=1e-12), k
    assert (folders / "real" / "config.toml").read_text() == (folders / "sim" / "config.toml").read_text()
    rs, rr = _rows(folders / "sim"), _rows(folders / "real")
    assert [r["step"] for r in rr] == [r["step"] for r in rs] == [0, 5, 10, 15, 20, 25, 30]
    for a, b in zip(rs, rr):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-12)
    ck_sim = torch.load(folders / "sim" / CHECKPOINT, weights_only=True)
    ck_real = torch.load(folders / "real" / CHECKPOINT, weights_only=True)
    assert ck_real["step"] == ck_sim["step"] == 30 and ck_real["comm"] == ck_sim["comm"]
    for k, v in ck_sim["state"].items():
        assert ck_real["state"][k].shape == v.shape
        assert (ck_real["state"][k] - v).abs().max().item() <= 1e-10


@pytest.mark.multiprocess
def test_crash_then_resume_ends_identical(folders, tmp_path, monkeypatch):
    """Rank 2 dies after step 12 (checkpoint at 10); the others stop with an error naming it; --resume then
    ends bit-identical (float64) to the uninterrupted real run."""
    out = tmp_path / "crashed"
    monkeypatch.setenv("TAILTAMER_FAULT", "2:12:exit")
    with pytest.raises(DistributedRunError) as info:
        launch(LAUNCH_CFG, out, NPROC, timeout=20, plot=False)
    assert info.value.rank == 2 and "rank 2 died" in str(info.value)
    assert torch.load(out / CHECKPOINT, weights_only=True)["step"] == 10
    monkeypatch.delenv("TAILTAMER_FAULT")
    with pytest.raises(ConfigError, match="not empty"):
        launch(LAUNCH_CFG, out, NPROC, timeout=20, plot=False)
    summary = launch(LAUNCH_CFG, out, NPROC, resume=True, timeout=20, plot=False)
    ref = json.loads((folders / "real" / "summary.json").read_text())
    assert summary["metrics"] == ref["metrics"] and summary["comm"] == ref["comm"]
    assert _rows(out) == _rows(folders / "real")
    a = torch.load(out / CHECKPOINT, weights_only=True)["state"]
    b = torch.load(folders / "real" / CHECKPOINT, weights_only=True)["state"]
    assert all(torch.equal(a[k], b[k]) for k in b)


def test_simulated_resume_ends_identical(tmp_path):
    """The simulator's --resume from a step-10 checkpoint (metrics written past it, as after a crash) ends
    bit-identical to an uninterrupted run."""
    full = run_config(LAUNCH_CFG, tmp_path / "full", progress=False, plot=False)
    out = tmp_path / "interrupted"
    run_config(LAUNCH_CFG, out, progress=False, plot=False)
    loop = make_loop(build_components(LAUNCH_CFG))
    loop.steps = 10
    save_checkpoint(out, loop, 10, loop.run())  # as if the run had stopped after its step-10 checkpoint
    (out / "summary.json").unlink()
    resumed = run_config(LAUNCH_CFG, out, resume=True, progress=False, plot=False)
    assert resumed["metrics"] == full["metrics"] and resumed["comm"] == full["comm"]
    assert _rows(out) == _rows(tmp_path / "full")
    a = torch.load(out / CHECKPOINT, weights_only=True)["state"]
    b = torch.load(tmp_path / "full" / CHECKPOINT, weights_only=True)["state"]
    assert all(torch.equal(a[k], b[k]) for k in b)
