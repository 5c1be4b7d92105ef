"""E3, TailOPT local-update methods under injected heavy-tailed noise, at CPU scale (TailOPT: Lee, Zaheer, Li,
ICML 2025, arXiv 2502.04164).

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

import json
from pathlib import Path
from typing import Any

from ....config import dumps_toml
from ....rundir.atomic import atomic_write_text
from ...study import Study, recorded, run_study
from .models import (
    MODEL_FACTORS,
    MODEL_SECOND,
    MODEL_TUNE_SEED,
    model_grid,
    model_jobs,
    model_tune_jobs,
    models_grid,
    tune_models,
)
from .recipe import (
    AXES,
    CLIENTS,
    GRID,
    LOCAL_STEPS,
    METHODS,
    MODEL_TASKS,
    N_CLIENTS,
    NOISES,
    ROUNDS,
    SEEDS,
    TASKS,
    TUNE_SEEDS,
    config,
    grid,
    label,
    main_jobs,
    point,
    tune,
    tune_jobs,
)
from .tables import model_sections, setting_sections, table

#: The recorded winners of ``tailtamer study tailopt --tune`` (docs/tailopt.md), per task/noise and method
#: (``tuned.json`` beside this module; Bi²Clip's thresholds as :func:`~.recipe.point` derives them).
TUNED: dict[str, dict[str, dict[str, Any]]] = recorded(__file__, "tuned.json")
#: The recorded winners of ``tailtamer study tailopt-models --tune`` (docs/tailopt.md; ``models_tuned.json``).
MODELS_TUNED: dict[str, dict[str, dict[str, Any]]] = recorded(__file__, "models_tuned.json")

_HEAD = (
    f"## TailOPT (E3) at CPU scale\n\nn = {N_CLIENTS} clients, {CLIENTS:g} sampled per round, z = {LOCAL_STEPS} "
    f"local steps, T = {ROUNDS} rounds, seeds {list(SEEDS)}; float64, so state bytes are 8 per number."
)


def _synthetic_tuned(root: Path) -> dict[str, dict[str, dict[str, Any]]]:
    path = Path(root) / "tuned.json"
    return json.loads(path.read_text()) if path.exists() else TUNED


STUDY = Study(
    name="tailopt",
    about="E3 at CPU scale: Bi2Clip vs Adam2, DiLoCo, FedAvg, Avg-L2Clip, Adam-SGD under injected "
    "Student-t and alpha-stable noise, 3 seeds; final quality, state bytes, comm bytes (--tune: the grids first)",
    tuned=TUNED,
    runs=lambda root, tuned: main_jobs(root, tuned),
    grid=lambda root: grid(root),
    heading=_HEAD,
    sections=setting_sections(),
    seconds_per_run=0.3,
    report_file="tailopt-report.md",
)

MODELS_STUDY = Study(
    name="tailopt-models",
    about="TailOPT on the sst2 and gpt-multi30k model tasks (30 rounds, no injected noise), "
    "grids around the synthetic winners of 'tailopt', 3 seeds",
    tuned=MODELS_TUNED,
    runs=lambda root, tuned: model_jobs(root, tuned),
    grid=lambda root: models_grid(_synthetic_tuned(root)),
    heading="## TailOPT model tasks",
    sections=model_sections(),
    seconds_per_run=30.0,
    tuned_file="models-tuned.json",
    tuning_file="models-tuning.json",
    report_file="tailopt-models-report.md",
    requires="tailopt",
)

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
                path.write_text(
                    f"# E3 TailOPT: {m} on {task} with {noise} noise "
                    f"({'tuned' if tuned else 'first grid point'}).\n" + dumps_toml(config(task, noise, m, params, 0))
                )
                paths.append(path)
    return paths


def run_all(root: Path, workers: int = 1, models: bool = False, log=print) -> str:
    """Tune (growing grids past their edges), run the main table, (optionally) the model tasks, and report."""
    run_study(STUDY, Path(root), tune=True, workers=workers, log=log)
    if models:
        run_study(MODELS_STUDY, Path(root), tune=True, workers=workers, log=log)
    return report(Path(root), models=models)


__all__ = [
    "METHODS",
    "TASKS",
    "NOISES",
    "AXES",
    "GRID",
    "MODEL_TASKS",
    "MODEL_FACTORS",
    "MODEL_SECOND",
    "MODEL_TUNE_SEED",
    "N_CLIENTS",
    "CLIENTS",
    "LOCAL_STEPS",
    "ROUNDS",
    "SEEDS",
    "TUNE_SEEDS",
    "TUNED",
    "MODELS_TUNED",
    "STUDY",
    "MODELS_STUDY",
    "STUDIES",
    "config",
    "point",
    "label",
    "grid",
    "tune_jobs",
    "tune",
    "main_jobs",
    "model_grid",
    "models_grid",
    "model_tune_jobs",
    "tune_models",
    "model_jobs",
    "table",
    "report",
    "write_configs",
    "run_all",
]
