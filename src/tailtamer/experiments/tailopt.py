"""E3 of experiments.md: TailOPT local-update methods under injected heavy-tailed noise, at CPU scale.

Bi²Clip against Adam², DiLoCo, FedAvg, Avg-L2Clip and Adam-SGD (Lee, Zaheer, Li, arXiv 2502.04164) on
synthetic problems with injected Student-t (df 1.5) and α-stable (α = 1.5) noise; n = 8 clients, half of
them sampled per round, z = 5 local steps, T = 200 rounds, 3 seeds. Every method is tuned by :data:`GRID`
(part of the recipe) on :data:`TUNE_SEEDS`, separately per task and noise, by the mean final quality; the
table reports the tuned methods on seeds 0–2 with their optimizer-state and communication bytes (from the
``accounting`` of summary.json). Model tasks (``sst2``, ``gpt-multi30k``) are in :data:`MODEL_TASKS` with a
small budget; ``tailtamer tailopt --models`` adds them (their grid is the synthetic winners' neighbourhood).
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from ..config import dumps_toml
from .report import Cell, load_runs
from .sweep import run_sweep

METHODS = ("bi2clip", "adam2", "diloco", "fedavg", "avg-l2clip", "adam-sgd")
N_CLIENTS = 8
CLIENTS = 0.5
LOCAL_STEPS = 5
ROUNDS = 200
SEEDS = (0, 1, 2)
TUNE_SEEDS = (100, 101)

#: Tasks: problem config, the quality metric (lower is better) and the noise scale.
TASKS: dict[str, dict[str, Any]] = {
    "quadratic": {"problem": {"name": "quadratic", "dim": 20, "condition": 10.0, "heterogeneity": 0.5},
                  "metric": "dist_to_opt", "scale": 1.0},
    "logistic": {"problem": {"name": "logistic", "samples": 400, "dim": 10}, "metric": "loss", "scale": 0.3},
}
NOISES: dict[str, dict[str, Any]] = {
    "student-t": {"name": "student-t", "df": 1.5},
    "alpha-stable": {"name": "alpha-stable", "alpha": 1.5, "skew": 0.0},
}
#: Model tasks at a small CPU budget (no injected noise: the heavy tails are the models' own).
MODEL_TASKS: dict[str, dict[str, Any]] = {
    "sst2": {"problem": {"name": "sst2"}, "metric": "val_loss", "rounds": 30},
    # the E2 CPU-scale GPT (configs/e2/gpt-cpu.toml), in float32: a round is z = 5 steps of 8 GPT nodes
    "gpt-multi30k": {"problem": {"name": "gpt-multi30k", "d_model": 64, "layers": 2, "heads": 4, "ffn": 256,
                                 "context": 32, "max_vocab": 2000, "batch_size": 4, "max_eval_windows": 100},
                     "metric": "val_loss", "rounds": 30, "dtype": "float32"},
}


def _bi2clip(lr: float, u: float) -> dict[str, Any]:
    """Bi²Clip point: inner thresholds (u, u/20); outer thresholds scaled to a round's largest move z·lr·u."""
    move = LOCAL_STEPS * lr * u
    return {"lr": lr, "u": u, "d": u / 20, "outer_lr": 1.0, "outer_u": move / 2, "outer_d": move / 40}


#: The tuning grid (part of the recipe): explicit points per method.
GRID: dict[str, list[dict[str, Any]]] = {
    "bi2clip": [_bi2clip(lr, u) for lr in (0.01, 0.03, 0.1) for u in (1.0, 5.0)],
    "adam2": [{"lr": lr, "outer_lr": olr} for lr in (0.003, 0.01, 0.03) for olr in (0.01, 0.03)],
    "diloco": [{"lr": lr, "outer_lr": olr} for lr in (0.003, 0.01, 0.03) for olr in (0.3, 0.7)],
    "fedavg": [{"lr": lr} for lr in (0.003, 0.01, 0.03, 0.1)],
    "avg-l2clip": [{"lr": lr, "gamma": g} for lr in (0.01, 0.03, 0.1) for g in (1.0, 5.0)],
    "adam-sgd": [{"lr": lr, "outer_lr": olr} for lr in (0.01, 0.03, 0.1) for olr in (0.01, 0.03)],
}


def config(task: str, noise: str | None, method: str, params: dict[str, Any], seed: int,
           rounds: int | None = None) -> dict[str, Any]:
    """The full config of one run (``noise = None``: no injected noise, for model tasks)."""
    spec = TASKS.get(task) or MODEL_TASKS[task]
    noise_cfg = {"name": "none"} if noise is None else {**NOISES[noise], "scale": spec.get("scale", 1.0)}
    rounds = rounds or spec.get("rounds", ROUNDS)
    return {"problem": copy.deepcopy(spec["problem"]),
            "algorithm": {"name": method, "local_steps": LOCAL_STEPS, "clients": CLIENTS, **params},
            "topology": {"name": "complete", "n": N_CLIENTS}, "noise": noise_cfg,
            "run": {"steps": rounds, "seed": seed, "eval_every": max(rounds // 10, 1),
                    "dtype": spec.get("dtype", "float64")}}


def label(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def tune_jobs(root: Path, tasks=tuple(TASKS), noises=tuple(NOISES)) -> list[tuple[Path, dict[str, Any]]]:
    return [(root / "tune" / task / noise / m / label(p) / f"seed{s}", config(task, noise, m, p, s))
            for task in tasks for noise in noises for m in METHODS for p in GRID[m] for s in TUNE_SEEDS]


def _score(runs: list, metric: str) -> float:
    vals = [math.inf if r.diverged else r.summary["metrics"].get(metric, math.inf) for r in runs]
    vals = [v if v == v else math.inf for v in vals]
    return sum(vals) / len(vals) if vals else math.inf


def pick_tuned(root: Path, tasks=tuple(TASKS), noises=tuple(NOISES)) -> dict[str, dict[str, dict[str, Any]]]:
    """``{task/noise: {method: best point}}`` by the mean final metric over the tuning seeds (diverged = ∞)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for task in tasks:
        for noise in noises:
            best = {}
            for m in METHODS:
                scored = [(_score(load_runs([root / "tune" / task / noise / m / label(p)]), TASKS[task]["metric"]), i, p)
                          for i, p in enumerate(GRID[m])]
                best[m] = min(scored)[2]
            out[f"{task}/{noise}"] = best
    return out


def main_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict[str, Any]]]:
    jobs = []
    for key, best in tuned.items():
        task, noise = key.split("/")
        jobs += [(root / "main" / task / noise / m / f"seed{s}", config(task, noise, m, best[m], s))
                 for m in METHODS for s in SEEDS]
    return jobs


#: The model tasks' grid: the inner step of each method's α-stable-quadratic winner times these factors,
#: on one tuning seed (lowest final val_loss wins).
MODEL_LR_FACTORS = (1 / 3, 1.0, 3.0)
MODEL_TUNE_SEED = 100


def model_grid(tuned: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    best = tuned.get("quadratic/alpha-stable", {m: GRID[m][0] for m in METHODS})
    grid = {}
    for m in METHODS:
        p = best[m]
        grid[m] = [_bi2clip(p["lr"] * f, p["u"]) if m == "bi2clip" else {**p, "lr": p["lr"] * f}
                   for f in MODEL_LR_FACTORS]
    return grid


def model_tune_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict]]:
    grid = model_grid(tuned)
    return [(root / "models-tune" / task / m / label(p) / f"seed{MODEL_TUNE_SEED}",
             config(task, None, m, p, MODEL_TUNE_SEED)) for task in MODEL_TASKS for m in METHODS for p in grid[m]]


def pick_model_tuned(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, dict]]:
    grid = model_grid(tuned)
    out = {}
    for task, spec in MODEL_TASKS.items():
        out[task] = {m: min((_score(load_runs([root / "models-tune" / task / m / label(p)]), spec["metric"]), i, p)
                            for i, p in enumerate(grid[m]))[2] for m in METHODS}
    return out


def model_jobs(root: Path, model_tuned: dict[str, dict[str, dict]], seeds=SEEDS) -> list[tuple[Path, dict]]:
    """Model tasks (no injected noise) with each method's tuned point, on the evaluation seeds."""
    return [(root / "models" / task / m / f"seed{s}", config(task, None, m, model_tuned[task][m], s))
            for task in MODEL_TASKS for m in METHODS for s in seeds]


def table(runs: list, metric: str) -> str:
    """Markdown: final quality (mean ± std over seeds), optimizer-state bytes and communicated bytes."""
    groups: dict[str, tuple[Cell, dict[str, Any]]] = {}
    for r in runs:
        cell, acct = groups.setdefault(r.summary["algorithm"], (Cell([]), {}))
        if r.diverged:
            cell.diverged += 1
        else:
            cell.values.append(r.summary["metrics"][metric])
            acct.update(r.summary.get("accounting", {}))
    lines = [f"| method | final {metric} (mean ± std) | state bytes / client | state bytes server | "
             f"comm bytes / round |", "|---|---|---|---|---|"]
    for m in sorted(groups, key=lambda k: groups[k][0].mean if groups[k][0].values else math.inf):
        cell, a = groups[m]
        lines.append(f"| {m} | {cell.format(4)} | {a.get('state_bytes_per_client', '—')} | "
                     f"{a.get('state_bytes_server', '—')} | {a.get('comm_bytes_per_round', '—')} |")
    return "\n".join(lines)


def report(root: Path, tuned: dict[str, dict[str, dict[str, Any]]] | None = None, models: bool = False) -> str:
    """The markdown report of a finished study under ``root`` (also written to ``tailopt-report.md``)."""
    tuned = tuned or json.loads((root / "tuned.json").read_text())
    parts = ["## TailOPT (E3) at CPU scale", "",
             f"n = {N_CLIENTS} clients, {CLIENTS:g} sampled per round, z = {LOCAL_STEPS} local steps, "
             f"T = {ROUNDS} rounds, seeds {list(SEEDS)}; float64, so state bytes are 8 per number.", ""]
    for key in tuned:
        task, noise = key.split("/")
        runs = load_runs([root / "main" / task / noise])
        parts += [f"### {task}, {noise} noise (scale {TASKS[task]['scale']:g})", "", table(runs, TASKS[task]["metric"]),
                  "", "Tuned: " + "; ".join(f"{m}: {label(p)}" for m, p in tuned[key].items()), ""]
    if models and (root / "models").exists():
        for task in MODEL_TASKS:
            if (root / "models" / task).exists():
                mt = json.loads((root / "models-tuned.json").read_text()).get(task, {})
                parts += [f"### {task} (no injected noise, {MODEL_TASKS[task]['rounds']} rounds)", "",
                          table(load_runs([root / "models" / task]), MODEL_TASKS[task]["metric"]), "",
                          "Tuned: " + "; ".join(f"{m}: {label(p)}" for m, p in mt.items()), ""]
    text = "\n".join(parts)
    (root / "tailopt-report.md").write_text(text + "\n")
    return text


def write_configs(folder: Path, tuned: dict[str, dict[str, dict[str, Any]]] | None = None) -> list[Path]:
    """One config per task × noise × method (tuned settings when given, else the first grid point)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for task in TASKS:
        for noise in NOISES:
            for m in METHODS:
                params = (tuned or {}).get(f"{task}/{noise}", {}).get(m, GRID[m][0])
                path = folder / f"{m}-{task}-{noise}.toml"
                path.write_text(f"# E3 TailOPT: {m} on {task} with {noise} noise "
                                f"({'tuned' if tuned else 'first grid point'}).\n"
                                + dumps_toml(config(task, noise, m, params, 0)))
                paths.append(path)
    return paths


def run_all(root: Path, workers: int = 1, models: bool = False, log=print) -> str:
    """Tune, run the main table, (optionally) the model tasks, and write the report."""
    root = Path(root)
    tj = tune_jobs(root)
    log(f"tailopt: tuning, {len(tj)} runs")
    run_sweep(tj, workers=workers)
    tuned = pick_tuned(root)
    (root / "tuned.json").write_text(json.dumps(tuned, indent=2) + "\n")
    mj = main_jobs(root, tuned)
    log(f"tailopt: main table, {len(mj)} runs")
    run_sweep(mj, workers=workers)
    if models:
        tj = model_tune_jobs(root, tuned)
        log(f"tailopt: model tasks, tuning, {len(tj)} runs")
        run_sweep(tj, workers=workers)
        model_tuned = pick_model_tuned(root, tuned)
        (root / "models-tuned.json").write_text(json.dumps(model_tuned, indent=2) + "\n")
        oj = model_jobs(root, model_tuned)
        log(f"tailopt: model tasks, {len(oj)} runs")
        run_sweep(oj, workers=workers)
    return report(root, tuned, models)


__all__ = ["METHODS", "TASKS", "NOISES", "GRID", "MODEL_TASKS", "config", "tune_jobs", "pick_tuned", "main_jobs",
           "model_tune_jobs", "pick_model_tuned", "model_jobs", "table", "report", "write_configs", "run_all"]
