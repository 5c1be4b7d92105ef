"""Compressed data-parallel training: DDP with tailtamer's communication hook (error feedback + top-k 10 %).

    torchrun --standalone --nproc-per-node 4 examples/train_compressed_ddp.py --steps 200

The hook runs the ``ef`` server method on each gradient bucket: every process sends the top 10 % of
(lr·gradient + its error memory) and keeps the rest as memory; the hook's output is the method's whole step,
so the optimizer is SGD with lr = 1. ``--method``/``--compressor`` pick others (ef21 + qsgd, dsignsgd, ...).
"""

from __future__ import annotations

import argparse
import json

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from tailtamer.distributed import compressed_hook
from tailtamer.distributed.training.shards import digits_run, minibatches, report


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--method", default="ef")
    p.add_argument("--compressor", default='{"name": "top-k", "fraction": 0.1}', help="JSON, or null")
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)
    run = digits_run()  # torchrun's gloo group, this rank's digits shard, the CNN (seed 0)
    ddp = DistributedDataParallel(run.model)
    state, hook = compressed_hook(run.model, args.method, json.loads(args.compressor), lr=args.lr, timeout=60)
    ddp.register_comm_hook(state, hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=1.0)
    for _, (xb, yb) in zip(range(args.steps), minibatches(run.x, run.y, 32, seed=run.rank)):
        opt.zero_grad()
        F.cross_entropy(ddp(xb), yb).backward()
        opt.step()
    sent = state.comm.wire.bytes / args.steps
    dense = 4 * sum(q.numel() for q in run.model.parameters())
    return report(run, state.comm, f"after {args.steps} steps, {sent:.0f} bytes sent per step (dense {dense})")


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
