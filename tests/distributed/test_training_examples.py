"""Every torchrun example of docs/distributed.md runs on 2 gloo processes for a few steps and trains: the
loss every rank reports is the same and at least 0.05 below the untrained model's (the examples seed it)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from tailtamer.distributed.launcher import spawn
from tailtamer.distributed.training.shards import digits_shard
from tailtamer.problems.models.vision import DigitsCNN

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "train_decentralized.py": ["--steps", "40"],
    "train_local_update.py": ["--steps", "40", "--sync-every", "4", "--top-k", "0.5"],
    "train_compressed_ddp.py": ["--steps", "40"],
}


def untrained_loss() -> float:
    """The examples' initial model (seed 0) on the two shards' data, averaged over the shards as they report."""
    torch.manual_seed(0)
    model = DigitsCNN(channels=8)
    with torch.no_grad():
        return sum(F.cross_entropy(model(x), y).item() for x, y in (digits_shard(r, 2) for r in range(2))) / 2


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
    assert losses[0] < untrained_loss() - 0.05
