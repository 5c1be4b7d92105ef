"""Train a small MLP with GT-NSGDm over a ring of processes, using tailtamer's drop-in optimizer.

Run on one machine with 4 processes (gloo, CPU)::

    torchrun --standalone --nproc-per-node 4 examples/train_ring.py --steps 300

Every process is one node of the ring and owns its own shard of a synthetic regression data set with heavy-
tailed (Student-t, 1.5 degrees of freedom) label noise. ``loss.backward()`` computes the local gradient;
``opt.step()`` runs GT-NSGDm's momentum, gradient tracking and normalized step, gossiping with the two ring
neighbours. Rank 0 prints the network-average training loss and the consensus distance.

On several machines, use torchrun's rendezvous flags instead of ``--standalone`` (docs/distributed.md).
"""

from __future__ import annotations

import argparse

import torch
import torch.distributed as dist

from tailtamer.distributed import DecentralizedOptimizer, init_from_env


def make_data(rank: int, samples: int, dim: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """This node's shard: y = tanh(a·x / 2) + heavy-tailed noise, with a node-dependent input shift."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, generator=g)
    g.manual_seed(seed * 1000 + rank + 1)
    x = torch.randn(samples, dim, generator=g) + 0.3 * rank
    noise = torch.distributions.StudentT(1.5).sample((samples,)) * 0.1
    return x, torch.tanh(x @ a / 2) + noise


def main(argv: list[str] | None = None) -> float:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--algorithm", default="gt-nsgdm")
    p.add_argument("--topology", default="ring")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--beta", type=float, default=0.9)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args(argv)

    torch.set_num_threads(1)
    rank, _world = init_from_env("gloo", timeout=args.timeout)
    torch.manual_seed(rank)  # different local init; the optimizer syncs to rank 0's
    x, y = make_data(rank, samples=512, dim=8)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
    hyper = {"lr": args.lr, "beta": args.beta} if args.algorithm == "gt-nsgdm" else {"lr": args.lr}
    opt = DecentralizedOptimizer(
        model.parameters(),
        algorithm=args.algorithm,
        topology=args.topology,
        steps=args.steps,
        timeout=args.timeout,
        **hyper,
    )
    g = torch.Generator().manual_seed(rank)
    avg = float("nan")
    for t in range(args.steps + 1):
        idx = torch.randint(0, len(x), (args.batch,), generator=g)
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x[idx]).squeeze(-1), y[idx])
        if t % max(args.steps // 5, 1) == 0 or t == args.steps:
            with torch.no_grad():
                full = torch.nn.functional.mse_loss(model(x).squeeze(-1), y).reshape(1, 1)
                flat = opt.flat_params()
                avg = float(opt.comm.mean(full))
                consensus = float(opt.comm.mean(((flat - opt.comm.mean(flat)) ** 2).sum(1, keepdim=True)))
            if rank == 0:
                print(f"step {t:4d}  average loss {avg:.4f}  consensus {consensus:.2e}", flush=True)
        if t == args.steps:
            break
        loss.backward()
        opt.step()
    return avg


if __name__ == "__main__":
    main()
    dist.destroy_process_group()
