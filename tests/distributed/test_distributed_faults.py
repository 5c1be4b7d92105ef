"""Faults in real runs: a stalled rank makes the others stop within the timeout with an error naming it."""

from __future__ import annotations

import time

import pytest
import torch

from tailtamer.comm.distributed import DistributedComm
from tailtamer.comm.health import CommError
from tailtamer.distributed.launcher import DistributedRunError, spawn
from tailtamer.distributed.run import launch
from tailtamer.topology import TOPOLOGIES

TIMEOUT = 3.0


def _stall_in_mean(rank: int, world: int) -> None:
    comm = DistributedComm(TOPOLOGIES.build("ring", {}, n=world).W, timeout=TIMEOUT)
    z = torch.ones(1, 8, dtype=torch.float64)
    for i in range(20):
        if rank == 1 and i == 3:
            time.sleep(3600)
        comm.mean(z)


@pytest.mark.multiprocess
def test_stalled_rank_in_all_reduce_is_named_by_the_roll_call():
    t0 = time.monotonic()
    with pytest.raises(DistributedRunError) as info:
        spawn(_stall_in_mean, 4, timeout=TIMEOUT)
    err = info.value
    assert err.rank == 1 and "rank 1 stalled" in str(err)
    for r in (0, 2, 3):
        assert err.errors[r]["type"] == "CommError" and err.errors[r]["peers"] == [1], err.errors[r]["message"]
        assert "rank 1 (nodes 1) did not answer" in err.errors[r]["message"]
    assert time.monotonic() - t0 < 60  # start-up + 3 s timeout + grace, never a hang


@pytest.mark.multiprocess
def test_stalled_rank_in_a_launched_run_stops_everyone(tmp_path, monkeypatch):
    """Rank 2 stalls after step 4; its ring neighbours time out receiving from it (3 s) and name it; the
    launcher terminates the stalled process; nothing hangs."""
    monkeypatch.setenv("TAILTAMER_FAULT", "2:4:stall")
    cfg = {
        "problem": {"name": "quadratic"},
        "algorithm": {"name": "gt-nsgdm"},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 50, "eval_every": 10},
    }
    t0 = time.monotonic()
    with pytest.raises(DistributedRunError) as info:
        launch(cfg, tmp_path / "run", 4, timeout=TIMEOUT, plot=False)
    elapsed = time.monotonic() - t0
    err = info.value
    assert err.rank == 2 and "rank 2 stalled" in str(err), str(err)
    assert err.exitcodes[2] is not None and err.exitcodes[2] < 0  # terminated by the launcher
    for r in (1, 3):  # the neighbours name it
        assert err.errors[r]["peers"] == [2] and "rank 2" in err.errors[r]["message"]
        assert "timeout" in err.errors[r]["message"]
    assert elapsed < 60


def test_comm_error_is_a_tailtamer_error():
    from tailtamer.errors import TailtamerError

    e = CommError("x", 0, [2], "mix#1")
    assert isinstance(e, TailtamerError) and e.peers == [2]
