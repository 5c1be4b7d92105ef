"""Stop means stop (issue 25, item 6): a stopped sweep dispatches nothing more and ends its workers within about
2 s; finished runs stay. And ``--workers`` below 1 is refused, not replaced by the default."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tailtamer.errors import ConfigError
from tailtamer.experiments import executors
from tailtamer.experiments.executors import ProcessPool

JOB_SECONDS = 0.3


def _slow_job(folder: str) -> str:
    """A run that takes :data:`JOB_SECONDS` and leaves its folder when it finishes."""
    time.sleep(JOB_SECONDS)
    Path(folder).mkdir()
    return folder


@pytest.mark.parametrize("how", ["ctrl-c", "caller stops reading"])
def test_a_stopped_pool_dispatches_nothing_more_and_ends_its_workers(how, tmp_path):
    executors.warm()
    calls = [(str(tmp_path / f"run{i}"),) for i in range(40)]
    results = ProcessPool().map(_slow_job, calls, workers=2)
    first = next(results)
    t0 = time.monotonic()
    if how == "ctrl-c":
        with pytest.raises(KeyboardInterrupt):
            results.throw(KeyboardInterrupt)
    else:
        results.close()
    took = time.monotonic() - t0
    left = sorted(p.name for p in tmp_path.iterdir())
    time.sleep(4 * JOB_SECONDS)  # nothing runs on after the stop
    assert sorted(p.name for p in tmp_path.iterdir()) == left
    assert Path(first).is_dir() and len(left) <= 4, left  # the finished ones stay; 36+ never started
    assert took < 2.5, took


@pytest.mark.parametrize("workers", [0, -2])
def test_workers_below_one_is_refused(workers):
    with pytest.raises(ConfigError, match=r"--workers must be an integer ≥ 1"):
        ProcessPool().slots(workers)
