"""The torchrun entry point (``python -m tailtamer.distributed.run``) as two "machines" on localhost, in both
documented rendezvous forms, and the backend/device rules checked before any process starts."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tailtamer.comm.backends import backend_for, check_backend
from tailtamer.config import dumps_toml
from tailtamer.distributed.run import launch
from tailtamer.errors import ConfigError
from tailtamer.experiments.runner import run_config
from tailtamer.rundir.checkpoint import CHECKPOINT

CFG = {
    "problem": {"name": "tokenized-regression", "samples": 560},
    "algorithm": {"name": "gt-nsgdm"},
    "topology": {"name": "ring", "n": 5},
    "noise": {"name": "student-t", "df": 2.5, "scale": 0.5},
    "run": {"steps": 30, "seed": 7, "eval_every": 5, "dtype": "float64", "checkpoint_every": 10},
}


# ---- backend rules (no processes) ---------------------------------------------------------------------


def test_backend_follows_the_device():
    assert backend_for("cpu") == "gloo" and backend_for("cuda") == "nccl" and backend_for("cuda:1") == "nccl"


def test_backend_device_mismatch_is_refused():
    with pytest.raises(ConfigError, match="moves CPU tensors.*use backend 'nccl'"):
        check_backend("gloo", "cuda")
    with pytest.raises(ConfigError, match="moves CUDA tensors.*use backend 'gloo'"):
        check_backend("nccl", "cpu")
    with pytest.raises(ConfigError, match="unknown backend 'mpi'"):
        check_backend("mpi", "cpu")
    check_backend("gloo", "cpu", local_processes=64)  # gloo: any number of processes


def test_nccl_needs_cuda_and_one_gpu_per_process(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="needs CUDA"):
        check_backend("nccl", "cuda", 1)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    check_backend("nccl", "cuda", 2)
    with pytest.raises(ConfigError, match="4 NCCL processes on a machine with 2 GPU.*one process per GPU"):
        check_backend("nccl", "cuda", 4)


def test_launch_refuses_a_wrong_backend_before_starting_processes(tmp_path):
    with pytest.raises(ConfigError, match="moves CUDA tensors"):
        launch(CFG, tmp_path / "out", 4, backend="nccl")
    assert not (tmp_path / "out").exists()  # nothing written, nothing started


# ---- torchrun, two agents on localhost ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _agents(
    flags: list[list[str]], cfg: Path, out: Path, *extra: str, env: dict | None = None
) -> list[subprocess.CompletedProcess]:
    """Start one torchrun agent per flag list at once (two "machines") and wait for all of them."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "torch.distributed.run",
                *f,
                "-m",
                "tailtamer.distributed.run",
                str(cfg),
                "--out",
                str(out),
                "--no-plot",
                "--timeout",
                "20",
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for f in flags
    ]
    done = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=240)
        done.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    return done


def _rendezvous(port: int) -> list[list[str]]:
    """The documented multi-machine form: c10d rendezvous, 2 nodes × 2 processes."""
    return [
        [
            "--nnodes",
            "2",
            "--nproc-per-node",
            "2",
            "--rdzv-backend",
            "c10d",
            "--rdzv-endpoint",
            f"127.0.0.1:{port}",
            "--rdzv-id",
            "tailtamer-test",
        ]
    ] * 2


def _static(port: int) -> list[list[str]]:
    """The documented older form: fixed node ranks and a master address."""
    return [
        [
            "--nnodes",
            "2",
            "--node-rank",
            str(r),
            "--nproc-per-node",
            "2",
            "--master-addr",
            "127.0.0.1",
            "--master-port",
            str(port),
        ]
        for r in (0, 1)
    ]


@pytest.fixture(scope="module")
def torchrun_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("torchrun")
    cfg = root / "cfg.toml"
    cfg.write_text(dumps_toml(CFG))
    run_config(CFG, root / "sim", progress=False, plot=False)
    agents = _agents(_rendezvous(_free_port()), cfg, root / "real")
    return root, cfg, agents


@pytest.mark.multiprocess
def test_torchrun_on_two_machines_matches_the_simulator(torchrun_runs):
    root, _, agents = torchrun_runs
    for a in agents:
        assert a.returncode == 0, a.stderr[-2000:]
        assert "RuntimeWarning" not in a.stderr, a.stderr[-2000:]
    sim = json.loads((root / "sim" / "summary.json").read_text())
    real = json.loads((root / "real" / "summary.json").read_text())
    assert real["distributed"] == {"world_size": 4, "backend": "gloo"}
    assert real["steps"] == 30 and real["comm"] == sim["comm"]
    for k, v in sim["metrics"].items():
        assert math.isclose(real["metrics"][k], v, rel_tol=1e-9, abs_tol=1e-12), k
    printed = [a.stdout for a in agents if "run folder:" in a.stdout]
    assert len(printed) == 1  # only global rank 0 reports
    assert json.loads(printed[0].strip().splitlines()[-1])["metrics"] == real["metrics"]


@pytest.mark.multiprocess
def test_torchrun_crash_then_resume_ends_identical(torchrun_runs):
    """Static form: rank 2 (on the second machine) dies after step 12; both agents fail with errors naming
    their dead peer; ``--resume`` then ends bit-identical to the uninterrupted torchrun run."""
    root, cfg, _ = torchrun_runs
    out = root / "crashed"
    crashed = _agents(_static(_free_port()), cfg, out, env={"TAILTAMER_FAULT": "2:12:exit"})
    assert all(a.returncode != 0 for a in crashed)
    errors = "".join(a.stderr for a in crashed)
    assert "error: rank" in errors and "died, stalled or is unreachable" in errors
    assert torch.load(out / CHECKPOINT, weights_only=True)["step"] == 10
    assert not (out / "summary.json").exists()
    resumed = _agents(_static(_free_port()), cfg, out, "--resume")
    assert all(a.returncode == 0 for a in resumed), resumed[0].stderr[-2000:]
    a = json.loads((out / "summary.json").read_text())
    b = json.loads((root / "real" / "summary.json").read_text())
    assert a["metrics"] == b["metrics"] and a["comm"] == b["comm"]
    sa = torch.load(out / CHECKPOINT, weights_only=True)["state"]
    sb = torch.load(root / "real" / CHECKPOINT, weights_only=True)["state"]
    assert all(torch.equal(sa[k], sb[k]) for k in sb)
