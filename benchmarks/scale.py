"""Benchmark: how a GT-NSGDm step scales with the number of nodes (issue 13, item 3).

1. Step time of GT-NSGDm on the ``quadratic`` (ring, float32, d = 10, no noise) for n = 10², …, 10⁶, each in
   a fresh process (so its peak memory, ``ru_maxrss``, is its own): seconds per step, per-node cost, peak
   memory, and the slope of log(step time) against log(n) over n ≥ 10⁴ (1 = linear). The plot goes to
   ``docs/img/scale.png`` (README).
2. The targets at n = 10,000, d = 1,000, float32: steps/s with no noise and with α-stable noise
   (α = 1.5, β = 0.5).

Each case uses the thread count tailtamer chooses (:mod:`tailtamer.threads`), reported per case; times are
medians over steps after one warm-up step. A case also reports ``cpu_s_per_step``, the median CPU time of the
process per step (all its threads): on a shared machine, where wall times depend on the other jobs, the
one-thread CPU time is the steadier measure of the work done. The last line printed is one JSON object.

One case on its own (what the README's two n = 10,000 rows run; THREADS 0 = tailtamer's choice):

    python benchmarks/scale.py --case 10000 1000 alpha-stable 15 2

    python benchmarks/scale.py [--quick] [--no-plot]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PLOT = ROOT / "docs" / "img" / "scale.png"


def config(n: int, d: int, noise: dict[str, Any]) -> dict[str, Any]:
    return {
        "problem": {"name": "quadratic", "dim": d},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.005, "beta": 0.9},
        "topology": {"name": "ring", "n": n},
        "noise": noise,
        "run": {"steps": 1, "eval_every": 1, "seed": 0, "dtype": "float32", "check_finite": False},
    }


def measure(n: int, d: int, noise: dict[str, Any], steps: int, pin: int = 0) -> dict[str, Any]:
    """Median seconds per step of one run (in this process) and the process's peak memory (``pin``: a thread
    count instead of tailtamer's choice)."""
    import torch

    from tailtamer import threads
    from tailtamer.api import build_components, make_loop
    from tailtamer.memory import keep_heap_memory

    keep_heap_memory()
    threads.fix(pin)
    t0 = time.perf_counter()
    c = build_components(config(n, d, noise))
    loop = make_loop(c)
    build_s = time.perf_counter() - t0
    state = loop.initial_state()
    times, cpu = [], []
    for t in range(steps + 1):
        loop.oracle.begin(t)
        t1, c1 = time.perf_counter(), time.process_time()
        state = loop.algorithm.step(state, loop.oracle, loop.comm, t)
        times.append(time.perf_counter() - t1)
        cpu.append(time.process_time() - c1)
    step_s = statistics.median(times[1:])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "n": n,
        "d": d,
        "noise": noise["name"],
        "step_s": step_s,
        "steps_per_s": 1.0 / step_s,
        "cpu_s_per_step": round(statistics.median(cpu[1:]), 4),
        "build_s": round(build_s, 3),
        "peak_rss_gb": round(peak / 2**30, 3),
        "threads": torch.get_num_threads(),
        "kernel": loop.comm.kernel,
        "sparse_W": bool(c.topology.sparse),
        "rho": c.topology.rho,
        "compile_s": round(_compile_seconds(), 2),
    }


def _compile_seconds() -> float:
    """Seconds spent compiling the noise uniforms (:mod:`tailtamer.noise.fused`), paid in the warm-up step."""
    try:
        from tailtamer.noise import fused
    except ImportError:  # a checkout without the compiled path
        return 0.0
    return fused.compile_seconds()


def in_child(n: int, d: int, noise: str, steps: int, pin: int = 0) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--case", str(n), str(d), noise, str(steps), str(pin)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"case n={n} d={d} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


NOISES = {"none": {"name": "none"}, "alpha-stable": {"name": "alpha-stable", "alpha": 1.5, "skew": 0.5}}


def slope(rows: list[dict[str, Any]]) -> float:
    """Least-squares slope of log(step time) on log(n)."""
    xs = [math.log(r["n"]) for r in rows]
    ys = [math.log(r["step_s"]) for r in rows]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["n"] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.loglog(ns, [r["step_s"] for r in rows], "o-", label="GT-NSGDm step (ring, d = 10, float32)")
    ref = rows[-1]["step_s"] / rows[-1]["n"]
    ax.loglog(ns, [ref * n for n in ns], "--", color="gray", label="linear in n")
    ax.set_xlabel("nodes n")
    ax.set_ylabel("seconds per step (median)")
    counts = sorted({r["threads"] for r in rows})
    shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    ax.set_title(f"step cost vs n ({shown} thread(s) as chosen, shared 2-core machine)", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="n up to 10⁵ and fewer steps")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--case", nargs=5, metavar=("N", "D", "NOISE", "STEPS", "THREADS"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.case:
        n, d, noise, steps, pin = args.case
        print(json.dumps(measure(int(n), int(d), NOISES[noise], int(steps), int(pin))))
        return
    ns = [10**k for k in range(2, 6 if args.quick else 7)]
    rows = [in_child(n, 10, "none", 5 if args.quick else (20 if n < 10**6 else 10)) for n in ns]
    big = {name: in_child(10_000, 1_000, name, 3 if args.quick else 15) for name in NOISES}
    one = {name: in_child(10_000, 1_000, name, 3 if args.quick else 15, pin=1) for name in NOISES}
    print(f"{'n':>9} {'s/step':>10} {'us/node':>9} {'peak GB':>8} {'threads':>7} {'kernel':>10}")
    for r in rows:
        print(
            f"{r['n']:>9,} {r['step_s']:>10.5f} {1e6 * r['step_s'] / r['n']:>9.3f} {r['peak_rss_gb']:>8.2f} "
            f"{r['threads']:>7} {r['kernel']:>10}"
        )
    for name, r in big.items():
        print(
            f"n=10,000 d=1,000 float32, noise {name}: {r['steps_per_s']:.2f} steps/s ({r['threads']} thread(s), "
            f"peak {r['peak_rss_gb']:.2f} GB); pinned to 1 thread: {one[name]['steps_per_s']:.2f} steps/s"
        )
    upper = [r for r in rows if r["n"] >= 10**4]
    if not args.no_plot:
        plot(rows, PLOT)
    print(
        json.dumps(
            {
                "step_s_by_n": {str(r["n"]): round(r["step_s"], 6) for r in rows},
                "peak_rss_gb_by_n": {str(r["n"]): r["peak_rss_gb"] for r in rows},
                "threads_by_n": {str(r["n"]): r["threads"] for r in rows},
                "scaling_exponent_n_ge_1e4": round(slope(upper), 3),
                "largest_n": rows[-1]["n"],
                "largest_n_peak_rss_gb": rows[-1]["peak_rss_gb"],
                "n10k_d1k_f32_steps_per_s_none": round(big["none"]["steps_per_s"], 2),
                "n10k_d1k_f32_steps_per_s_alpha_stable": round(big["alpha-stable"]["steps_per_s"], 2),
                "n10k_d1k_threads": big["none"]["threads"],
                "n10k_d1k_f32_steps_per_s_none_1thread": round(one["none"]["steps_per_s"], 2),
                "n10k_d1k_f32_steps_per_s_alpha_stable_1thread": round(one["alpha-stable"]["steps_per_s"], 2),
                "dtype": "float32",
                "quick": args.quick,
            }
        )
    )


if __name__ == "__main__":
    main()
