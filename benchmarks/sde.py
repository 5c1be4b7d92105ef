"""SDE lab throughput: Euler–Maruyama paths of the DSGD / DCSGD / DSignSGD SDEs against the discrete methods on
the same paths (M = 10,000 paths, d = 10, N = 4 workers, quartic, Gaussian and Student-t(2.5) noise).

    python benchmarks/sde.py            # 200 steps per measurement
    python benchmarks/sde.py --quick    # 50 steps

A measurement times ``steps`` steps of all M paths (one stacked ``[M, d]`` tensor) on one thread; reported
are path-steps per second and paths per second for a 1,000-step horizon. The discrete method draws N·M·d
noise values per step (the SDE: M·d Gaussians), which is where the SDE's advantage comes from. The last line
is one JSON object.
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

from tailtamer.sde import build_lab, discrete_paths, sde_paths

M, D, N = 10_000, 10, 4
METHODS = {"dsgd": {"name": "dsgd"}, "dcsgd (ω = 1)": {"name": "dcsgd", "omega": 1.0}, "dsignsgd": {"name": "dsignsgd"}}
NOISES = {"gaussian": {"name": "gaussian"}, "student-t(2.5)": {"name": "student-t", "df": 2.5}}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="50 steps per measurement instead of 200")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    steps = 50 if args.quick else 200
    eta = 0.001
    rows = {}
    print(f"{'method':>16} {'noise':>15} {'discrete path-steps/s':>22} {'SDE path-steps/s':>17} {'SDE/discrete':>13}")
    for mname, method in METHODS.items():
        for nname, noise in NOISES.items():
            lab = build_lab(
                {
                    "problem": {"name": "quartic", "dim": D, "x0": 1.0},
                    "method": {**method, "workers": N, "lr": eta},
                    "noise": noise,
                    "sde": {"paths": M, "horizon": steps * eta, "record": 1},
                }
            )
            rate = {}
            for kind, fn in (("discrete", discrete_paths), ("sde", sde_paths)):
                t0 = time.perf_counter()
                fn(lab.method, lab.grad, lab.f, lab.rule, lab.eta, lab.x0, lab.steps, 0, 1)
                rate[kind] = M * lab.steps / (time.perf_counter() - t0)
            ratio = rate["sde"] / rate["discrete"]
            rows[f"{mname} / {nname}"] = {
                "discrete_path_steps_per_s": rate["discrete"],
                "sde_path_steps_per_s": rate["sde"],
                "sde_over_discrete": ratio,
                "sde_paths_per_s_1000_steps": rate["sde"] / 1000,
            }
            print(f"{mname:>16} {nname:>15} {rate['discrete']:>22.3g} {rate['sde']:>17.3g} {ratio:>13.2f}", flush=True)
    ratios = sorted(r["sde_over_discrete"] for r in rows.values())
    result = {
        "paths": M,
        "d": D,
        "workers": N,
        "steps": steps,
        "threads": 1,
        "rows": rows,
        "sde_over_discrete_median": statistics.median(ratios),
        "sde_over_discrete_min": ratios[0],
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
