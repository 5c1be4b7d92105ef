"""Threads chosen from the problem size and the runs sharing the machine; --threads pins them."""

from __future__ import annotations

import pytest
import torch

from tailtamer import threads
from tailtamer.api import build
from tailtamer.errors import ConfigError


@pytest.fixture(autouse=True)
def _restore():
    before = torch.get_num_threads()
    yield
    threads.fix(None)
    torch.set_num_threads(before)


def test_one_thread_for_small_problems_and_shared_machines():
    assert threads.choose(20, 20, cores=16) == 1  # E1
    assert threads.choose(1000, 1000, cores=16) == 1  # below 2**20 entries
    assert threads.choose(10_000, 1_000, cores=16) == 9  # 1e7 entries: 9 threads' worth
    assert threads.choose(10_000, 1_000, cores=4) == 4  # capped by the cores
    assert threads.choose(10_000, 1_000, cores=16, sharing=8) == 2  # and by the runs sharing them
    assert threads.choose(10_000, 1_000, cores=2, sharing=7) == 1


def test_a_pinned_count_wins_and_zero_goes_back_to_choosing():
    threads.fix(3)
    assert (
        threads.resolve(20, 20) == 3 and threads.for_sharing(2, lambda: (1 // 0, 0)) == 3
    )  # the pinned count: size() never called
    threads.fix(0)
    assert threads.fixed() is None and threads.resolve(20, 20) == 1
    with pytest.raises(ConfigError, match="--threads must be ≥ 0"):
        threads.fix(-1)


def _cfg(n: int, d: int) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": d},
        "algorithm": {"name": "dsgd", "lr": 0.01},
        "topology": {"name": "ring", "n": n},
        "run": {"steps": 1, "eval_every": 1},
    }


def test_the_python_api_applies_the_choice_and_the_pin():
    torch.set_num_threads(2)
    build(_cfg(20, 20))
    assert torch.get_num_threads() == 1
    threads.fix(2)
    build(_cfg(20, 20))
    assert torch.get_num_threads() == 2


def test_the_thread_count_does_not_change_a_small_run():
    """Below torch's parallel grain the result is the same on 1 and 2 threads, bit for bit."""
    out = []
    for count in (1, 2):
        threads.fix(count)
        loop = build(
            {**_cfg(20, 20), "noise": {"name": "alpha-stable", "alpha": 1.5}, "run": {"steps": 30, "eval_every": 30}}
        )
        out.append(loop.run()["x"].clone())
    assert torch.equal(out[0], out[1])


def test_run_and_launch_take_threads(tmp_path):
    from tailtamer.cli.main import parser

    assert parser().parse_args(["run", "c.toml", "--threads", "1"]).threads == 1
    assert parser().parse_args(["launch", "--nproc", "2", "c.toml"]).threads == 0
