"""Buffered schemes with a concurrency cap on real processes: idle workers live on the server's heartbeats,
a lost busy worker's slot goes to the next idle one (in the event logic, so the replay reproduces it), and a
lost worker is never offered as idle."""

from __future__ import annotations

import json

import pytest
import torch
from test_async_real import assert_replay_equal

from tailtamer.api import build_components, make_async_loop
from tailtamer.config import dumps_toml, resolve
from tailtamer.distributed.launcher import DistributedRunError
from tailtamer.distributed.run import launch
from tailtamer.engine.events.replay import ReplayLoop
from tailtamer.errors import ValidationError
from tailtamer.experiments.runner import run_config
from tailtamer.rundir.arrivals import ARRIVALS, ArrivalLog, complete_log, read_log

torch.set_num_threads(1)

TIMEOUT = 1.5  # seconds: idle waits below are longer, so only heartbeats keep the workers alive


def capped(n: int = 3, concurrency: int = 1, steps: int = 5, times: float = 1.0, K: int = 1) -> dict:
    """FedBuff with a concurrency cap, every job ``times`` timing units long (equal fixed times)."""
    return {
        "problem": {"name": "quadratic", "dim": 5, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {
            "name": "fedbuff",
            "lr": 0.5,
            "local_lr": 0.05,
            "local_steps": 2,
            "K": K,
            "concurrency": concurrency,
        },
        "topology": {"name": "server", "n": n},
        "noise": {"name": "student-t", "df": 1.5, "scale": 0.5},
        "timing": {"name": "fixed", "times": [times] * n},
        "run": {"steps": steps, "eval_every": 1},
    }


def arrivals(log: list[dict], worker: int) -> list[dict]:
    return [r for r in log if r["event"] == "arrival" and r["worker"] == worker]


# ---- the event logic, without processes ----------------------------------------------------------
def arrival(k: int, worker: int, job: int, version: int, updates: int, time: float) -> dict:
    """An arrival row as the server writes it (K = 1: every arrival updates; delay = updates − version)."""
    return {
        "event": "arrival",
        "k": k,
        "worker": worker,
        "job": job,
        "version": version,
        "delay": updates - version,
        "time": time,
        "updated": True,
        "dropped": False,
    }


def lost(k: int, worker: int, updates: int, time: float, replaced: list[int]) -> dict:
    row = {
        "event": "lost",
        "k": k,
        "worker": worker,
        "rank": worker + 1,
        "time": time,
        "updates": updates,
        "reason": "injected",
    }
    return {**row, "replaced_by": replaced} if replaced else row


def replay(c: dict, rows: list[dict], folder) -> ReplayLoop:
    """Replay ``rows`` for config ``c``, writing the replay's own arrival log to ``folder``."""
    folder.mkdir()
    loop = make_async_loop(build_components(c), [], ReplayLoop, rows=rows, log=ArrivalLog(folder))
    loop.run()
    return loop


def test_a_lost_busy_workers_slot_is_refilled_and_a_lost_worker_never_restarts(tmp_path):
    """FedBuff, n = 4, concurrency 2, round-robin from ``next`` = 2. Worker 1 is lost with a job in flight:
    its slot goes at once to worker 3 (the next idle one in round-robin order, on the model of that moment,
    version 1); later, when round-robin comes to worker 1 again (at k = 3), the lost worker is skipped and
    worker 2 starts. Every row below is forced: a replay that decided otherwise would find a job not in
    flight (or not read at that version) and fail. The replay's own log is the input, ``replaced_by``
    included."""
    c = capped(n=4, concurrency=2, steps=5)
    rows = [
        arrival(0, 0, 0, 0, 0, 1.0),  # restarts worker 2 (next 2 → 3)
        lost(1, 1, 1, 1.5, [3]),  # worker 1 busy: worker 3 takes its slot (next 3 → 0)
        arrival(2, 2, 0, 1, 1, 2.0),  # restarts worker 0 (next 0 → 1)
        arrival(3, 3, 0, 1, 2, 2.5),  # next is 1, lost: worker 2 (next → 3)
        arrival(4, 0, 1, 2, 3, 3.0),  # restarts worker 3 (next 3 → 0)
        arrival(5, 2, 1, 3, 4, 3.5),
    ]
    loop = replay(c, rows, tmp_path / "rep")
    assert loop.lost == [False, True, False, False] and loop.events.jobs[1] == 1  # never started again
    assert loop.events.jobs == [2, 1, 2, 2] and loop.events.updates == 5
    assert read_log(tmp_path / "rep", partial=True).rows == rows
    # the same loss, logged with another successor, is a different run: named, not replayed silently
    wrong = [*rows[:1], lost(1, 1, 1, 1.5, [0]), *rows[2:]]
    with pytest.raises(
        ValidationError,
        match=r"line 2: worker 1 is lost and the log starts \[0\] in its place, "
        r"but this replay starts \[3\]",
    ):
        replay(c, wrong, tmp_path / "wrong")


def test_without_a_cap_a_lost_worker_is_not_replaced_and_an_idle_loss_frees_no_slot(tmp_path):
    """No cap: every worker has its own slot, so a lost busy worker is replaced by nobody (the log's row has no
    ``replaced_by``, as before). With a cap, a worker lost while idle had no slot to give."""
    c = capped(n=3, concurrency=0, steps=3)
    rows = [
        arrival(0, 0, 0, 0, 0, 1.0),
        lost(1, 1, 1, 1.2, []),
        arrival(2, 2, 0, 0, 1, 1.4),
        arrival(3, 0, 1, 1, 2, 2.0),
    ]
    loop = replay(c, rows, tmp_path / "free")
    assert read_log(tmp_path / "free", partial=True).rows == rows and loop.events.jobs == [2, 1, 2]
    c = capped(n=3, concurrency=1, steps=3)  # worker 0, then 1, then 2 (round-robin); 0 lost idle
    rows = [
        arrival(0, 0, 0, 0, 0, 1.0),
        lost(1, 0, 1, 1.1, []),
        arrival(2, 1, 0, 1, 1, 2.0),
        arrival(3, 2, 0, 2, 2, 3.0),
    ]
    loop = replay(c, rows, tmp_path / "idle")
    assert read_log(tmp_path / "idle", partial=True).rows == rows and loop.events.jobs == [1, 1, 1]
    assert loop.events.busy() == [] and loop.events.pending() == [1]  # round-robin skipped lost worker 0


# ---- real runs -----------------------------------------------------------------------------------
@pytest.mark.multiprocess
def test_a_real_capped_fedbuff_run_outlives_long_idle_waits_and_replays_exactly(tmp_path):
    """One job at a time among 3 workers (jobs of 1 s): each worker waits for the two others' jobs, 2 s and more
    of silence apart from heartbeats, beyond the 1.5 s timeout (and beyond a job's 1.5 s + 1 s budget). No
    worker fails, the jobs go round-robin, and the replay equals the run within 1e-10."""
    scale = 1.0
    c = capped(n=3, concurrency=1, steps=5)
    summary = launch(c, tmp_path / "real", 4, timeout=TIMEOUT, plot=False, time_scale=scale)
    assert summary["status"] == "finished" and summary["steps"] == 5
    log = read_log(tmp_path / "real").rows
    assert all(r["event"] == "arrival" for r in log) and [r["worker"] for r in log] == [0, 1, 2, 0, 1]
    assert [r["version"] for r in log] == [0, 1, 2, 3, 4]  # one job at a time: never stale
    assert json.loads((tmp_path / "real" / "async.json").read_text())["real"]["lost_workers"] == []
    # the waits the heartbeats covered: worker 2 heard no job for its first 2 jobs' time; worker 0 from the START
    # of its first job to the START of its second (arrival to arrival) waited longer than a job's budget
    assert log[1]["time"] * scale > TIMEOUT
    assert (log[3]["time"] - log[0]["time"]) * scale > TIMEOUT + 1.0 * scale
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


def _one_lost(tmp_path, monkeypatch, kind: str, steps: int, time_scale: float):
    """A capped run (2 of 3 workers) where worker 1 (rank 2) fails (``kind``) after its first job: it must finish
    all ``steps`` with exactly that worker lost. Returns the config, the arrival log and its lost line(s)."""
    monkeypatch.setenv("TAILTAMER_FAULT", f"2:1:{kind}")
    c = capped(n=3, concurrency=2, steps=steps, times=1.0)
    summary = launch(c, tmp_path / "real", 4, timeout=TIMEOUT, plot=False, time_scale=time_scale)
    assert summary["status"] == "finished" and summary["steps"] == steps
    log = read_log(tmp_path / "real").rows
    gone = [r for r in log if r["event"] == "lost"]
    assert len(gone) == 1 and gone[0]["worker"] == 1
    return c, log, gone


@pytest.mark.multiprocess
def test_a_stalled_busy_worker_under_a_cap_gives_its_slot_to_an_idle_one(tmp_path, monkeypatch):
    """Concurrency 2 of 3. Worker 1 (rank 2) hangs after its first job; when round-robin starts it again it never
    answers, and is lost with that job in flight: its slot goes at once to the idle worker, which starts on
    the model of that moment, and the run goes on with two jobs in flight to the last update. The log records
    the loss and the successor; the replay (which decides the same successor) equals the run."""
    c, log, gone = _one_lost(tmp_path, monkeypatch, "stall", steps=20, time_scale=0.3)
    assert "stalled" in gone[0]["reason"]
    assert len(arrivals(log, 1)) == 1  # it answered its first job only
    (successor,) = gone[0]["replaced_by"]
    assert successor != 1
    first = next(r for r in log[gone[0]["k"] + 1 :] if r["worker"] == successor)
    assert first["version"] == gone[0]["updates"]  # started at the loss, not at a later arrival
    assert {r["worker"] for r in log[gone[0]["k"] + 1 :]} == {0, 2}
    assert json.loads((tmp_path / "real" / "async.json").read_text())["real"]["lost_workers"] == [1]
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


@pytest.mark.multiprocess
def test_a_dead_worker_under_a_cap_is_dropped_and_never_restarted(tmp_path, monkeypatch):
    """Worker 1 exits after its first job (while idle, or once restarted: whenever the server notices); the
    run finishes with the others, never offering worker 1 a job after its loss, and replays exactly."""
    c, log, gone = _one_lost(tmp_path, monkeypatch, "exit", steps=12, time_scale=0.2)
    assert "rank 2" in gone[0]["reason"]
    assert all(r["worker"] != 1 for r in log[gone[0]["k"] + 1 :]) and len(arrivals(log, 1)) == 1
    assert gone[0].get("replaced_by", []) in ([], [0], [2])
    assert_replay_equal(c, tmp_path / "real", tmp_path / "replay")


@pytest.mark.multiprocess
def test_idle_capped_workers_of_a_silent_server_fail_within_the_timeout_naming_it(tmp_path, monkeypatch):
    """The server hangs after its 3rd update (no more jobs, no heartbeats). Every worker, busy or idle for its
    turn, stops with an error naming rank 0 within the timeout after its last message (at most a job's
    duration before the hang), and not before the hang: until then the heartbeats kept the idle ones alive."""
    monkeypatch.setenv("TAILTAMER_FAULT", "0:3:stall")
    scale = 1.0
    with pytest.raises(DistributedRunError) as info:
        launch(
            capped(n=3, concurrency=1, steps=50), tmp_path / "real", 4, timeout=TIMEOUT, plot=False, time_scale=scale
        )
    err = info.value
    assert err.rank == 0 and "rank 0 stalled" in str(err)
    hung = (tmp_path / "real" / ARRIVALS).stat().st_mtime  # the server logged update 3, then hung
    partial = read_log(tmp_path / "real", partial=True)  # no closing record: the run did not finish
    assert len(partial.rows) == 3 and not partial.complete
    for r in (1, 2, 3):
        e = err.errors[r]
        assert e["type"] == "CommError" and e["peers"] == [0] and "the server (rank 0)" in e["message"], e
        assert "no message within" in e["message"]
        assert hung < e["time"] < hung + TIMEOUT + 1.0 * scale + 1.0  # slack: a loaded machine


def test_replay_config_of_a_capped_run_round_trips(tmp_path):
    """A capped config is accepted by a replay of its own (hand-made) folder: the cap is no longer refused."""
    c = capped(n=3, concurrency=1, steps=1)
    real = tmp_path / "real"
    real.mkdir()
    (real / "config.toml").write_text(dumps_toml(resolve(c)))
    (real / ARRIVALS).write_bytes(complete_log([arrival(0, 0, 0, 0, 0, 1.0)]))
    s = run_config(c, tmp_path / "rep", plot=False, progress=False, replay=real)
    assert s["steps"] == 1 and s["metrics"]["arrivals"] == 1
