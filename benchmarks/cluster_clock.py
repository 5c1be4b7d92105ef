"""Benchmark: what the simulated clock costs a run (issue 28).

Every run is timed on a cluster. Without ``[cluster]`` it is the free ``ideal`` one, where the clock only adds
each step's compute. On a priced network every ``comm`` call is priced and an asynchronous job books the
server's link. Each case runs the same config through the public API (``build_components`` and ``make_loop``,
what ``tailtamer run`` runs) on the ideal cluster (written out, so the asynchronous case does not take the
``[timing]`` default) and on a ``custom`` one with the same compute times (1 s per
gradient) and a priced network (α = 1 ns, 10^15 bit/s), so both sides do the same work in the same order, and
reports the median ratio of steps (or server updates) per second: priced / ideal, interleaved. The cases are
small on purpose, because the clock's cost is per call and not per coordinate, so small problems show it most:

1. GT-NSGDm, quadratic d = 10, ring n = 16 (two gossip rounds per step);
2. EF21 with top-k, quartic d = 50, n = 16, topology server (a compressed average per step);
3. ASGD, quadratic d = 10, 16 workers (the event engine: one link booking per download and per upload).

    python benchmarks/cluster_clock.py [--quick] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch

from tailtamer.api import build_components, make_loop

CASES: dict[str, dict[str, Any]] = {
    "gossip": {
        "problem": {"name": "quadratic", "dim": 10},
        "algorithm": {"name": "gt-nsgdm", "lr": 0.01},
        "topology": {"name": "ring", "n": 16},
        "noise": {"name": "student-t", "df": 2.5},
    },
    "compressed": {
        "problem": {"name": "quartic", "dim": 50},
        "algorithm": {"name": "ef21", "lr": 0.01},
        "topology": {"name": "server", "n": 16},
        "compression": {"name": "top-k", "fraction": 0.1},
        "noise": {"name": "student-t", "df": 2.5},
    },
    "asynchronous": {
        "problem": {"name": "quadratic", "dim": 10},
        "algorithm": {"name": "asgd", "lr": 0.01},
        "topology": {"name": "server", "n": 16},
        "noise": {"name": "student-t", "df": 2.5},
    },
}


#: A priced network with the ideal cluster's compute: the same arrival order, every message priced.
PRICED = {"name": "custom", "latency": 1e-9, "bandwidth": 1e15, "compute": {"name": "fixed", "times": 1.0}}


def steps_per_s(cfg: dict[str, Any], steps: int) -> float:
    """Steps (server updates) per second of ``cfg`` run for ``steps`` through the public API."""
    run = {"steps": steps, "eval_every": steps}
    loop = make_loop(build_components({**cfg, "run": run}))
    t0 = time.perf_counter()
    loop.run()
    return steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps, repeats = (300, 3) if args.quick else (2000, 7)
    out: dict[str, Any] = {"benchmark": "cluster_clock", "threads": torch.get_num_threads(), "steps": steps}
    for name, cfg in CASES.items():
        ratios, ideal = [], []
        for _ in range(repeats):
            free = steps_per_s({**cfg, "cluster": {"name": "ideal"}}, steps)
            priced = steps_per_s({**cfg, "cluster": PRICED}, steps)
            ratios.append(priced / free)
            ideal.append(free)
        out[f"{name}_priced_over_ideal"] = round(statistics.median(ratios), 3)
        out[f"{name}_ideal_steps_per_s"] = round(statistics.median(ideal), 1)
        print(
            f"{name}: {statistics.median(ideal):,.0f} steps/s on the ideal cluster; priced / ideal = "
            f"{statistics.median(ratios):.3f} (median of {repeats}, {torch.get_num_threads()} thread(s))"
        )
    out["quick"] = args.quick
    out["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
