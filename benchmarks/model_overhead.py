"""Benchmark: one GT-NSGDm step of n = 8 GPT nodes in the simulator vs its bounds.

Three timings of one training step on Multi30k shapes (the published GPT: d_model 128, 2 layers, 4 heads,
FFN 512, context 64, vocabulary ≈ 9.9k, ≈ 3.0M parameters; batch B windows per node; float32; ring of 8):

* ``simulator``: tailtamer's model problem (``backend`` vmap and loop) + the registered GT-NSGDm step over
  ``SimulatedComm`` (two gossip rounds of the [8, d] stacked tensors);
* ``single_model`` (the bound: the same arithmetic without a node axis): one model, one forward/backward on
  the concatenated 8·B batch, then the normalized-momentum update on its parameter list (``torch._foreach``);
* ``naive``: 8 separate ``nn.Module`` models, a forward/backward each, and GT-NSGDm with per-parameter
  Python loops over nodes and neighbours for momentum, tracking, norms and mixing.

glibc is told to keep freed memory in the heap (:func:`tailtamer.memory.keep_heap_memory`;
``--default-malloc`` to skip). Median of interleaved repeats after a warm-up; ``torch.set_num_threads(threads)``
(default 1). The last line printed is one JSON object with ``ratio_vs_single_model`` and ``ratio_vs_naive``
(best simulator backend). Synthetic token ids of the vocabulary size are used when ../shared/data is absent.

    python benchmarks/model_overhead.py [--quick] [--batch B] [--threads T] [--repeats R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.comm.simulated import SimulatedComm
from tailtamer.engine.oracle import GradientOracle
from tailtamer.errors import DataNotFoundError
from tailtamer.memory import keep_heap_memory
from tailtamer.problems import build_problem
from tailtamer.problems.models import GPT, ModelProblem, TensorData
from tailtamer.topology import TOPOLOGIES

N, LR, BETA = 8, 0.01, 0.9
SIZE = {"d_model": 128, "layers": 2, "heads": 4, "ffn": 512, "context": 64}


def gpt_problem(batch: int, backend: str) -> ModelProblem:
    try:
        return build_problem(
            "gpt-multi30k", N, {**SIZE, "batch_size": batch, "backend": backend, "max_eval_windows": 8}
        )
    except DataNotFoundError:
        g = torch.Generator().manual_seed(0)
        w = torch.randint(0, 9922, (6400, 65), generator=g)
        data = TensorData(w[:, :-1].contiguous(), w[:, 1:].contiguous())
        return ModelProblem(N, lambda: GPT(9922, **SIZE), data, data, batch_size=batch, backend=backend)


def simulator_step(problem: ModelProblem, W: np.ndarray) -> Callable[[int], None]:
    alg = ALGORITHMS.build("gt-nsgdm", {"lr": LR, "beta": BETA}, steps=1000)
    comm = SimulatedComm(W)
    state = alg.init(problem.x0(torch.float32).expand(N, -1).clone(), comm)
    oracle = GradientOracle(problem, None, comm.nodes, seed=0, check=False)

    def step(r: int) -> None:
        nonlocal state
        oracle.begin(r + 1)
        state = alg.step(state, oracle, comm, r + 1)

    return step


def batches(problem: ModelProblem, r: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = problem.batch_indices(torch.arange(N), 0, r + 1, 0, problem.batch_size)
    return problem.batch(problem.train, ids, problem.x0(torch.float32))


def single_model_step(problem: ModelProblem) -> Callable[[int], None]:
    model = problem.factory()
    params = list(model.parameters())
    v = [torch.zeros_like(p) for p in params]

    def step(r: int) -> None:
        inputs, targets = batches(problem, r)
        for p in params:
            p.grad = None
        out = model(inputs.reshape(-1, inputs.shape[-1]))
        problem.loss_fn(out, targets.reshape(-1, targets.shape[-1])).backward()
        with torch.no_grad():
            grads = [p.grad for p in params]
            torch._foreach_mul_(v, BETA)
            torch._foreach_add_(v, grads, alpha=1 - BETA)  # n = 1: the tracker y equals v
            norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(v)))
            torch._foreach_add_(params, v, alpha=-LR / float(norm.clamp_min(1e-12)))

    return step


def naive_step(problem: ModelProblem, W: np.ndarray) -> Callable[[int], None]:
    models = [problem.factory() for _ in range(N)]
    for m in models[1:]:
        m.load_state_dict(models[0].state_dict())
    P = [list(m.parameters()) for m in models]
    V = [[torch.zeros_like(p) for p in ps] for ps in P]
    Y = [[torch.zeros_like(p) for p in ps] for ps in P]
    nbrs = [[(j, float(W[i, j])) for j in range(N) if W[i, j] != 0] for i in range(N)]

    def mix(Z: list[list[torch.Tensor]]) -> list[list[torch.Tensor]]:
        return [[sum(w * Z[j][k] for j, w in nbrs[i]) for k in range(len(Z[i]))] for i in range(N)]

    def step(r: int) -> None:
        nonlocal V, Y
        inputs, targets = batches(problem, r)
        for i, m in enumerate(models):
            for p in P[i]:
                p.grad = None
            problem.loss_fn(m(inputs[i]), targets[i]).backward()
        with torch.no_grad():
            Vn = [[BETA * V[i][k] + (1 - BETA) * P[i][k].grad for k in range(len(P[i]))] for i in range(N)]
            Y = mix([[Y[i][k] + Vn[i][k] - V[i][k] for k in range(len(P[i]))] for i in range(N)])
            V = Vn
            norms = [float(torch.sqrt(sum((y * y).sum() for y in Y[i]))) for i in range(N)]
            Xh = [[P[i][k] - LR * Y[i][k] / max(norms[i], 1e-12) for k in range(len(P[i]))] for i in range(N)]
            Xn = mix(Xh)
            for i in range(N):
                for k, p in enumerate(P[i]):
                    p.copy_(Xn[i][k])

    return step


def median_times(fns: dict[str, Callable[[int], None]], repeats: int) -> dict[str, float]:
    for fn in fns.values():
        fn(-1)
    times: dict[str, list[float]] = {k: [] for k in fns}
    for r in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn(r)
            times[name].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def run(
    quick: bool = False, batch: int | None = None, threads: int = 1, repeats: int | None = None, keep_heap: bool = True
) -> dict:
    torch.set_num_threads(threads)
    heap = keep_heap_memory() if keep_heap else False
    B = batch or (4 if quick else 16)
    R = repeats or (3 if quick else 7)
    W = TOPOLOGIES.build("ring", {}, n=N).W
    vm, lp = gpt_problem(B, "vmap"), gpt_problem(B, "loop")
    fns = {
        "simulator_vmap": simulator_step(vm, W),
        "simulator_loop": simulator_step(lp, W),
        "single_model": single_model_step(vm),
        "naive": naive_step(vm, W),
    }
    t = median_times(fns, R)
    best = min(("vmap", t["simulator_vmap"]), ("loop", t["simulator_loop"]), key=lambda kv: kv[1])
    return {
        "benchmark": "model_overhead",
        "n": N,
        "batch_per_node": B,
        "params": vm.dim,
        "threads": threads,
        "repeats": R,
        "keep_heap_memory": heap,
        "seconds": {k: round(v, 4) for k, v in t.items()},
        "best_backend": best[0],
        "ratio_vs_single_model": round(best[1] / t["single_model"], 3),
        "ratio_vs_naive": round(best[1] / t["naive"], 3),
        "ratio_loop_vs_vmap": round(t["simulator_loop"] / t["simulator_vmap"], 3),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="B = 4 per node, 3 repeats")
    ap.add_argument("--batch", type=int, help="windows per node (default 16; --quick 4)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int)
    ap.add_argument(
        "--default-malloc", action="store_true", help="leave glibc's mmap behaviour alone (see tailtamer.memory)"
    )
    args = ap.parse_args()
    result = run(args.quick, args.batch, args.threads, args.repeats, keep_heap=not args.default_malloc)
    s = result["seconds"]
    print(f"{'variant':<16}{'seconds/step':>14}")
    for k, v in s.items():
        print(f"{k:<16}{v:>14.4f}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
