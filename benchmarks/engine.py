"""Benchmark: the vectorized simulator against a per-node reference loop, and α-stable sampling vs scipy.

1. GT-NSGDm on E1 (tokenized regression, n = 20, ring k = 2, α-stable noise): steps/s of the engine
   (``Loop.run``) against the per-node loop of ``tailtamer.testing.reference`` (one tensor per node, neighbour-list
   gossip), both calling the same problem and noise per node.
2. GT-NSGDm on a ``quadratic`` with n = 1,000 nodes, d = 1,000, ring (sparse mixing), no noise: same pair,
   with the threads tailtamer chooses (one: 10^6 entries) and again with one per core (torch's default).
3. ``benchmarks/sampler.py``: tailtamer's Chambers–Mallows–Stuck sampler vs ``scipy.stats.levy_stable``.

Both sides of each ratio run in the same process with the same settings: the thread count tailtamer chooses
for the case (:mod:`tailtamer.threads`, what a user gets; ``--threads N`` pins N), reported as the count in
effect while the case was timed, and glibc
told to keep freed buffers (:func:`tailtamer.memory.keep_heap_memory`; the simulator allocates fresh
``[n, d]`` tensors every step). Each figure is the median of interleaved repeats. The last line is one JSON
object with the ratios.

    python benchmarks/engine.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sampler  # noqa: E402

from tailtamer import threads  # noqa: E402
from tailtamer.api import DTYPES, build_components, make_loop  # noqa: E402
from tailtamer.memory import keep_heap_memory  # noqa: E402
from tailtamer.schedules import make_lr  # noqa: E402
from tailtamer.testing import run_reference  # noqa: E402


def case(
    problem: dict[str, Any], topology: dict[str, Any], noise: dict[str, Any], steps: int, dtype: str = "float64"
) -> dict[str, Any]:
    return {
        "problem": problem,
        "algorithm": {"name": "gt-nsgdm", "lr": 0.005, "beta": 0.9},
        "topology": topology,
        "noise": noise,
        "run": {"steps": steps, "eval_every": steps, "seed": 0, "dtype": dtype},
    }


def steps_per_second(cfg: dict[str, Any], loop_steps: int, repeats: int) -> tuple[float, float, int]:
    """(vectorized steps/s, per-node loop steps/s, torch threads used), medians of interleaved repeats."""
    c = build_components(cfg)
    seed, d, n = cfg["run"]["seed"], c.problem.dim, c.topology.n
    noise = c.noise

    def node_grad(i: int, xi: torch.Tensor, t: int) -> torch.Tensor:
        nodes = torch.tensor([i])
        g = c.problem.grad(xi[None], nodes, seed, t, 0)[0]
        return g if noise is None else g + noise.sample(seed, nodes, t, d, 0)[0]

    W = c.topology.W.tolist()
    hp = c.algorithm.hyperparameters()
    lr_at = make_lr(hp["lr"], "constant", 0, loop_steps)

    def vectorized(r: int) -> float:
        loop = make_loop(c)
        t0 = time.perf_counter()
        loop.run()
        return cfg["run"]["steps"] / (time.perf_counter() - t0)

    def per_node(r: int) -> float:
        x0 = [c.problem.x0(DTYPES[cfg["run"].get("dtype", "float64")]) for _ in range(n)]
        t0 = time.perf_counter()
        run_reference("gt-nsgdm", hp, W, x0, node_grad, loop_steps, lr_at)
        return loop_steps / (time.perf_counter() - t0)

    vectorized(-1)
    used = torch.get_num_threads()  # what make_loop chose (or --threads pinned)
    vec, ref = [], []
    for r in range(repeats):
        vec.append(vectorized(r))
        ref.append(per_node(r))
    vec.sort(), ref.sort()
    return vec[len(vec) // 2], ref[len(ref) // 2], used


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    p.add_argument(
        "--threads", type=int, default=0, help="torch threads for the engine cases (0: chosen by tailtamer.threads)"
    )
    args = p.parse_args()
    threads.fix(args.threads)
    keep_heap_memory()
    repeats = 3 if args.quick else 7
    e1 = case(
        {"name": "tokenized-regression"},
        {"name": "ring", "n": 20, "k": 2},
        {"name": "alpha-stable", "alpha": 1.5, "skew": 0.5, "scale": 0.1},
        300 if args.quick else 1000,
    )
    quad = case(
        {"name": "quadratic", "dim": 1000},
        {"name": "ring", "n": 1000},
        {"name": "none"},
        10 if args.quick else 100,
        dtype="float32",
    )
    e1_vec, e1_ref, e1_threads = steps_per_second(e1, 30 if args.quick else 100, repeats)
    q_vec, q_ref, q_threads = steps_per_second(quad, 2 if args.quick else 4, repeats)
    pinned = threads.fixed()
    threads.fix(threads.cores())  # the same case with torch's default count (issue 2's setting)
    q_all_vec, q_all_ref, q_all_threads = steps_per_second(quad, 2 if args.quick else 4, repeats)
    threads.fix(pinned)
    torch.set_num_threads(threads.cores())  # the sampler compares torch's default count with one thread
    samp = sampler.run(quick=args.quick)  # torch's default threads (scipy has one) and one thread
    rows = [
        ("GT-NSGDm, E1 (n=20, d=20, alpha-stable)", e1_vec, e1_ref),
        (f"GT-NSGDm, quadratic (n=1000, d=1000, ring), {q_threads} thr.", q_vec, q_ref),
        (f"the same with {q_all_threads} threads (torch's default)", q_all_vec, q_all_ref),
    ]
    print(f"{'case':<52} {'vectorized it/s':>16} {'per-node loop it/s':>19} {'ratio':>7}")
    for name, v, r in rows:
        print(f"{name:<52} {v:>16.1f} {r:>19.2f} {v / r:>6.1f}x")
    print(
        f"{'alpha-stable sampling, ' + format(samp['n'], ',') + ' draws':<52} {samp['tailtamer_s']:>15.4f}s "
        f"{samp['scipy_s']:>17.4f}s (scipy) {samp['sampler_vs_scipy_speedup']:>5.1f}x"
    )
    print(
        json.dumps(
            {
                "e1_n20_vectorized_vs_loop": round(e1_vec / e1_ref, 2),
                "quadratic_n1000_vectorized_vs_loop": round(q_vec / q_ref, 2),
                "quadratic_n1000_vectorized_vs_loop_all_cores": round(q_all_vec / q_all_ref, 2),
                "quadratic_all_cores_threads": q_all_threads,
                "sampler_vs_scipy": samp["sampler_vs_scipy_speedup"],
                "e1_n20_steps_per_s": round(e1_vec, 1),
                "quadratic_n1000_steps_per_s": round(q_vec, 2),
                "sampler_vs_scipy_one_thread": samp["sampler_vs_scipy_one_thread"],
                "engine_threads": e1_threads,
                "e1_threads": e1_threads,
                "quadratic_threads": q_threads,
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
