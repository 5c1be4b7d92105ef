"""Local updates (TailOPT / DiLoCo style): a digits CNN trained with Bi²Clip, synchronising every 5 steps.

    torchrun --standalone --nproc-per-node 4 examples/train_local_update.py --steps 200

Each process runs BiClip's coordinate-wise clipping as its inner optimizer for ``--sync-every`` steps; then
the pseudo-gradients are averaged (``--top-k 0.1``: as top-10 % packets) and BiClip at the server moves the
model, identically on every process. ``--inner adamw`` uses torch's AdamW as the inner optimizer instead.
"""

from __future__ import annotations

import argparse

import torch
import torch.distributed as dist
import torch.nn.functional as F

from tailtamer.distributed import LocalUpdate
from tailtamer.distributed.training.shards import digits_run, minibatches, report


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--sync-every", type=int, default=5)
    p.add_argument("--inner", choices=("biclip", "adamw"), default="biclip")
    p.add_argument("--top-k", type=float, default=0.0, help="send this fraction of each pseudo-gradient")
    args = p.parse_args(argv)
    run = digits_run()  # torchrun's gloo group, this rank's digits shard, the CNN (seed 0)
    model = run.model
    inner = torch.optim.AdamW(model.parameters(), lr=1e-3) if args.inner == "adamw" else None
    topk = {"name": "top-k", "fraction": args.top_k} if args.top_k else None
    lu = LocalUpdate(model, "bi2clip", inner, sync_every=args.sync_every, steps=args.steps // args.sync_every,
                     compression=topk, lr=0.1, u=1.0, d=0.0, outer_u=1.0, outer_d=0.0, timeout=60)  # fmt: skip
    for _, (xb, yb) in zip(range(args.steps), minibatches(run.x, run.y, 32, seed=run.rank)):
        lu.inner.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        lu.inner.step()  # every --sync-every steps: the outer step too
    return report(run, lu.comm, f"after {lu.round} rounds")


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
