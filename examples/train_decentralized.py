"""Decentralized training: a digits CNN with GT-NSGDm over a ring of processes, a torch lr scheduler on top.

    torchrun --standalone --nproc-per-node 4 examples/train_decentralized.py --steps 200

Each process is one node with its own shard of scikit-learn's digits; ``opt.step()`` runs GT-NSGDm's tracked
momentum, normalized step and two gossips with the ring neighbours (docs/distributed.md).
"""

from __future__ import annotations

import argparse

import torch
import torch.distributed as dist
import torch.nn.functional as F

from tailtamer.distributed import DecentralizedOptimizer, init_from_env
from tailtamer.distributed.training.shards import digits_shard, minibatches
from tailtamer.problems.models.vision import DigitsCNN


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rank, world = init_from_env("gloo", timeout=60)
    x, y = digits_shard(rank, world)
    torch.manual_seed(0)  # the same initial model on every run (the wrappers also sync rank 0's)
    model = DigitsCNN(channels=8)
    opt = DecentralizedOptimizer(
        model.parameters(), algorithm="gt-nsgdm", topology="ring", lr=args.lr, beta=0.9, timeout=60
    )
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    for _, (xb, yb) in zip(range(args.steps), minibatches(x, y, 32, seed=rank)):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        loss = opt.comm.mean(F.cross_entropy(model(x), y).reshape(1, 1)).item()
    if rank == 0:
        print(f"after {args.steps} steps: network-average training loss {loss:.4f}", flush=True)
    return loss


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
