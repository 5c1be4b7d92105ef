"""Benchmark: the asynchronous event simulator against a lockstep step doing the same gradient work.

ASGD on a ``quadratic`` with n = 1,000 workers, d = 10,000, Gaussian noise and the default ``sqrt`` compute
times: simulator events per second (one event = one worker's noisy gradient at the model it read, one
server update, one restart copying the model) against lockstep DSGD on a ring of the same n and d, whose
step computes all n noisy gradients at once (reported as gradients per second = steps/s × n). Both use the
engine's own timers (evaluations excluded), one thread unless ``--threads``, medians of interleaved repeats.

Real against simulated: the same ASGD with ``sqrt`` times as a real run on 4 gloo processes (a server and
3 workers, ``tailtamer launch``, d = ``--real-d``, ``--time-scale`` seconds per timing unit) and in the
simulator. Real seconds per server update (the server's clock at the last update, start-up excluded) against
the simulated time per update times the time scale; the difference is the per-update overhead of the real
run (messages, the server's handling, the workers' compute beyond their sleep). The replay of the real run's
arrival log is checked to equal it. ``--skip-real`` leaves this part out.
The last line is one JSON object.

    python benchmarks/async_engine.py [--quick] [--threads T] [--skip-real]
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
    return {
        "problem": {"name": "quadratic", "dim": d, "condition": 10.0},
        "algorithm": {"name": name, "lr": 1e-3},
        "topology": {**topology, "n": n},
        "noise": {"name": "gaussian", "scale": 1.0},
        "run": {"steps": steps, "eval_every": 10**9, "check_finite": True},
    }


def timed(cfg: dict[str, Any]) -> float:
    """Seconds of the run's stepping (the loop's own wall_time: evaluations and setup excluded)."""
    loop = build(cfg)
    loop.run()
    return loop.wall_time


def real_vs_simulated(d: int, updates: int, time_scale: float) -> dict[str, Any]:
    """A real run on 4 gloo processes against the simulator on the same config (see the module docstring)."""
    import tempfile
    from pathlib import Path

    from tailtamer.distributed.run import launch
    from tailtamer.experiments.runner import run_config
    from tailtamer.rundir.arrivals import read_log
    from tailtamer.rundir.checkpoint import read_checkpoint

    cfg = config("asgd", {"name": "server"}, 3, d, updates)
    cfg["algorithm"]["lr"] = 0.05
    cfg["timing"] = {"name": "sqrt"}
    with tempfile.TemporaryDirectory() as tmp:
        real, sim, replay = Path(tmp) / "real", Path(tmp) / "sim", Path(tmp) / "replay"
        t0 = time.perf_counter()
        launch(cfg, real, 4, timeout=60.0, plot=False, time_scale=time_scale)
        launch_s = time.perf_counter() - t0
        log = [r for r in read_log(real).rows if r["event"] == "arrival"]
        real_s = log[-1]["time"] * time_scale / updates
        simulated = run_config(cfg, sim, plot=False, progress=False)
        sim_s = simulated["metrics"]["time"] * time_scale / updates
        run_config(cfg, replay, plot=False, progress=False, replay=real)
        gap = (
            (
                read_checkpoint(real / "checkpoint.pt")["state"]["x"]
                - read_checkpoint(replay / "checkpoint.pt")["state"]["x"]
            )
            .abs()
            .max()
            .item()
        )
    return {
        "real_processes": 4,
        "real_workers": 3,
        "real_d": d,
        "real_updates": updates,
        "time_scale": time_scale,
        "real_ms_per_update": round(1e3 * real_s, 3),
        "simulated_ms_per_update": round(1e3 * sim_s, 3),
        "real_over_simulated": round(real_s / sim_s, 3),
        "overhead_ms_per_update": round(1e3 * (real_s - sim_s), 3),
        "real_mean_delay": round(sum(r["delay"] for r in log) / len(log), 3),
        "simulated_mean_delay": round(simulated["metrics"]["mean_delay"], 3),
        "replay_max_abs_diff": gap,
        "launch_s": round(launch_s, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer events and repeats (CI smoke run)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--d", type=int, default=10_000)
    ap.add_argument("--skip-real", action="store_true", help="leave out the real-vs-simulated part")
    ap.add_argument("--real-d", type=int, default=10_000, help="dimension of the real-vs-simulated run")
    ap.add_argument("--time-scale", type=float, default=0.01, help="seconds per timing unit of the real run")
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
    out = {
        "benchmark": "async_engine",
        "n": n,
        "d": d,
        "threads": args.threads,
        "events": events,
        "simulator_events_per_s": round(ev, 1),
        "us_per_event": round(1e6 / ev, 1),
        "lockstep_gradients_per_s": round(gr, 1),
        "lockstep_steps_per_s": round(gr / n, 3),
        "events_per_lockstep_gradient": round(ev / gr, 3),
        "quick": args.quick,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(
        f"simulator: {ev:,.0f} events/s ({1e6 / ev:,.0f} µs/event); lockstep ring step: {gr:,.0f} gradients/s "
        f"({gr / n:.2f} steps/s of n = {n}); ratio {ev / gr:.2f}"
    )
    if not args.skip_real:
        real = real_vs_simulated(args.real_d, 60 if args.quick else 300, args.time_scale)
        out.update(real)
        print(
            f"real (4 gloo processes, d = {args.real_d}): {real['real_ms_per_update']:.2f} ms per server update "
            f"against {real['simulated_ms_per_update']:.2f} ms simulated (time scale {args.time_scale:g} s/unit): "
            f"ratio {real['real_over_simulated']:.2f}, overhead {real['overhead_ms_per_update']:.2f} ms/update; "
            f"replay max |Δx| = {real['replay_max_abs_diff']:.1e}"
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
