"""Does GT-NSGDm keep its robustness when its gossip is compressed (``gt-nsgdm-choco``, ours)?

The E1 setting (configs/e1/gt-nsgdm-alpha-stable.toml: tokenized regression, ring of 20 with k = 2,
α-stable noise α = 1.5, skew 0.5; lr = 0.005, β = 0.8 as tuned for dense GT-NSGDm). For each compressor the
consensus step γ is chosen on the E1 tuning seed 100 (lowest final ``dist_to_opt`` over :data:`GAMMAS`), then
the method runs on seeds 0, 1, 2. Reports final ``dist_to_opt`` mean ± std and bytes per node per step.

Run: ``python -m tailtamer.experiments.studies.compressed_gossip [--out runs/compressed-gossip]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
from pathlib import Path
from typing import Any

from ...api import build
from ...config import load_toml
from ...rundir.atomic import atomic_write_text

BASE = Path(__file__).resolve().parents[4] / "configs" / "e1" / "gt-nsgdm-alpha-stable.toml"
COMPRESSORS: dict[str, dict[str, Any] | None] = {
    "dense": None,
    "top-10%": {"name": "top-k", "fraction": 0.1},
    "sign": {"name": "scaled-sign"},
    "qsgd-4bit": {"name": "qsgd", "levels": 15, "biased": True},
}
GAMMAS = (0.01, 0.03, 0.1, 0.3, 1.0)
TUNE_SEED, SEEDS = 100, (0, 1, 2)


def config(compression: dict[str, Any] | None, seed: int, gamma: float = 1.0) -> dict[str, Any]:
    cfg = copy.deepcopy(load_toml(BASE))
    cfg["run"]["seed"] = seed
    if compression is not None:
        cfg["algorithm"].update(name="gt-nsgdm-choco", gamma=gamma)
        cfg["compression"] = dict(compression)
    return cfg


def run(cfg: dict[str, Any]) -> tuple[float, float]:
    """(final dist_to_opt, or inf when it diverged; bytes per node per step)."""
    cfg = copy.deepcopy(cfg)
    cfg["run"]["check_finite"] = False
    loop = build(cfg)
    loop.run()
    dist = loop.last_metrics.get("dist_to_opt", math.inf)
    n, steps = loop.comm.n, cfg["run"]["steps"]
    return (dist if math.isfinite(dist) else math.inf), loop.comm.stats.bytes / (n * steps)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/compressed-gossip")
    args = ap.parse_args(argv)
    results: dict[str, Any] = {}
    for label, comp in COMPRESSORS.items():
        gamma, tuning = 1.0, {}
        if comp is not None:
            tuning = {g: run(config(comp, TUNE_SEED, g))[0] for g in GAMMAS}
            gamma = min(tuning, key=tuning.get)
        finals, nbytes = zip(*(run(config(comp, s, gamma)) for s in SEEDS))
        results[label] = {
            "gamma": gamma,
            "tuning": tuning,
            "final": list(finals),
            "bytes_per_node_step": nbytes[0],
            "mean": statistics.mean(finals),
            "std": statistics.stdev(finals),
        }
        print(
            f"| {label} | {gamma:g} | {results[label]['mean']:.4g} ± {results[label]['std']:.2g} | {nbytes[0]:g} |",
            flush=True,
        )
    Path(args.out).mkdir(parents=True, exist_ok=True)
    atomic_write_text(Path(args.out) / "results.json", json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
