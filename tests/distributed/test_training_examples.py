"""Every torchrun example of docs/distributed.md runs on 2 gloo processes for a few steps and trains: the
loss every rank reports is the same and below the untrained ln 10 ≈ 2.303 of a 10-class classifier."""

from __future__ import annotations

import importlib.util
import math
import time
from pathlib import Path

import pytest

from tailtamer.distributed.launcher import spawn

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "train_decentralized.py": ["--steps", "40"],
    "train_local_update.py": ["--steps", "40", "--sync-every", "4", "--top-k", "0.5"],
    "train_compressed_ddp.py": ["--steps", "40"],
}


def _run(rank: int, world: int, name: str, argv: list[str]) -> float:
    spec = importlib.util.spec_from_file_location(name[:-3], ROOT / "examples" / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.mark.multiprocess
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_trains_on_two_processes(name):
    start = time.perf_counter()
    losses = spawn(_run, 2, (name, EXAMPLES[name]), timeout=60)
    print(f"{name}: {time.perf_counter() - start:.1f} s wall on 2 gloo processes, loss {losses[0]:.4f}")
    assert losses[0] == losses[1]
    assert losses[0] < math.log(10) - 0.1
