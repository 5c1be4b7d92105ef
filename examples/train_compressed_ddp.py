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

from tailtamer.distributed import init_from_env
from tailtamer.distributed.training.comm_hook import compressed_hook
from tailtamer.distributed.training.shards import digits_shard, minibatches
from tailtamer.problems.models.vision import DigitsCNN


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--method", default="ef")
    p.add_argument("--compressor", default='{"name": "top-k", "fraction": 0.1}', help="JSON, or null")
    p.add_argument("--lr", type=float, default=0.1)
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rank, world = init_from_env("gloo", timeout=60)
    x, y = digits_shard(rank, world)
    torch.manual_seed(0)  # the same initial model on every run (the wrappers also sync rank 0's)
    model = DigitsCNN(channels=8)
    ddp = DistributedDataParallel(model)
    state, hook = compressed_hook(
        model, args.method, json.loads(args.compressor), lr=args.lr, steps=args.steps, timeout=60
    )
    ddp.register_comm_hook(state, hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=1.0)
    for _, (xb, yb) in zip(range(args.steps), minibatches(x, y, 32, seed=rank)):
        opt.zero_grad()
        F.cross_entropy(ddp(xb), yb).backward()
        opt.step()
    sent = state.comm.wire.bytes / args.steps
    with torch.no_grad():
        loss = state.comm.mean(F.cross_entropy(model(x), y).reshape(1, 1)).item()
    if rank == 0:
        dense = 4 * sum(q.numel() for q in model.parameters())
        print(
            f"after {args.steps} steps: training loss {loss:.4f}, {sent:.0f} bytes sent per step (dense: {dense})",
            flush=True,
        )
    return loss


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
