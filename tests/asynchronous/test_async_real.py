"""Real asynchronous runs (a server and workers over gloo): replay equals the real run, lost workers, a dead
server, and the early errors."""

from __future__ import annotations

import json
import time

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.config import resolve
from tailtamer.distributed.asynchronous.run import check_real, supported_names
from tailtamer.distributed.launcher import DistributedRunError
from tailtamer.distributed.run import launch
from tailtamer.errors import ConfigError, ValidationError
from tailtamer.experiments.runner import run_config
from tailtamer.rundir.arrivals import ARRIVALS, complete_log, read_log
from tailtamer.rundir.checkpoint import read_checkpoint
from tailtamer.rundir.folder import read_metrics

torch.set_num_threads(1)

TIMEOUT = 5.0
SCALE = 0.002  # seconds per timing unit: a sqrt-model job sleeps 4–8 ms


def cfg(name: str = "ringmaster", params: dict | None = None, n: int = 3, steps: int = 30) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": 5, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": name, "lr": 0.05, **(params or {})},
        "topology": {"name": "server", "n": n},
        "noise": {"name": "student-t", "df": 1.5, "scale": 0.5},
        "timing": {"name": "sqrt", "jitter": 0.3},
        "run": {"steps": steps, "eval_every": 1},
    }


def events(folder) -> list[dict]:
    """The events of a real run's arrival log, which must be complete (sealed by its closing record)."""
    return read_log(folder).rows


def assert_replay_equal(c: dict, real, replay) -> None:
    run_config(c, replay, plot=False, progress=False, replay=real)
    a, b = read_metrics(real), read_metrics(replay)
    assert [r["step"] for r in a] == [r["step"] for r in b] and len(a) > 1
    for ra, rb in zip(a, b):  # every server update (eval_every = 1): loss, distance, time, delays
        for key in ("loss", "dist_to_opt", "grad_norm", "time", "mean_delay", "max_delay", "cancelled"):
            assert abs(ra[key] - rb[key]) <= 1e-10 * max(1.0, abs(ra[key])), (ra["step"], key, ra[key], rb[key])
    xa = read_checkpoint(real / "checkpoint.pt")["state"]["x"]
    xb = read_checkpoint(replay / "checkpoint.pt")["state"]["x"]
    assert xa.dtype == torch.float64 and torch.allclose(xa, xb, rtol=0, atol=1e-10)


@pytest.mark.multiprocess
def test_replay_of_a_real_ringmaster_stop_run_equals_it(tmp_path):
    """Ringmaster-stop (R = 2: in-flight jobs are cancelled and restarted) on a server and 3 gloo workers under
    Cauchy-like noise; the arrival log replayed in the simulator gives the same iterate after every update."""
    c = cfg("ringmaster", {"R": 2, "variant": "stop"})
    summary = launch(c, tmp_path / "real", 4, timeout=TIMEOUT, plot=False, time_scale=SCALE)
    assert summary["status"] == "finished" and summary["steps"] == 30
    assert summary["distributed"]["mode"] == "asynchronous" and summary["distributed"]["workers"] == 3
    log = events(tmp_path / "real")
    assert [r["k"] for r in log] == list(range(len(log))) and all(r["event"] == "arrival" for r in log)
    for updates, r in enumerate(log):  # delay = updates since the read; Ringmaster-stop never applies δ ≥ R
        assert r["delay"] == updates - r["version"] and r["delay"] < 2 and r["updated"]
    assert len({r["worker"] for r in log}) >= 2
    times = [r["time"] for r in log]
    assert times == sorted(times) and times[0] > 0
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


@pytest.mark.multiprocess
def test_replay_of_a_real_sync_sgd_run_equals_it(tmp_path):
    """sync-sgd on a server and 2 workers: the faster worker waits for each round; every round sees both."""
    c = cfg("sync-sgd", n=2, steps=10)
    launch(c, tmp_path / "real", 3, timeout=TIMEOUT, plot=False, time_scale=SCALE)
    log = events(tmp_path / "real")
    assert len(log) == 20 and [r["updated"] for r in log] == [False, True] * 10
    assert all(
        {log[2 * i]["worker"], log[2 * i + 1]["worker"]} == {0, 1} and log[2 * i]["version"] == i for i in range(10)
    )
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


@pytest.mark.multiprocess
@pytest.mark.parametrize("kind", ["exit", "stall"])
def test_a_dead_or_stalled_worker_is_dropped_and_recorded(tmp_path, monkeypatch, kind):
    """Worker 1 (rank 2) dies (or hangs) after its 2nd job: the server goes on with workers 0 and 2 to the
    last update, the log says when and which, and the replay (which drops it at the same point) still equals
    the run. A stall is judged on the server's clock (1.5 s past the job's duration), never by a gloo receive
    timeout, which would close every connection of the server."""
    monkeypatch.setenv("TAILTAMER_FAULT", f"2:2:{kind}")
    steps, timeout = (30, TIMEOUT) if kind == "exit" else (400, 1.5)
    c = cfg("asgd", steps=steps)  # jobs of 20–30 ms: the loss is noticed long before the last update
    summary = launch(c, tmp_path / "real", 4, timeout=timeout, plot=False, time_scale=0.01)
    assert summary["status"] == "finished" and summary["steps"] == steps
    log = events(tmp_path / "real")
    lost = [r for r in log if r["event"] == "lost"]
    assert len(lost) == 1 and lost[0]["worker"] == 1 and lost[0]["rank"] == 2 and "rank 2" in lost[0]["reason"]
    assert ("stalled" in lost[0]["reason"]) == (kind == "stall")
    after = log[lost[0]["k"] + 1 :]
    assert after and all(r["worker"] != 1 for r in after)
    assert sum(r["worker"] == 1 for r in log if r["event"] == "arrival") == 2
    report = json.loads((tmp_path / "real" / "async.json").read_text())
    assert report["real"]["lost_workers"] == [1]
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


@pytest.mark.multiprocess
def test_a_dead_server_stops_every_worker_with_an_error_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TAILTAMER_FAULT", "0:5:exit")
    t0 = time.monotonic()
    with pytest.raises(DistributedRunError) as info:
        launch(cfg("asgd", steps=200), tmp_path / "real", 4, timeout=TIMEOUT, plot=False, time_scale=SCALE)
    err = info.value
    assert err.rank == 0 and "rank 0 died" in str(err)
    died = (tmp_path / "real" / ARRIVALS).stat().st_mtime  # the server logged update 5, then died
    for r in (1, 2, 3):
        assert err.errors[r]["type"] == "CommError" and err.errors[r]["peers"] == [0], err.errors.get(r)
        assert "the server (rank 0)" in err.errors[r]["message"]
        assert err.errors[r]["time"] - died < TIMEOUT  # every worker stopped within the timeout
    assert time.monotonic() - t0 < 120  # start-up on a loaded machine included: never a hang


# ---- early errors (no process starts) ------------------------------------------------------------
def test_unsupported_schemes_and_wrong_process_counts_fail_before_starting(tmp_path):
    names = {n for n in ALGORITHMS.names() if getattr(ALGORITHMS.get(n), "family", "") == "async"}
    assert set(supported_names()) == names and {"asgd", "ringmaster", "nm-asgd", "sync-sgd", "fedbuff"} <= names
    check_real(resolve(cfg("fedbuff", {"lr": 0.05, "concurrency": 2})), 4)  # a capped buffer runs for real
    with pytest.raises(ValidationError, match="'dsgd' cannot run asynchronously"):
        check_real(
            resolve(
                {"problem": {"name": "quadratic"}, "algorithm": {"name": "dsgd"}, "topology": {"name": "ring", "n": 3}}
            ),
            4,
        )
    with pytest.raises(ConfigError, match=r"use --nproc 4"):
        launch(cfg("asgd"), tmp_path / "b", 3)
    with pytest.raises(ValidationError, match="cannot be resumed"):
        launch(cfg("asgd"), tmp_path / "c", 4, resume="strict")
    assert not (tmp_path / "b").exists()


def test_replay_checks_the_folder_the_config_and_the_log(tmp_path):
    with pytest.raises(ConfigError, match="--replay takes the run folder"):
        run_config(cfg("asgd"), tmp_path / "x", plot=False, progress=False, replay=tmp_path / "nothing")
    lock = {"problem": {"name": "quadratic"}, "algorithm": {"name": "dsgd"}, "topology": {"name": "ring", "n": 4}}
    with pytest.raises(ConfigError, match="runs in lockstep"):
        run_config(lock, tmp_path / "y", plot=False, progress=False, replay=tmp_path / "nothing")
    # a hand-made folder: the real run's config and a log whose second event is not in flight
    from tailtamer.config import dumps_toml, resolve

    real = tmp_path / "real"
    real.mkdir()
    c = cfg("asgd", n=2, steps=5)
    (real / "config.toml").write_text(dumps_toml(resolve(c)))
    rows = [
        {"event": "arrival", "k": 0, "worker": 1, "job": 0, "version": 0, "time": 1.0},
        {"event": "arrival", "k": 1, "worker": 1, "job": 0, "version": 0, "time": 2.0},
    ]
    (real / ARRIVALS).write_bytes(complete_log(rows))
    with pytest.raises(ValidationError, match="line 2: worker 1's job 0 .* job 1 read at version 1"):
        run_config(c, tmp_path / "z", plot=False, progress=False, replay=real)
    other = cfg("asgd", {"lr": 0.1}, n=2, steps=5)
    with pytest.raises(ConfigError, match="algorithm.lr"):
        run_config(other, tmp_path / "w", plot=False, progress=False, replay=real)


def test_a_replayed_log_forces_the_arrival_order(tmp_path):
    """Without processes: a hand-written log where the slow worker arrives first is followed (the simulator
    alone would deliver the fast one first), and the restarted worker reads the model after that update."""
    from tailtamer.config import dumps_toml, resolve

    real = tmp_path / "real"
    real.mkdir()
    c = cfg("asgd", n=2, steps=3)
    c["timing"] = {"name": "fixed", "times": [1.0, 10.0]}
    (real / "config.toml").write_text(dumps_toml(resolve(c)))
    rows = [
        {"event": "arrival", "k": 0, "worker": 1, "job": 0, "version": 0, "time": 0.5},
        {"event": "arrival", "k": 1, "worker": 0, "job": 0, "version": 0, "time": 0.7},
        {"event": "lost", "k": 2, "worker": 1, "time": 0.8},
        {"event": "arrival", "k": 3, "worker": 0, "job": 1, "version": 2, "time": 0.9},
    ]
    (real / ARRIVALS).write_bytes(complete_log(rows))
    s = run_config(c, tmp_path / "replay", plot=False, progress=False, replay=real)
    assert s["steps"] == 3 and s["metrics"]["arrivals"] == 3 and s["metrics"]["time"] == 0.9
    assert s["metrics"]["mean_delay"] == pytest.approx(1 / 3)  # delays 0, 1, 0


def heap_order(times: list[float], steps: int) -> list[dict]:
    """The arrival log of ASGD with fixed, tie-free times: each worker restarts at once on arrival."""
    t, jobs, ver, rows = list(times), [0] * len(times), [0] * len(times), []
    while len(rows) < steps:
        w = min(range(len(times)), key=lambda i: (t[i], i))
        rows.append({"event": "arrival", "k": len(rows), "worker": w, "job": jobs[w], "version": ver[w], "time": t[w]})
        jobs[w] += 1
        ver[w] = len(rows)
        t[w] += times[w]
    return rows


def test_replaying_the_simulators_own_order_reproduces_it_and_resumes_bitwise(tmp_path):
    """With tie-free fixed times the simulator's order is the heap's; replaying that order gives the simulated
    run exactly (metrics, clock, utilization), and a stopped replay resumes to the same folder."""
    from tailtamer.config import dumps_toml, resolve
    from tailtamer.testing.interrupt import StopAt

    c = cfg("dc-asgd", n=3, steps=24)
    c["timing"] = {"name": "fixed", "times": [1.0, 2.7, 4.1]}
    c["run"]["eval_every"] = 3
    real = tmp_path / "real"
    real.mkdir()
    (real / "config.toml").write_text(dumps_toml(resolve(c)))
    (real / ARRIVALS).write_bytes(complete_log(heap_order([1.0, 2.7, 4.1], 24)))
    sim = run_config(c, tmp_path / "sim", plot=False, progress=False)
    rep = run_config(c, tmp_path / "rep", plot=False, progress=False, replay=real)
    assert rep["metrics"] == sim["metrics"] and rep["comm"] == sim["comm"]
    with pytest.raises(KeyboardInterrupt):
        run_config(c, tmp_path / "part", plot=False, progress=False, replay=real, callbacks=[StopAt(10)])
    part = run_config(c, tmp_path / "part", resume=True, plot=False, progress=False, replay=real)
    assert part["metrics"] == rep["metrics"]
    a = read_checkpoint(tmp_path / "rep" / "checkpoint.pt")["state"]
    b = read_checkpoint(tmp_path / "part" / "checkpoint.pt")["state"]
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
