"""Gossip versus all-reduce over torch.distributed (gloo, 4 processes), and simulated versus real step time.

    python benchmarks/gossip.py                              # sizes 1e4 … 1e7 floats
    python benchmarks/gossip.py --quick                      # sizes 1e4 … 1e6 floats, fewer repetitions
    python benchmarks/gossip.py --backend nccl --nproc 4     # CUDA tensors over NCCL (one GPU per process)

1. Time per ``DistributedComm.mix`` on a ring (each rank exchanges its row with its two neighbours) against one
   ``all_reduce`` of the same float32 tensor. Every repetition starts after a barrier; its time is the
   slowest rank's; the median over repetitions is reported.
2. Time per step of GT-NSGDm on a small problem (ring of 4 nodes): the simulator (one process) against
   ``tailtamer launch``-style real runs (4 processes), from the engine's own wall clock.

The last line printed is one JSON object with ``ratio_gossip_vs_allreduce`` (median mix time / median
all-reduce time at 1e6 floats; the target is ≤ 1.5) and every measurement.
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

from tailtamer.api import build_components, make_loop
from tailtamer.comm.backends import check_backend
from tailtamer.comm.distributed import DistributedComm
from tailtamer.distributed.launcher import spawn
from tailtamer.topology import TOPOLOGIES

NPROC = 4


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _time_ops(rank: int, world: int, sizes: list[int], reps: list[int], device: str) -> dict:
    import torch.distributed as dist

    comm = DistributedComm(TOPOLOGIES.build("ring", {}, n=world).W, timeout=120)
    out = {}
    for size, r in zip(sizes, reps):
        z = torch.randn(1, size, device=comm.device)
        for name in ("mix", "allreduce"):
            times = []
            for i in range(r + 2):  # two warm-up repetitions
                buf = z.clone()
                _sync(device)
                dist.barrier()
                t0 = time.perf_counter()
                if name == "mix":
                    comm.mix(buf)
                else:
                    dist.all_reduce(buf)
                _sync(device)
                if i >= 2:
                    times.append(time.perf_counter() - t0)
            out[(name, size)] = times
    return out


def _step_time(rank: int, world: int, cfg: dict) -> float:
    c = build_components(cfg)
    loop = make_loop(c, comm=DistributedComm(c.topology.W, timeout=120))
    loop.run()
    return loop.wall_time / max(cfg["run"]["steps"], 1)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="sizes up to 1e6 floats and fewer repetitions")
    p.add_argument("--problem", default="tokenized-regression", help="problem of the step-time comparison")
    p.add_argument("--steps", type=int, default=None, help="steps of the step-time comparison")
    p.add_argument(
        "--backend",
        choices=("gloo", "nccl"),
        default="gloo",
        help="gloo moves CPU tensors; nccl moves CUDA tensors and needs one GPU per process",
    )
    p.add_argument("--nproc", type=int, default=NPROC, help=f"processes (default {NPROC})")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    device = "cuda" if args.backend == "nccl" else "cpu"
    try:
        check_backend(args.backend, device, args.nproc)
    except ValueError as err:
        p.error(str(err))
    nproc = args.nproc
    sizes = [10**4, 10**5, 10**6] + ([] if args.quick else [10**7])
    reps = [30, 20, 10] + [5] if not args.quick else [15, 10, 7]
    raw = spawn(_time_ops, nproc, (sizes, reps[: len(sizes)], device), timeout=300, backend=args.backend)
    mix_ms, ar_ms = {}, {}
    print(f"{'floats':>10} {'mix (ms)':>10} {'all_reduce (ms)':>16} {'ratio':>7}")
    for size in sizes:
        per = {
            name: [max(r[(name, size)][i] for r in raw) for i in range(len(raw[0][(name, size)]))]
            for name in ("mix", "allreduce")
        }
        mix_ms[f"{size:.0e}"] = 1e3 * statistics.median(per["mix"])
        ar_ms[f"{size:.0e}"] = 1e3 * statistics.median(per["allreduce"])
        k = f"{size:.0e}"
        print(f"{size:>10} {mix_ms[k]:>10.3f} {ar_ms[k]:>16.3f} {mix_ms[k] / ar_ms[k]:>7.2f}", flush=True)

    steps = args.steps or (50 if args.quick else 200)
    cfg = {
        "problem": {"name": args.problem},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.01},
        "topology": {"name": "ring", "n": nproc},
        "noise": {"name": "student-t", "df": 2.5},
        "run": {"steps": steps, "eval_every": steps, "dtype": "float32", "device": device},
    }
    loop = make_loop(build_components(cfg))
    loop.run()
    sim_ms = 1e3 * loop.wall_time / steps
    real_ms = 1e3 * max(spawn(_step_time, nproc, (cfg,), timeout=300, backend=args.backend))
    print(
        f"GT-NSGDm step on {args.problem}, ring of {nproc}: simulated {sim_ms:.3f} ms, "
        f"real ({nproc} {args.backend} processes) {real_ms:.3f} ms"
    )
    result = {
        "ratio_gossip_vs_allreduce": mix_ms["1e+06"] / ar_ms["1e+06"],
        "mix_ms": mix_ms,
        "allreduce_ms": ar_ms,
        "step_ms": {"simulated": sim_ms, "real": real_ms, "problem": args.problem, "steps": steps},
        "nproc": nproc,
        "backend": args.backend,
        "quick": args.quick,
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
