"""Benchmark: round time and peak memory of Bi²Clip against Adam² at equal model size (issue 5, item 5).

Setup: a ``quadratic`` problem with d parameters on n clients (complete topology, all clients every round),
float32, z local steps per round, no injected noise (the counter-based noise sampler would dominate the round
time and is identical for both methods). Each method runs in a fresh subprocess on one thread:

* **round time**: the median (and the minimum, less sensitive to other load on a shared machine) wall time of
  ``algorithm.step`` over the timed rounds (one warm-up round first);
* **peak memory**, two ways:
  - *measured*: the process's peak resident set size (``ru_maxrss``) minus its resident set size just before the
    first round (after the problem's data and the initial state exist), i.e. what the rounds themselves added
    at their peak. tracemalloc does not see torch's CPU allocations, and torch has no CPU allocator counters,
    so RSS is the honest measurement on CPU; it includes temporaries (e.g. ``m/(√v+ε)``) and allocator slack;
  - *computed*: the bytes of the persistent state tensors after a round, and the bytes the method's buffers
    occupy during a round (n client buffers while clients train, plus the server's buffers) from
    ``LocalUpdate.accounting``.

The last line is one JSON object.

    python benchmarks/local_update.py [--quick] [--d 1000000] [--n 8] [--local-steps 5] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

METHODS = ("bi2clip", "adam2")


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def worker(name: str, d: int, n: int, local_steps: int, rounds: int) -> dict:
    import torch

    torch.set_num_threads(1)
    from tailtamer.api import build

    cfg = {
        "problem": {"name": "quadratic", "dim": d, "heterogeneity": 1.0},
        "algorithm": {"name": name, "local_steps": local_steps, "lr": 0.01},
        "topology": {"name": "complete", "n": n},
        "noise": {"name": "none"},
        "run": {"steps": rounds + 1, "eval_every": rounds + 1, "dtype": "float32", "check_finite": False},
    }
    loop = build(cfg)
    alg, comm = loop.algorithm, loop.comm
    state = loop.initial_state()
    base = rss_bytes()
    times = []
    for t in range(rounds + 1):
        loop.oracle.begin(t)
        t0 = time.perf_counter()
        state = alg.step(state, loop.oracle, comm, t)
        times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    acct = alg.accounting(d, torch.float32, n)
    state_bytes = sum(v.numel() * v.element_size() for v in state.values())
    in_round = n * acct["state_bytes_per_client"] + acct["state_bytes_server"]
    return {
        "round_s": statistics.median(times[1:]),
        "round_s_min": min(times[1:]),
        "peak_rss_added_bytes": max(peak - base, 0),
        "state_tensor_bytes": state_bytes,
        "optimizer_state_bytes_in_round": in_round,
        "model_rows_bytes": n * d * 4,
        "state_bytes_per_client": acct["state_bytes_per_client"],
        "state_bytes_server": acct["state_bytes_server"],
        "comm_bytes_per_round": acct["comm_bytes_per_round"],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="d = 200,000, 6 timed rounds")
    p.add_argument("--d", type=int, default=None)
    p.add_argument("--n", type=int, default=8)
    p.add_argument("--local-steps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    d = a.d or (200_000 if a.quick else 1_000_000)
    rounds = a.rounds or (6 if a.quick else 10)
    if a.worker:
        print(json.dumps(worker(a.worker, d, a.n, a.local_steps, rounds)))
        return 0
    res = {}
    for name in METHODS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--worker",
                name,
                "--d",
                str(d),
                "--n",
                str(a.n),
                "--local-steps",
                str(a.local_steps),
                "--rounds",
                str(rounds),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        res[name] = json.loads(out.stdout.strip().splitlines()[-1])
        r = res[name]
        print(
            f"{name:8s} round {r['round_s'] * 1e3:8.1f} ms   "
            f"peak RSS added {r['peak_rss_added_bytes'] / 2**20:8.1f} MiB"
            f"   optimizer state in round {r['optimizer_state_bytes_in_round'] / 2**20:7.1f} MiB"
            f"   persistent state {r['state_tensor_bytes'] / 2**20:7.1f} MiB   comm/round "
            f"{r['comm_bytes_per_round'] / 2**20:6.1f} MiB"
        )
    b, m = res["bi2clip"], res["adam2"]
    summary = {
        "benchmark": "local_update",
        "d": d,
        "n": a.n,
        "local_steps": a.local_steps,
        "rounds": rounds,
        "dtype": "float32",
        "threads": 1,
        **{f"{k}": v for k, v in res.items()},
        "round_time_ratio_adam2_over_bi2clip": m["round_s"] / b["round_s"],
        "round_time_ratio_min_adam2_over_bi2clip": m["round_s_min"] / b["round_s_min"],
        "peak_rss_ratio_adam2_over_bi2clip": (
            m["peak_rss_added_bytes"] / b["peak_rss_added_bytes"] if b["peak_rss_added_bytes"] else None
        ),
        "optimizer_state_bytes_saved": m["optimizer_state_bytes_in_round"] - b["optimizer_state_bytes_in_round"],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
