"""E3 (docs/tailopt.md): TailOPT local-update methods under injected heavy-tailed noise, at CPU scale.

Bi²Clip against Adam², DiLoCo, FedAvg, Avg-L2Clip and Adam-SGD (Lee, Zaheer, Li, arXiv 2502.04164) on
synthetic problems with injected Student-t (df 1.5) and α-stable (α = 1.5) noise; n = 8 clients, half of
them sampled per round, z = 5 local steps, T = 200 rounds, 3 seeds. Every method is tuned on :data:`TUNE_SEEDS`,
separately per task and noise, by the mean final quality, over the grid :data:`AXES` (part of the recipe), which
grows past an edge that holds the winner (:mod:`~tailtamer.experiments.tuning`); the
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
from .study import Grid, Section, Study, run_study, tune_grid
from .tuning import grid_points, round_sig
from ..engine.atomic import atomic_write_text

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

    return Grid(axes={f"{t}/{n}/{m}": AXES[m] for t in (tasks or tuple(TASKS)) for n in (noises or tuple(NOISES))
                      for m in METHODS},
                seeds=TUNE_SEEDS,
                folder=lambda root, k, v: Path(root) / "tune" / split(k)[0] / split(k)[1] / split(k)[2]
                / label(point(split(k)[2], v)),
                config=lambda k, v, s: config(split(k)[0], split(k)[1], split(k)[2], point(split(k)[2], v), s),
                metric=lambda k: TASKS[split(k)[0]]["metric"], max_extensions=MAX_EXTENSIONS,
                winner=lambda k, v: point(split(k)[2], v), collect=_nest)


def tune_jobs(root: Path, tasks=tuple(TASKS), noises=tuple(NOISES)) -> list[tuple[Path, dict[str, Any]]]:
    """The first tuning round (the starting grid on the tuning seeds)."""
    return grid(root, tasks, noises).first_round(root)


def tune(root: Path, workers: int = 1, tasks=tuple(TASKS), noises=tuple(NOISES), log=print
         ) -> dict[str, dict[str, dict[str, Any]]]:
    """Tune every method per task and noise by the mean final metric over :data:`TUNE_SEEDS` (diverged = ∞),
    growing grids past their edges; writes ``tuned.json`` (best points) and ``tuning.json`` (the searches)."""
    return tune_grid(grid(root, tasks, noises), Path(root), workers, log)


def main_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict[str, Any]]]:
    jobs = []
    for key, best in tuned.items():
        task, noise = key.split("/")
        jobs += [(root / "main" / task / noise / m / label(best[m]) / f"seed{s}", config(task, noise, m, best[m], s))
                 for m in METHODS for s in SEEDS]
    return jobs


#: The model tasks' starting grid: each method's α-stable-quadratic winner with its inner step and its
#: second setting (:data:`MODEL_SECOND`: Bi²Clip's threshold u, Avg-L2Clip's γ, the outer step of Adam²,
#: DiLoCo and Adam-SGD; FedAvg has only the step) each times these factors, on one tuning seed (lowest final
#: val_loss wins); both axes grow past their edges up to :data:`MODEL_MAX_EXTENSIONS` times per side.
MODEL_FACTORS = (1 / 3, 1.0, 3.0)
MODEL_SECOND = {"bi2clip": "u", "avg-l2clip": "gamma", "adam2": "outer_lr", "diloco": "outer_lr",
                "adam-sgd": "outer_lr"}
MODEL_TUNE_SEED = 100
MODEL_MAX_EXTENSIONS = 4


def _model_base(tuned: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return tuned.get("quadratic/alpha-stable", {m: GRID[m][0] for m in METHODS})


def model_axes(base: dict[str, Any], method: str) -> dict[str, tuple[float, ...]]:
    """The starting axes of ``method`` around its synthetic winner ``base``."""
    keys = ("lr",) + ((MODEL_SECOND[method],) if method in MODEL_SECOND else ())
    return {k: tuple(round_sig(base[k] * f) for f in MODEL_FACTORS) for k in keys}


def _model_point(base: dict[str, Any], method: str, v: dict[str, float]) -> dict[str, Any]:
    return _bi2clip(v["lr"], v["u"]) if method == "bi2clip" else {**base, **v}


def model_grid(tuned: dict[str, dict[str, dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The model tasks' starting grid as explicit points per method."""
    base = _model_base(tuned)
    return {m: [_model_point(base[m], m, v) for v in grid_points(model_axes(base[m], m))] for m in METHODS}


def models_grid(tuned: dict[str, dict[str, dict[str, Any]]]) -> Grid:
    """The model tasks' tuning grid around the synthetic winners ``tuned`` (:data:`MODEL_FACTORS`,
    :data:`MODEL_SECOND`), on :data:`MODEL_TUNE_SEED`."""
    base = _model_base(tuned)

    def params(key: str, v: dict[str, float]) -> dict[str, Any]:
        m = key.split("/")[1]
        return _model_point(base[m], m, v)

    def collect(winners: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for key, p in winners.items():
            out.setdefault(key.split("/")[0], {})[key.split("/")[1]] = p
        return out

    return Grid(axes={f"{task}/{m}": model_axes(base[m], m) for task in MODEL_TASKS for m in METHODS},
                seeds=(MODEL_TUNE_SEED,),
                folder=lambda root, k, v: Path(root) / "models-tune" / k.split("/")[0] / k.split("/")[1]
                / label(params(k, v)),
                config=lambda k, v, s: config(k.split("/")[0], None, k.split("/")[1], params(k, v), s),
                metric=lambda k: MODEL_TASKS[k.split("/")[0]]["metric"], max_extensions=MODEL_MAX_EXTENSIONS,
                winner=params, collect=collect)


def model_tune_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict]]:
    """The first model-tuning round."""
    return models_grid(tuned).first_round(root)


def tune_models(root: Path, tuned: dict[str, dict[str, dict[str, Any]]], workers: int = 1, log=print
                ) -> dict[str, dict[str, dict]]:
    """Tune every method on every model task (:data:`MODEL_FACTORS`, :data:`MODEL_SECOND`); writes
    ``models-tuned.json`` and ``models-tuning.json``."""
    return tune_grid(models_grid(tuned), Path(root), workers, log, "models-tuned.json", "models-tuning.json")


def model_jobs(root: Path, model_tuned: dict[str, dict[str, dict]], seeds=SEEDS) -> list[tuple[Path, dict]]:
    """Model tasks (no injected noise) with each method's tuned point, on the evaluation seeds."""
    return [(root / "models" / task / m / label(model_tuned[task][m]) / f"seed{s}",
             config(task, None, m, model_tuned[task][m], s))
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
    lines = [(f"| method | final {metric} (mean ± std) | state bytes / client | state bytes server | "
             f"comm bytes / round |"), "|---|---|---|---|---|"]
    for m in sorted(groups, key=lambda k: groups[k][0].mean if groups[k][0].values else math.inf):
        cell, a = groups[m]
        lines.append(f"| {m} | {cell.format(4)} | {a.get('state_bytes_per_client', '—')} | "
                     f"{a.get('state_bytes_server', '—')} | {a.get('comm_bytes_per_round', '—')} |")
    return "\n".join(lines)


def _edges(root: Path, name: str, prefix: str = "") -> str:
    """``" (still at a grid edge after growing: method axis side, ...)"`` from a tuning record, or ``""``."""
    path = root / name
    if not path.exists():
        return ""
    recs = json.loads(path.read_text())
    left = [f"{k[len(prefix):]} {', '.join(r['at_edge'])}" for k, r in recs.items()
            if k.startswith(prefix) and r.get("at_edge")]
    return f" Still on a grid edge after growing: {'; '.join(left)}." if left else ""


def _setting_sections() -> tuple[Section, ...]:
    def body(key: str):
        def draw(root: Path, tuned: Any) -> str | None:
            if key not in tuned:
                return None
            task = key.split("/")[0]
            runs = load_runs([root / "main" / key / m / label(p) for m, p in tuned[key].items()])
            return (table(runs, TASKS[task]["metric"]) + "\n\nTuned: "
                    + "; ".join(f"{m}: {label(p)}" for m, p in tuned[key].items()) + "."
                    + _edges(root, "tuning.json", f"{key}/"))
        return draw

    return tuple(Section(f"{t}, {n} noise (scale {TASKS[t]['scale']:g})", body(f"{t}/{n}"))
                 for t in TASKS for n in NOISES)


def _model_sections() -> tuple[Section, ...]:
    def body(task: str):
        def draw(root: Path, model_tuned: Any) -> str | None:
            mt = model_tuned.get(task, {})
            if not mt:
                return None
            runs = load_runs([root / "models" / task / m / label(p) for m, p in mt.items()])
            return (table(runs, MODEL_TASKS[task]["metric"]) + "\n\nTuned: "
                    + "; ".join(f"{m}: {label(p)}" for m, p in mt.items()) + "."
                    + _edges(root, "models-tuning.json", f"{task}/"))
        return draw

    return tuple(Section(f"{task} (no injected noise, {MODEL_TASKS[task]['rounds']} rounds)", body(task))
                 for task in MODEL_TASKS)


def _b(lr: float, u: float) -> dict[str, Any]:
    return point("bi2clip", {"lr": lr, "u": u})


#: The recorded winners of ``tailtamer study tailopt --tune`` (docs/tailopt.md), per task/noise and method.
TUNED: dict[str, dict[str, dict[str, Any]]] = {
    "quadratic/student-t": {"bi2clip": _b(0.003333, 5.0), "adam2": {"lr": 0.0009, "outer_lr": 0.03},
                            "diloco": {"lr": 0.27, "outer_lr": 0.02363}, "fedavg": {"lr": 0.003},
                            "avg-l2clip": {"lr": 0.01, "gamma": 5.0},
                            "adam-sgd": {"lr": 0.0003703, "outer_lr": 0.03}},
    "quadratic/alpha-stable": {"bi2clip": _b(0.003333, 25.0), "adam2": {"lr": 0.0009, "outer_lr": 0.03},
                               "diloco": {"lr": 0.003, "outer_lr": 0.3}, "fedavg": {"lr": 0.003},
                               "avg-l2clip": {"lr": 0.003333, "gamma": 25.0},
                               "adam-sgd": {"lr": 0.0003703, "outer_lr": 0.03}},
    "logistic/student-t": {"bi2clip": _b(1.111, 0.04), "adam2": {"lr": 0.81, "outer_lr": 0.03},
                           "diloco": {"lr": 0.01, "outer_lr": 0.1286}, "fedavg": {"lr": 0.01},
                           "avg-l2clip": {"lr": 0.1, "gamma": 1.0}, "adam-sgd": {"lr": 1.111, "outer_lr": 0.03}},
    "logistic/alpha-stable": {"bi2clip": _b(1.111, 0.04), "adam2": {"lr": 0.81, "outer_lr": 0.03},
                              "diloco": {"lr": 0.01, "outer_lr": 0.1286}, "fedavg": {"lr": 0.01},
                              "avg-l2clip": {"lr": 0.1, "gamma": 1.0},
                              "adam-sgd": {"lr": 0.3333, "outer_lr": 0.03}},
}
#: The recorded winners of ``tailtamer study tailopt-models --tune`` (docs/tailopt.md).
MODELS_TUNED: dict[str, dict[str, dict[str, Any]]] = {
    "sst2": {"bi2clip": _b(0.001111, 25.0), "adam2": {"lr": 0.0081, "outer_lr": 0.03},
             "diloco": {"lr": 0.003, "outer_lr": 0.9}, "fedavg": {"lr": 0.081},
             "avg-l2clip": {"lr": 0.09001, "gamma": 2.778}, "adam-sgd": {"lr": 0.003333, "outer_lr": 0.09}},
    "gpt-multi30k": {"bi2clip": _b(0.001111, 25.0), "adam2": {"lr": 0.0003, "outer_lr": 0.01},
                     "diloco": {"lr": 0.001, "outer_lr": 0.9}, "fedavg": {"lr": 0.243},
                     "avg-l2clip": {"lr": 0.8105, "gamma": 0.9261}, "adam-sgd": {"lr": 0.09001, "outer_lr": 0.01}},
}

_HEAD = (f"## TailOPT (E3) at CPU scale\n\nn = {N_CLIENTS} clients, {CLIENTS:g} sampled per round, z = {LOCAL_STEPS} "
         f"local steps, T = {ROUNDS} rounds, seeds {list(SEEDS)}; float64, so state bytes are 8 per number.")


def _synthetic_tuned(root: Path) -> dict[str, dict[str, dict[str, Any]]]:
    path = Path(root) / "tuned.json"
    return json.loads(path.read_text()) if path.exists() else TUNED


STUDY = Study(
    name="tailopt", about="E3 at CPU scale: Bi2Clip vs Adam2, DiLoCo, FedAvg, Avg-L2Clip, Adam-SGD under injected "
    "Student-t and alpha-stable noise, 3 seeds; final quality, state bytes, comm bytes (--tune: the grids first)",
    tuned=TUNED, runs=lambda root, tuned: main_jobs(root, tuned), grid=lambda root: grid(root),
    heading=_HEAD, sections=_setting_sections(), seconds_per_run=0.3, report_file="tailopt-report.md")

MODELS_STUDY = Study(
    name="tailopt-models", about="TailOPT on the sst2 and gpt-multi30k model tasks (30 rounds, no injected noise), "
    "grids around the synthetic winners of 'tailopt', 3 seeds",
    tuned=MODELS_TUNED, runs=lambda root, tuned: model_jobs(root, tuned),
    grid=lambda root: models_grid(_synthetic_tuned(root)), heading="## TailOPT model tasks",
    sections=_model_sections(), seconds_per_run=30.0, tuned_file="models-tuned.json",
    tuning_file="models-tuning.json", report_file="tailopt-models-report.md", requires="tailopt")

STUDIES = (STUDY, MODELS_STUDY)


def report(root: Path, tuned: dict[str, dict[str, dict[str, Any]]] | None = None, models: bool = False) -> str:
    """The markdown report of a finished study under ``root`` (also written to ``tailopt-report.md``)."""
    text = STUDY.report(root, tuned)
    if models and (Path(root) / MODELS_STUDY.tuned_file).exists():
        text += "\n" + "\n".join(MODELS_STUDY.report(root).split("\n")[2:])
        atomic_write_text(Path(root) / STUDY.report_file, text + "\n")
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
    """Tune (growing grids past their edges), run the main table, (optionally) the model tasks, and report."""
    run_study(STUDY, Path(root), tune=True, workers=workers, log=log)
    if models:
        run_study(MODELS_STUDY, Path(root), tune=True, workers=workers, log=log)
    return report(Path(root), models=models)


__all__ = ["METHODS", "TASKS", "NOISES", "AXES", "GRID", "MODEL_TASKS", "config", "tune_jobs", "tune", "main_jobs",
           "model_tune_jobs", "tune_models", "model_jobs", "table", "report", "write_configs", "run_all"]
