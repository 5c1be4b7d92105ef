"""Asynchronous training: your model and data on a server and workers of unequal speed (ASGD), then replayed.

    python examples/train_async.py --steps 200 --workers 3 --out runs/train-async

The workers compute gradients of the model below on scikit-learn's digits through tailtamer's real server and
workers (one gloo process each, docs/distributed.md); the run's arrival log is then replayed in the simulator,
which recomputes every gradient and reaches the same iterate.
"""

from __future__ import annotations

import argparse
import functools

import torch
from torch import nn

from tailtamer.data import load_digits_arrays
from tailtamer.distributed.training.asynchronous import AsyncTraining, replay_async, train_async
from tailtamer.problems.models import ModelProblem, TensorData
from tailtamer.rundir.checkpoint import read_checkpoint


def make_model() -> nn.Module:
    """The user's model: a small CNN for 8×8 grey images."""
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 10))


def digits(part: slice) -> TensorData:
    images, labels = load_digits_arrays()
    return TensorData(torch.from_numpy(images[:, None]).float()[part], torch.from_numpy(labels)[part])


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--out", default="runs/train-async")
    args = p.parse_args(argv)
    problem = functools.partial(
        ModelProblem,
        factory=make_model,
        train=digits(slice(0, 1400)),
        val=digits(slice(1400, None)),
        classifier=True,
        batch_size=32,
    )
    setup = AsyncTraining(
        problem,
        {"name": "asgd", "lr": args.lr},
        {"name": "sqrt"},
        workers=args.workers,
        steps=args.steps,
        eval_every=max(args.steps // 4, 1),
        dtype="float64",
    )
    summary = train_async(setup, args.out, timeout=60)
    state, _ = replay_async(setup, args.out)
    gap = (state["x"] - read_checkpoint(f"{args.out}/checkpoint.pt")["state"]["x"]).abs().max().item()
    print(f"val_acc {summary['metrics']['val_acc']:.3f} after {summary['steps']} updates; replay: max |Δx| {gap:g}")
    return {**summary["metrics"], "replay_gap": gap}


if __name__ == "__main__":
    main()
