"""tailtamer's compressed DDP hook beside torch's own ``powerSGD_hook`` (and plain all-reduce), same model.

    python benchmarks/comm_hooks.py                  # 2 gloo processes, digits CNN (16 channels), 100 steps
    python benchmarks/comm_hooks.py --quick          # 20 steps
    python benchmarks/comm_hooks.py --nproc 4 --rank 2

Every variant trains scikit-learn's digits CNN (tailtamer.problems.models.vision.DigitsCNN) from the same
initialisation on the same per-rank minibatches for a fixed number of steps, with one torch thread per process.
Reported per variant: the median time per step (rank 0, each step after a barrier), the bytes one rank puts on
the wire per step (the payload handed to the collective: for all-reduce the tensor, for tailtamer's hook the
codec's packet; torch's PowerSGD counted from its P and Q factors and uncompressed tensors, rule
(rows + cols)·rank·2 < rows·cols, as its hook does), and the final training loss (mean over ranks, all data).

Variants: ``allreduce`` (DDP's default, SGD lr), ``torch-powersgd`` (torch's powerSGD_hook, rank r, start
iteration 2, error feedback and warm start), and tailtamer's hook (SGD lr = 1, the method's step size lr):
``powersgd`` (the server method: the same algorithm as torch's), ``ef+powersgd``, ``ef+top-k`` (1 %), ``ef+qsgd``
(4 levels, biased: scaled by 1/(1 + ω), as error feedback needs) and ``dsignsgd``.
The last line printed is one JSON object with every measurement.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tailtamer.data import load_digits_arrays
from tailtamer.distributed.launcher import spawn
from tailtamer.distributed.training.comm_hook import compressed_hook
from tailtamer.problems.models.vision import DigitsCNN

CHANNELS, BATCH = 16, 32


def variants(rank: int) -> dict[str, tuple]:
    return {
        "allreduce": (None,),
        "torch-powersgd": ("torch",),
        "powersgd": ("powersgd", None, {"rank": rank, "start_iter": 2}),
        "ef+powersgd": ("ef", {"name": "powersgd", "rank": rank}, {}),
        "ef+top-k": ("ef", {"name": "top-k", "fraction": 0.01}, {}),
        "ef+qsgd": ("ef", {"name": "qsgd", "levels": 4, "biased": True}, {}),
        "dsignsgd": ("dsignsgd", None, {"lr": 0.002}),
    }


def torch_powersgd_bytes(model: torch.nn.Module, rank: int) -> int:
    """Bytes torch's PowerSGD all-reduces per step (float32): P and Q of every compressed matrix, the rest dense."""
    total = 0
    for p in model.parameters():
        rows, cols = p.shape[0], p.numel() // p.shape[0]
        total += 4 * ((rows + cols) * rank if p.dim() > 1 and (rows + cols) * rank * 2 < rows * cols else p.numel())
    return total


def _run(rank: int, world: int, name: str, spec: tuple, steps: int, lr: float, r: int) -> dict:
    import torch.distributed as dist
    from torch.distributed.algorithms.ddp_comm_hooks import powerSGD_hook as torch_psgd
    from torch.nn.parallel import DistributedDataParallel

    images, labels = load_digits_arrays()
    x, y = torch.from_numpy(images[:, None]).float(), torch.from_numpy(labels)
    torch.manual_seed(0)
    model = DigitsCNN(CHANNELS)
    ddp = DistributedDataParallel(model)
    opt_lr, state = lr, None
    if spec[0] == "torch":
        ddp.register_comm_hook(
            torch_psgd.PowerSGDState(None, matrix_approximation_rank=r, start_powerSGD_iter=2), torch_psgd.powerSGD_hook
        )
    elif spec[0] is not None:
        method, compressor, hyper = spec
        state, hook = compressed_hook(model, method, compressor, **{"lr": lr, "steps": steps, **hyper})
        ddp.register_comm_hook(state, hook)
        opt_lr = 1.0
    opt = torch.optim.SGD(ddp.parameters(), lr=opt_lr)
    g = torch.Generator().manual_seed(rank)
    times = []
    for _ in range(steps):
        idx = torch.randint(0, len(y), (BATCH,), generator=g)
        dist.barrier()
        start = time.perf_counter()
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ddp(x[idx]), y[idx]).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(model(x), y).reshape(1)
    dist.all_reduce(loss)
    if state is not None:
        sent = state.comm.wire.bytes / steps
    elif spec[0] == "torch":
        dense = 4 * sum(p.numel() for p in model.parameters())  # start_powerSGD_iter = 2: 2 dense steps
        sent = (torch_powersgd_bytes(model, r) * (steps - 2) + dense * 2) / steps
    else:
        sent = 4 * sum(p.numel() for p in model.parameters())
    return {
        "ms_per_step": 1e3 * statistics.median(times[2:]),
        "bytes_per_step": sent,
        "final_loss": float(loss) / world,
    }


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--nproc", type=int, default=2)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rank", type=int, default=1, help="PowerSGD rank (torch's and tailtamer's)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--quick", action="store_true", help="20 steps")
    args = p.parse_args(argv)
    steps = 20 if args.quick else args.steps
    out = {
        "nproc": args.nproc,
        "steps": steps,
        "rank": args.rank,
        "torch_threads_per_process": 1,
        "dense_bytes": 4 * sum(q.numel() for q in DigitsCNN(CHANNELS).parameters()),
    }
    for name, spec in variants(args.rank).items():
        res = spawn(_run, args.nproc, (name, spec, steps, args.lr, args.rank), timeout=120, threads=1)[0]
        out[name] = res
        print(
            f"{name:15s} {res['ms_per_step']:8.2f} ms/step  {res['bytes_per_step']:10.0f} B/step  "
            f"final loss {res['final_loss']:.4f}",
            flush=True,
        )
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
