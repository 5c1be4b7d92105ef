"""Local updates (TailOPT / DiLoCo style): a digits CNN trained with Bi²Clip, synchronising every 5 steps.

    torchrun --standalone --nproc-per-node 4 examples/train_local_update.py --steps 200

Each process runs BiClip's coordinate-wise clipping as its inner optimizer for ``--sync-every`` steps; then
the pseudo-gradients are averaged (``--top-k 0.1``: as top-10 % packets) and BiClip at the server moves the model,
identically on every process. ``--inner adamw`` uses torch's AdamW as the inner optimizer instead.
"""

from __future__ import annotations

import argparse

import torch
import torch.distributed as dist
import torch.nn.functional as F

from tailtamer.distributed import init_from_env
from tailtamer.distributed.training.local_update import LocalUpdate
from tailtamer.distributed.training.shards import digits_shard, minibatches
from tailtamer.problems.models.vision import DigitsCNN


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--sync-every", type=int, default=5)
    p.add_argument("--inner", choices=("biclip", "adamw"), default="biclip")
    p.add_argument("--top-k", type=float, default=0.0, help="send this fraction of each pseudo-gradient")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    rank, world = init_from_env("gloo", timeout=60)
    x, y = digits_shard(rank, world)
    torch.manual_seed(0)  # the same initial model on every run (the wrappers also sync rank 0's)
    model = DigitsCNN(channels=8)
    inner = torch.optim.AdamW(model.parameters(), lr=1e-3) if args.inner == "adamw" else None
    lu = LocalUpdate(
        model,
        "bi2clip",
        inner,
        sync_every=args.sync_every,
        steps=args.steps // args.sync_every,
        compression={"name": "top-k", "fraction": args.top_k} if args.top_k else None,
        lr=0.1,
        u=1.0,
        d=0.0,
        outer_u=1.0,
        outer_d=0.0,
        timeout=60,
    )
    for _, (xb, yb) in zip(range(args.steps), minibatches(x, y, 32, seed=rank)):
        lu.inner.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        lu.inner.step()  # every --sync-every steps: the outer step too
    with torch.no_grad():
        loss = lu.comm.mean(F.cross_entropy(model(x), y).reshape(1, 1)).item()
    if rank == 0:
        print(f"after {lu.round} rounds: average training loss {loss:.4f}", flush=True)
    return loss


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
