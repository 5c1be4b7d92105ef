"""Benchmark: the asynchronous event simulator against a lockstep step doing the same gradient work.

ASGD on a ``quadratic`` with n = 1,000 workers, d = 10,000, Gaussian noise and the default ``sqrt`` compute
times: simulator events per second (one event = one worker's noisy gradient at the model it read, one
server update, one restart copying the model) against lockstep DSGD on a ring of the same n and d, whose
step computes all n noisy gradients at once (reported as gradients per second = steps/s × n). Both use the
engine's own timers (evaluations excluded), one thread unless ``--threads``, medians of interleaved repeats.
The last line is one JSON object.

    python benchmarks/async_engine.py [--quick] [--threads T]
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch

from tailtamer.api import build


def config(name: str, topology: dict[str, Any], n: int, d: int, steps: int) -> dict[str, Any]:
    return {"problem": {"name": "quadratic", "dim": d, "condition": 10.0},
            "algorithm": {"name": name, "lr": 1e-3},
            "topology": {**topology, "n": n}, "noise": {"name": "gaussian", "scale": 1.0},
            "run": {"steps": steps, "eval_every": 10 ** 9, "check_finite": True}}


def timed(cfg: dict[str, Any]) -> float:
    """Seconds of the run's stepping (the loop's own wall_time: evaluations and setup excluded)."""
    loop = build(cfg)
    loop.run()
    return loop.wall_time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer events and repeats (CI smoke run)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--d", type=int, default=10_000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    n, d = args.n, args.d
    events, steps, repeats = (300, 2, 1) if args.quick else (3000, 10, 3)
    ev_rates, grad_rates = [], []
    for _ in range(repeats):
        t = timed(config("asgd", {"name": "server"}, n, d, events))
        ev_rates.append(events / t)
        t = timed(config("dsgd", {"name": "ring"}, n, d, steps))
        grad_rates.append(steps * n / t)
    ev, gr = statistics.median(ev_rates), statistics.median(grad_rates)
    out = {"benchmark": "async_engine", "n": n, "d": d, "threads": args.threads, "events": events,
           "simulator_events_per_s": round(ev, 1), "us_per_event": round(1e6 / ev, 1),
           "lockstep_gradients_per_s": round(gr, 1), "lockstep_steps_per_s": round(gr / n, 3),
           "events_per_lockstep_gradient": round(ev / gr, 3), "quick": args.quick,
           "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(f"simulator: {ev:,.0f} events/s ({1e6 / ev:,.0f} µs/event); lockstep ring step: {gr:,.0f} gradients/s "
          f"({gr / n:.2f} steps/s of n = {n}); ratio {ev / gr:.2f}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
