"""The runs of an E4 study: the config of one run, its folder, and the job lists (main grid, straggler sweeps,
heatmaps) at the tuned steps, plus the tuning grid."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ...study import Grid
from .recipe import Recipe

Job = tuple[Path, dict[str, Any]]


def fmt(v: float) -> str:
    """A value as folders and tables print it (four significant digits)."""
    return f"{v:.4g}"


def config(
    recipe: Recipe, workload: str, method: str, n: int, seed: int, params: dict[str, Any], factor: float = 1.0
) -> dict[str, Any]:
    """The config of one run: ``params`` set in the method's algorithm section; the last worker ``factor``×
    slower than the ``sqrt`` times of ringmaster-lmo."""
    w = recipe.workloads[workload]
    return {
        "problem": copy.deepcopy(w.problem),
        "algorithm": recipe.methods[method].section(n, params),
        "topology": {"name": "server", "n": n},
        "noise": dict(w.noise),
        "timing": {"name": "straggler", "factor": float(factor), "workers": [n - 1]},
        "run": {"steps": 10**7, "time": w.horizon, "eval_every": w.eval_every, "seed": seed, "dtype": w.dtype},
    }


def default_step(recipe: Recipe, method: str) -> dict[str, float]:
    """The middle of a method's starting axis (used where no tuned value is recorded)."""
    m = recipe.methods[method]
    return {m.key: m.axis[len(m.axis) // 2]}


def step_of(recipe: Recipe, tuned: dict[str, Any], key: str, method: str) -> dict[str, float]:
    """The tuned step of ``method`` at setting ``key`` (``workload/n<n>``), else :func:`default_step`."""
    return dict(tuned.get(key, {}).get(method) or default_step(recipe, method))


def label(params: dict[str, float]) -> str:
    """The folder name of a point: ``key=value`` pairs joined by commas."""
    return ",".join(f"{k}={fmt(v)}" for k, v in params.items())


def main_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """Every method at its tuned step per workload and n, on the evaluation seeds."""
    jobs = []
    for key in recipe.keys():
        w, n = key.split("/")[0], int(key.split("/n")[1])
        for m in recipe.methods:
            p = step_of(recipe, tuned, key, m)
            jobs += [
                (root / "main" / key / m / label(p) / f"seed{s}", config(recipe, w, m, n, s, p))
                for s in recipe.seeds_for(w)
            ]
    return jobs


def straggler_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """The straggler sweep at n = ``straggler_n``: the last worker k× slower, each method at its tuned step."""
    jobs, n = [], recipe.straggler_n
    for w in recipe.straggler_workloads:
        for k in recipe.straggler_factors:
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                jobs += [
                    (root / "straggler" / w / f"k{k:g}" / m / label(p) / f"seed{s}", config(recipe, w, m, n, s, p, k))
                    for s in recipe.seeds_for(w)
                ]
    return jobs


def long_sweep_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """The long straggler sweep at n = ``straggler_n``, each method at its tuned step."""
    ls, n = recipe.long_sweep, recipe.straggler_n
    jobs: list[Job] = []
    if ls is None:
        return jobs
    for w in ls.workloads:
        for k in ls.factors:
            for m in ls.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                for s in ls.seeds:
                    cfg = config(recipe, w, m, n, s, p, k)
                    cfg["run"]["time"] = ls.horizon
                    jobs.append((root / "long-sweep" / w / f"k{k:g}" / m / label(p) / f"seed{s}", cfg))
    return jobs


def heatmap_folder(root: Path, name: str, step: float, value: float) -> Path:
    """The folder of one heatmap cell (its seeds below it)."""
    return root / "heatmap" / name / f"step={fmt(step)},value={fmt(value)}"


def heatmap_jobs(recipe: Recipe, root: Path) -> list[Job]:
    """Every cell (step × value) of every robustness heatmap, on the heatmap seeds."""
    jobs = []
    for name, h in recipe.heatmaps.items():
        key = recipe.methods[h.method].key
        for step in h.steps:
            for v in h.values:
                p = {**h.base, key: step, h.param: v}
                jobs += [
                    (
                        heatmap_folder(root, name, step, v) / f"seed{s}",
                        config(recipe, h.workload, h.method, h.n, s, _flat(p)),
                    )
                    for s in recipe.heatmap_seeds
                ]
    return jobs


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"delay": {"name": "threshold"}, "lr": 0.1}`` → ``{"delay.name": "threshold", "lr": 0.1}``."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def runs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """Every run of the study (main table, straggler sweep, heatmaps) at the ``tuned`` steps."""
    root = Path(root)
    return (
        main_jobs(recipe, root, tuned)
        + straggler_jobs(recipe, root, tuned)
        + heatmap_jobs(recipe, root)
        + long_sweep_jobs(recipe, root, tuned)
    )


def _collect(winners: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """``{"workload/n8/method": point}`` → ``{"workload/n8": {method: point}}``."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, point in winners.items():
        setting, method = key.rsplit("/", 1)
        out.setdefault(setting, {})[method] = point
    return out


def grid(recipe: Recipe, root: Path) -> Grid:
    """Each method's step per workload and n, starting from ``Method.axis`` and growing past an edge holding
    the winner (at most ``max_extensions`` values per side)."""

    def parts(key: str) -> tuple[str, int, str]:
        w, n, m = key.split("/")
        return w, int(n[1:]), m

    return Grid(
        axes={f"{k}/{m}": {meth.key: meth.axis} for k in recipe.keys() for m, meth in recipe.methods.items()},
        seeds=recipe.tune_seeds,
        folder=lambda root, k, p: Path(root) / "tune" / k / label(p),
        config=lambda k, p, s: config(recipe, parts(k)[0], parts(k)[2], parts(k)[1], s, p),
        metric=lambda k: recipe.workloads[parts(k)[0]].metric,
        max_extensions=recipe.max_extensions,
        collect=_collect,
    )
