"""Launch starts fast (issue 25, item 8): ranks fork from a preloaded forkserver, see the launching process's
environment, and a run's clock starts when every rank is ready (the comm's barrier), not at the first rank's."""

from __future__ import annotations

import os
import time

import pytest
import torch.distributed as dist

from tailtamer.distributed.launcher import spawn

SLOW = 1.5  # seconds rank 1 takes longer to get ready than rank 0


def _late_rank_body(rank: int, world: int) -> float:
    """Rank 1 is ``SLOW`` seconds late to build its comm; returns how long rank 0's first mix took after its comm
    was built (the clock of a run)."""
    import numpy as np
    import torch

    from tailtamer.comm.distributed import DistributedComm

    if rank == 1:
        time.sleep(SLOW)
    comm = DistributedComm(np.full((2, 2), 0.5))
    t0 = time.perf_counter()
    comm.mix(torch.ones(1, 3, dtype=torch.float64))
    return time.perf_counter() - t0


def _env_body(rank: int, world: int) -> tuple[str | None, int, bool]:
    import sys

    return os.environ.get("TAILTAMER_TEST_LAUNCH"), os.getpid(), "tailtamer.distributed.run" in sys.modules


@pytest.mark.multiprocess
def test_the_clock_starts_when_every_rank_is_ready():
    first_mix = spawn(_late_rank_body, 2, timeout=60)[0]
    assert first_mix < SLOW / 3, first_mix


@pytest.mark.multiprocess
def test_ranks_fork_preloaded_and_see_the_environment_of_the_launch(monkeypatch):
    monkeypatch.setenv("TAILTAMER_TEST_LAUNCH", "first")
    first = spawn(_env_body, 2, timeout=60)
    monkeypatch.setenv("TAILTAMER_TEST_LAUNCH", "second")
    t0 = time.perf_counter()
    second = spawn(_env_body, 2, timeout=60)
    took = time.perf_counter() - t0
    assert [v[0] for v in first] == ["first"] * 2 and [v[0] for v in second] == ["second"] * 2
    assert all(v[2] for v in first + second)  # tailtamer came with the fork, not imported by the rank
    assert took < 10.0, took  # no torch import per rank (a loaded machine: slack)
    assert not dist.is_initialized()
