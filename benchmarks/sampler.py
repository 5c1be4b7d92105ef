"""Benchmark: α-stable sampling (α = 1.5, β = 0.5) by tailtamer's CMS sampler vs scipy.stats.levy_stable.rvs,
and the counter-based uniforms against ``torch.rand``.

Both samplers draw N values (1e6; ``--quick``: 2e5); the median wall time of several interleaved repeats is
reported (after one warm-up each; torch with its default thread count, scipy on its one thread; the
JSON also gives the ratio with torch limited to one thread, ``sampler_vs_scipy_one_thread``).

``sampler_cost_vs_torch_rand`` is the time of N counter-based float64 uniforms (:func:`tailtamer.rng.uniform`,
a pure function of seed, stream, node, step, call and coordinate) over the time of ``torch.rand`` drawing N
float64 values from torch's global generator, side by side on one thread (target ≤ 2); the float32 ratio
and the α-stable sampler's cost over ``torch.rand`` are reported too, and the α-stable draws as
``[N / 1,000, 1,000]`` by the eager path and by the compiled loops of :mod:`tailtamer.noise.fused` (the same
numbers; ``fused_speedup``, ``alpha_stable_fused_cost_vs_torch_rand``, and ``fused_compile_s``, paid once).
The last line printed is one JSON object. ``run(quick)`` returns the same dict, for other benchmarks
(``sys.path.insert(0, benchmarks_dir); import sampler``).

    python benchmarks/sampler.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.stats
import torch

from tailtamer import rng
from tailtamer.noise import build_noise, fused

ALPHA, SKEW = 1.5, 0.5


def _median_times(fns: list[Callable[[int], Any]], repeats: int) -> list[float]:
    """Median wall time of each function; repeats are interleaved so that load from other processes on
    the machine affects all of them alike. One warm-up call each."""
    for fn in fns:
        fn(-1)
    times: list[list[float]] = [[] for _ in fns]
    for r in range(repeats):
        for fn, ts in zip(fns, times):
            t0 = time.perf_counter()
            fn(r)
            ts.append(time.perf_counter() - t0)
    return [statistics.median(ts) for ts in times]


def run(quick: bool = False) -> dict[str, Any]:
    """Time both samplers; returns ``{"sampler_vs_scipy_speedup", "tailtamer_s", "scipy_s", ...}``."""
    n = 200_000 if quick else 1_000_000
    repeats = 3 if quick else 7
    nodes, d = 10, n // 10
    model = build_noise("alpha-stable", {"alpha": ALPHA, "skew": SKEW, "scale": 1.0})
    node_ids = torch.arange(nodes)

    def ours(r: int) -> None:
        model.sample(seed=0, nodes=node_ids, step=r + 1, d=d)

    def theirs(r: int) -> None:
        scipy.stats.levy_stable.rvs(ALPHA, SKEW, size=n, random_state=np.random.default_rng(r + 1))

    def uniforms(dtype: torch.dtype) -> Callable[[int], Any]:
        return lambda r: rng.uniform(0, "noise", node_ids, r + 1, d, dtype=dtype)

    def torch_rand(dtype: torch.dtype) -> Callable[[int], Any]:
        return lambda r: torch.rand(nodes, d, dtype=dtype)

    def blocks(flag: str) -> Callable[[int], Any]:
        """α-stable draws as [n / 1,000, 1,000] (whole blocks), eager (``"0"``) or compiled (``"1"``)."""

        def draw(r: int) -> None:
            before = os.environ.get("TAILTAMER_FUSED")
            os.environ["TAILTAMER_FUSED"] = flag
            try:
                model.sample(seed=0, nodes=torch.arange(n // 1000), step=r + 1, d=1000)
            finally:
                os.environ.pop("TAILTAMER_FUSED") if before is None else os.environ.update(TAILTAMER_FUSED=before)

        return draw

    threads = torch.get_num_threads()
    ours_s, scipy_s = _median_times([ours, theirs], repeats)
    torch.set_num_threads(1)  # the same comparison with torch on one thread
    ours_1, scipy_1 = _median_times([ours, theirs], repeats)
    u64, r64, u32, r32 = _median_times(
        [uniforms(torch.float64), torch_rand(torch.float64), uniforms(torch.float32), torch_rand(torch.float32)],
        2 * repeats + 1,
    )
    eager_rows, fused_rows, r64_rows = _median_times(
        [blocks("0"), blocks("1"), torch_rand(torch.float64)], repeats
    )  # the warm-up compiles
    torch.set_num_threads(threads)
    return {
        "sampler_vs_scipy_speedup": round(scipy_s / ours_s, 2),
        "tailtamer_s": round(ours_s, 5),
        "scipy_s": round(scipy_s, 5),
        "n": n,
        "repeats": repeats,
        "alpha": ALPHA,
        "skew": SKEW,
        "torch_threads": threads,
        "sampler_vs_scipy_one_thread": round(scipy_1 / ours_1, 2),
        "sampler_cost_vs_torch_rand": round(u64 / r64, 2),
        "sampler_cost_vs_torch_rand_float32": round(u32 / r32, 2),
        "uniform_s": round(u64, 5),
        "torch_rand_s": round(r64, 5),
        "alpha_stable_cost_vs_torch_rand": round(ours_1 / r64, 2),
        "uniform_threads": 1,
        "alpha_stable_rows_eager_s": round(eager_rows, 5),
        "alpha_stable_rows_fused_s": round(fused_rows, 5),
        "alpha_stable_fused_cost_vs_torch_rand": round(fused_rows / r64_rows, 2),
        "alpha_stable_rows_eager_cost_vs_torch_rand": round(eager_rows / r64_rows, 2),
        "fused_speedup": round(eager_rows / fused_rows, 2),
        "fused_compile_s": round(fused.compile_seconds(), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2e5 draws and 3 repeats instead of 1e6 and 7")
    res = run(parser.parse_args().quick)
    print(f"alpha-stable sampling, alpha={ALPHA}, skew={SKEW}, N={res['n']:,}, median of {res['repeats']}")
    print(f"{'sampler':<28}{'seconds':>10}{'draws/s':>14}")
    for label, key in (("tailtamer (CMS, torch)", "tailtamer_s"), ("scipy levy_stable.rvs", "scipy_s")):
        print(f"{label:<28}{res[key]:>10.4f}{res['n'] / res[key]:>14.3g}")
    print(f"speedup: {res['sampler_vs_scipy_speedup']}x")
    print(
        f"counter-based uniforms / torch.rand (float64, one thread): {res['sampler_cost_vs_torch_rand']}x "
        f"({res['uniform_s']:.4f}s vs {res['torch_rand_s']:.4f}s); "
        f"float32: {res['sampler_cost_vs_torch_rand_float32']}x"
    )
    print(json.dumps(res))


if __name__ == "__main__":
    main()
