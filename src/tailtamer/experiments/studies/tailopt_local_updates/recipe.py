"""The TailOPT (E3) recipe at CPU scale: the methods, tasks and injected noises, the config of one run, the
synthetic tuning grid (:data:`AXES`, grown past an edge holding the winner) and the main runs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ...study import Grid, tune_grid
from ...tuning import grid_points

METHODS = ("bi2clip", "adam2", "diloco", "fedavg", "avg-l2clip", "adam-sgd")
N_CLIENTS = 8
CLIENTS = 0.5
LOCAL_STEPS = 5
ROUNDS = 200
SEEDS = (0, 1, 2)
TUNE_SEEDS = (100, 101)

#: Tasks: problem config, the quality metric (lower is better) and the noise scale.
TASKS: dict[str, dict[str, Any]] = {
    "quadratic": {
        "problem": {"name": "quadratic", "dim": 20, "condition": 10.0, "heterogeneity": 0.5},
        "metric": "dist_to_opt",
        "scale": 1.0,
    },
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
    "gpt-multi30k": {
        "problem": {
            "name": "gpt-multi30k",
            "d_model": 64,
            "layers": 2,
            "heads": 4,
            "ffn": 256,
            "context": 32,
            "max_vocab": 2000,
            "batch_size": 4,
            "max_eval_windows": 100,
        },
        "metric": "val_loss",
        "rounds": 30,
        "dtype": "float32",
    },
}


def _bi2clip(lr: float, u: float) -> dict[str, Any]:
    """Bi²Clip point: inner thresholds (u, u/20); outer thresholds scaled to a round's largest move z·lr·u."""
    move = LOCAL_STEPS * lr * u
    return {"lr": lr, "u": u, "d": u / 20, "outer_lr": 1.0, "outer_u": move / 2, "outer_d": move / 40}


#: The starting grid (part of the recipe): axes per method, searched as their product; an axis whose winner
#: is on its edge grows (:mod:`~tailtamer.experiments.tuning`) up to :data:`MAX_EXTENSIONS` values per side.
AXES: dict[str, dict[str, tuple[float, ...]]] = {
    "bi2clip": {"lr": (0.01, 0.03, 0.1), "u": (1.0, 5.0)},
    "adam2": {"lr": (0.003, 0.01, 0.03), "outer_lr": (0.01, 0.03)},
    "diloco": {"lr": (0.003, 0.01, 0.03), "outer_lr": (0.3, 0.7)},
    "fedavg": {"lr": (0.003, 0.01, 0.03, 0.1)},
    "avg-l2clip": {"lr": (0.01, 0.03, 0.1), "gamma": (1.0, 5.0)},
    "adam-sgd": {"lr": (0.01, 0.03, 0.1), "outer_lr": (0.01, 0.03)},
}
MAX_EXTENSIONS = 5


def point(method: str, values: dict[str, float]) -> dict[str, Any]:
    """The algorithm parameters of one grid point (Bi²Clip derives its thresholds from ``lr`` and ``u``)."""
    return _bi2clip(values["lr"], values["u"]) if method == "bi2clip" else dict(values)


#: The starting grid as explicit points per method.
GRID: dict[str, list[dict[str, Any]]] = {m: [point(m, v) for v in grid_points(AXES[m])] for m in METHODS}


def config(
    task: str, noise: str | None, method: str, params: dict[str, Any], seed: int, rounds: int | None = None
) -> dict[str, Any]:
    """The full config of one run (``noise = None``: no injected noise, for model tasks)."""
    spec = TASKS.get(task) or MODEL_TASKS[task]
    noise_cfg = {"name": "none"} if noise is None else {**NOISES[noise], "scale": spec.get("scale", 1.0)}
    rounds = rounds or spec.get("rounds", ROUNDS)
    return {
        "problem": copy.deepcopy(spec["problem"]),
        "algorithm": {"name": method, "local_steps": LOCAL_STEPS, "clients": CLIENTS, **params},
        "topology": {"name": "complete", "n": N_CLIENTS},
        "noise": noise_cfg,
        "run": {
            "steps": rounds,
            "seed": seed,
            "eval_every": max(rounds // 10, 1),
            "dtype": spec.get("dtype", "float64"),
        },
    }


def label(params: dict[str, Any]) -> str:
    return ",".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _nest(winners: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"task/noise/method": params}`` → ``{"task/noise": {method: params}}``."""
    tuned: dict[str, dict[str, dict[str, Any]]] = {}
    for key, params in winners.items():
        t, n, m = key.split("/")
        tuned.setdefault(f"{t}/{n}", {})[m] = params
    return tuned


def grid(root: Path | None = None, tasks=None, noises=None) -> Grid:
    """The synthetic tuning grid: :data:`AXES` per task × noise × method on :data:`TUNE_SEEDS`."""

    def split(key: str) -> list[str]:
        return key.split("/")

    return Grid(
        axes={
            f"{t}/{n}/{m}": AXES[m] for t in (tasks or tuple(TASKS)) for n in (noises or tuple(NOISES)) for m in METHODS
        },
        seeds=TUNE_SEEDS,
        folder=lambda root, k, v: (
            Path(root) / "tune" / split(k)[0] / split(k)[1] / split(k)[2] / label(point(split(k)[2], v))
        ),
        config=lambda k, v, s: config(split(k)[0], split(k)[1], split(k)[2], point(split(k)[2], v), s),
        metric=lambda k: TASKS[split(k)[0]]["metric"],
        max_extensions=MAX_EXTENSIONS,
        winner=lambda k, v: point(split(k)[2], v),
        collect=_nest,
    )


def tune_jobs(root: Path, tasks=tuple(TASKS), noises=tuple(NOISES)) -> list[tuple[Path, dict[str, Any]]]:
    """The first tuning round (the starting grid on the tuning seeds)."""
    return grid(root, tasks, noises).first_round(root)


def tune(
    root: Path, workers: int = 1, tasks=tuple(TASKS), noises=tuple(NOISES), log=print
) -> dict[str, dict[str, dict[str, Any]]]:
    """Tune every method per task and noise by the mean final metric over :data:`TUNE_SEEDS` (diverged = ∞),
    growing grids past their edges; writes ``tuned.json`` (best points) and ``tuning.json`` (the searches)."""
    return tune_grid(grid(root, tasks, noises), Path(root), workers, log)


def main_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict[str, Any]]]:
    jobs = []
    for key, best in tuned.items():
        task, noise = key.split("/")
        jobs += [
            (root / "main" / task / noise / m / label(best[m]) / f"seed{s}", config(task, noise, m, best[m], s))
            for m in METHODS
            for s in SEEDS
        ]
    return jobs
