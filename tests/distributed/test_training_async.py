"""Asynchronous training from a user's script (issue 27, item 4): the user's model and data on a real server and
workers (gloo), the run's sealed arrival log, and its replay in the simulator with equal iterates, a dead worker
tolerated as under ``launch``."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import torch

from tailtamer.distributed.training.asynchronous import AsyncTraining, replay_async, train_async
from tailtamer.errors import ValidationError
from tailtamer.problems.models import ModelProblem, TensorData
from tailtamer.rundir.arrivals import read_log
from tailtamer.rundir.checkpoint import read_checkpoint

TIMEOUT = 60.0


def _data(count: int, seed: int) -> TensorData:
    """A linearly separable two-class set in 4 dimensions."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(count, 4, generator=g)
    return TensorData(x, (x[:, 0] + 0.5 * x[:, 1] > 0).long())


def setup(workers: int = 2, steps: int = 30, **scheme) -> AsyncTraining:
    """The user's model (a linear classifier from torch) and data, as picklable factories every process rebuilds."""
    problem = functools.partial(
        ModelProblem,
        factory=functools.partial(torch.nn.Linear, 4, 2),
        train=_data(256, 0),
        val=_data(64, 1),
        classifier=True,
        batch_size=8,
    )
    times = [1.0 + 0.7 * w for w in range(workers)]
    return AsyncTraining(
        problem,
        {"name": "asgd", "lr": 0.1, **scheme},
        {"name": "fixed", "times": times},
        workers=workers,
        steps=steps,
        eval_every=10,
    )


def assert_replay_equal(s: AsyncTraining, real: Path, summary: dict) -> None:
    """The replay's final iterate is the real run's (its last checkpoint), and so are the metrics of it."""
    state, metrics = replay_async(s, real)
    x = read_checkpoint(real / "checkpoint.pt")["state"]["x"]
    assert torch.equal(state["x"], x)
    for key in ("val_loss", "val_acc", "time", "mean_delay", "max_delay"):
        assert metrics[key] == summary["metrics"][key], key


@pytest.mark.multiprocess
def test_a_users_model_trains_asynchronously_and_its_replay_equals_it(tmp_path):
    s = setup()
    summary = train_async(s, tmp_path / "real", timeout=TIMEOUT)
    log = read_log(tmp_path / "real")
    assert summary["status"] == "finished" and summary["steps"] == 30 and log.complete
    assert {r["worker"] for r in log.rows} == {0, 1}
    assert_replay_equal(s, tmp_path / "real", summary)
    assert summary["metrics"]["val_acc"] > 0.7  # it learned (chance: about 0.5)


@pytest.mark.multiprocess
def test_a_dead_worker_is_dropped_and_the_replay_still_equals_the_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TAILTAMER_FAULT", "2:2:exit")  # rank 2 = worker 1 dies after 2 jobs
    s = setup(workers=3, steps=30)
    summary = train_async(s, tmp_path / "real", timeout=TIMEOUT)
    log = read_log(tmp_path / "real")
    lost = [r for r in log.rows if r["event"] == "lost"]
    assert summary["status"] == "finished" and len(lost) == 1 and lost[0]["worker"] == 1
    assert_replay_equal(s, tmp_path / "real", summary)


def test_a_lockstep_method_is_refused_before_the_folder(tmp_path):
    with pytest.raises(ValidationError, match="cannot run asynchronously"):
        train_async(setup(name="gt-nsgdm"), tmp_path / "real")
    assert not Path(tmp_path / "real").exists()


@pytest.mark.multiprocess
def test_the_asynchronous_example_trains_and_replays_exactly(tmp_path):
    """examples/train_async.py (docs/distributed.md) as a user runs it: a digits CNN on a server and 2 workers."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [
            sys.executable,
            str(root / "examples" / "train_async.py"),
            "--steps",
            "40",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = out.stdout.strip().splitlines()[-1]
    assert line.endswith("replay: max |Δx| 0"), line
    assert float(line.split()[1]) > 0.3  # 10 classes: chance is 0.1
