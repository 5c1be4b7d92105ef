"""The TailOPT model tasks (``sst2``, ``gpt-multi30k``): a tuning grid around each method's synthetic winner
and the runs at the model winners."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...study import Grid, tune_grid
from ...tuning import grid_points, round_sig
from .recipe import GRID, METHODS, MODEL_TASKS, SEEDS, _bi2clip, config, label

#: The model tasks' starting grid: each method's α-stable-quadratic winner with its inner step and its
#: second setting (:data:`MODEL_SECOND`: Bi²Clip's threshold u, Avg-L2Clip's γ, the outer step of Adam²,
#: DiLoCo and Adam-SGD; FedAvg has only the step) each times these factors, on one tuning seed (lowest final
#: val_loss wins); both axes grow past their edges up to :data:`MODEL_MAX_EXTENSIONS` times per side.
MODEL_FACTORS = (1 / 3, 1.0, 3.0)
MODEL_SECOND = {
    "bi2clip": "u",
    "avg-l2clip": "gamma",
    "adam2": "outer_lr",
    "diloco": "outer_lr",
    "adam-sgd": "outer_lr",
}
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

    return Grid(
        axes={f"{task}/{m}": model_axes(base[m], m) for task in MODEL_TASKS for m in METHODS},
        seeds=(MODEL_TUNE_SEED,),
        folder=lambda root, k, v: Path(root) / "models-tune" / k.split("/")[0] / k.split("/")[1] / label(params(k, v)),
        config=lambda k, v, s: config(k.split("/")[0], None, k.split("/")[1], params(k, v), s),
        metric=lambda k: MODEL_TASKS[k.split("/")[0]]["metric"],
        max_extensions=MODEL_MAX_EXTENSIONS,
        winner=params,
        collect=collect,
    )


def model_tune_jobs(root: Path, tuned: dict[str, dict[str, dict[str, Any]]]) -> list[tuple[Path, dict]]:
    """The first model-tuning round."""
    return models_grid(tuned).first_round(root)


def tune_models(
    root: Path, tuned: dict[str, dict[str, dict[str, Any]]], workers: int = 1, log=print
) -> dict[str, dict[str, dict]]:
    """Tune every method on every model task (:data:`MODEL_FACTORS`, :data:`MODEL_SECOND`); writes
    ``models-tuned.json`` and ``models-tuning.json``."""
    return tune_grid(models_grid(tuned), Path(root), workers, log, "models-tuned.json", "models-tuning.json")


def model_jobs(root: Path, model_tuned: dict[str, dict[str, dict]], seeds=SEEDS) -> list[tuple[Path, dict]]:
    """Model tasks (no injected noise) with each method's tuned point, on the evaluation seeds."""
    return [
        (
            root / "models" / task / m / label(model_tuned[task][m]) / f"seed{s}",
            config(task, None, m, model_tuned[task][m], s),
        )
        for task in MODEL_TASKS
        for m in METHODS
        for s in seeds
    ]
