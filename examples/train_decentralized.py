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

from tailtamer.distributed import DecentralizedOptimizer
from tailtamer.distributed.training.shards import digits_run, minibatches, report


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--lr", type=float, default=0.05)
    args = p.parse_args(argv)
    run = digits_run()  # torchrun's gloo group, this rank's digits shard, the CNN (seed 0)
    model = run.model
    opt = DecentralizedOptimizer(model.parameters(), "gt-nsgdm", "ring", lr=args.lr, beta=0.9, timeout=60)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    for _, (xb, yb) in zip(range(args.steps), minibatches(run.x, run.y, 32, seed=run.rank)):
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
        sched.step()
    return report(run, opt.comm, f"after {args.steps} steps")


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
