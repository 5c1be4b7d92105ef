"""E4: asynchronous methods with stragglers under heavy-tailed noise (docs/async.md, spec async.md §3 "E4′").

The recipe is one frozen value, :class:`~.recipe.Recipe`; :func:`study` turns a recipe into a
:class:`~tailtamer.experiments.study.Study`
(``tailtamer study e4 [--tune]``). Its runs, under the study root:

- ``tune/<workload>/n<n>/<method>/<key>=<v>/seed<s>``: each method's step tuned per workload and worker
  count on a growing grid (:mod:`~tailtamer.experiments.tuning`), scored by the mean final metric over
  the tuning seeds (lower is better: ``gap`` for least squares, ``val_loss`` for the models);
- ``main/<workload>/n<n>/<method>/<key>=<v>/seed<s>``: every method at its tuned step on the evaluation
  seeds (paired: the j-th job of worker i takes the same time and draws the same noise under every method);
- ``straggler/<workload>/k<k>/<method>/...``: the last worker k× slower, k ∈ {1, 10, 100, 1000};
- ``long-sweep/<workload>/k<k>/<method>/...``: the same with a horizon long enough for τ_max to grow with k;
- ``heatmap/<name>/<step>,<param>/seed<s>``: robustness grids over (step, R) and (step, λ).

Three declarations: :data:`STUDY` (``e4``) is the spec's CPU recipe in full (5 workloads, n ∈ {8, 32}, 5
seeds, 300 simulated seconds, FedBuff Q = 5); :data:`CPU_STUDY` (``e4-cpu``) is the reduced version that
docs/async.md reports (its reductions are listed there and in :data:`CPU`); :data:`SMOKE_STUDY`
(``e4-smoke``) runs in seconds. ``python -m tailtamer.experiments.studies.asynchronous_methods --out DIR
[--quick]`` (the former driver's command) runs ``e4-cpu`` (``e4-smoke``) with ``--tune``.

The package: :mod:`.recipe` (the recipes as data), :mod:`.jobs` (configs, folders, job lists, the tuning
grid), :mod:`.tables` and :mod:`.plots` (the report), and the recorded winners of each ``--tune`` as JSON files
beside them (``full_tuned.json``, ``cpu_tuned.json``, ``sst2_tuned.json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...study import Plot, Section, Study, recorded
from .jobs import config, grid, label, runs
from .plots import draw_curves, draw_heatmaps, draw_straggler
from .recipe import CPU, FULL, SMOKE, SST2, Heatmap, LongSweep, Method, Recipe, Workload
from .tables import heatmap_section, long_sweep_section, main_section, straggler_section, tuning_section

#: The published expectations of spec async.md §3 (E4′ "Expected" and the findings it traces to).
EXPECTATIONS = {
    "tau_max": "Plain ASGD degrades as τ_max grows; clipped, delay-adaptive and Ringmaster-type methods stay flat "
    "(Koloskova et al. 2022; Erickson & Johansson)",
    "heavy_tails": "Under ν ≤ 2, methods without clipping or normalization diverge or stall; normalized and clipped "
    "variants converge (spec E4′)",
    "sync": "Sync wall-clock is dominated by the straggler; m-Sync recovers most of the gap (Begunov & Tyurin 2026)",
    "async_vs_minibatch": "Async SGD beats minibatch SGD (Mishchenko et al. 2022); Ringmaster faster than "
    "delay-adaptive ASGD and Rennala (Maranjyan et al. 2025)",
    "fedbuff": "FedBuff faster than synchronous FL (Nguyen et al. 2022)",
    "robustness": (
        "Ringmaster / clipped methods more robust to hyper-parameters (heatmaps; Ringmaster page, 2602.18002)"
    ),
}


def study(name: str, recipe: Recipe, about: str, heading: str, tuned: dict[str, Any], seconds: float) -> Study:
    """The study ``name`` of ``recipe``: its runs and tuning grid (:mod:`.jobs`), its report (:mod:`.tables`,
    :mod:`.plots`), ``tuned`` as its recorded winners and ``seconds`` per run for the up-front estimate."""
    return Study(
        name=name,
        about=about,
        tuned=tuned,
        runs=lambda root, t: runs(recipe, Path(root), t),
        grid=lambda root: grid(recipe, Path(root)),
        heading=heading,
        sections=(
            Section("Final metric at the horizon (main grid, tuned steps)", main_section(recipe)),
            Section("Tuned steps", tuning_section(recipe)),
            Section("Straggler sweep", straggler_section(recipe)),
            Section("Straggler sweep with a long horizon (τ_max grows with k)", long_sweep_section(recipe)),
            Section("Robustness heatmaps", heatmap_section(recipe)),
        ),
        plots=(
            Plot("e4_curves.png", draw_curves(recipe)),
            Plot("e4_straggler.png", draw_straggler(recipe)),
            Plot("e4_heatmaps.png", draw_heatmaps(recipe)),
        ),
        published={"expectations": EXPECTATIONS},
        seconds_per_run=seconds,
        report_file=f"{name}-report.md",
        run_plots=False,
    )


#: The recorded winners of ``tailtamer study e4-cpu --tune`` (docs/async.md).
CPU_TUNED: dict[str, dict[str, dict[str, float]]] = recorded(__file__, "cpu_tuned.json")
#: The recorded winners of ``tailtamer study e4-sst2 --tune`` (docs/async.md; docs/figures/e4-sst2.json).
SST2_TUNED: dict[str, dict[str, dict[str, float]]] = recorded(__file__, "sst2_tuned.json")
#: The recorded winners of ``tailtamer study e4 --tune`` (docs/async.md; docs/figures/e4.json): the full
#: recipe, tuned on 2 seeds (100, 101) on growing grids, 2026-11-21/22; its SST-2 settings are
#: :data:`SST2_TUNED` (the same jobs: the full run reused e4-sst2's folders).
FULL_TUNED: dict[str, dict[str, dict[str, float]]] = {**recorded(__file__, "full_tuned.json"), **SST2_TUNED}

STUDY = study(
    "e4",
    FULL,
    "E4 (spec E4'): 10 async methods x least squares (Student-t nu 1.5/2.5/none), digits CNN, "
    "SST-2; n = 8, 32; 5 seeds; straggler sweep; (step, R)/(step, lambda) heatmaps (about 2 h on 2 cores "
    "with --tune; without it, the recorded winners)",
    "## E4: asynchronous methods with stragglers (full CPU recipe)",
    FULL_TUNED,
    4.0,
)
CPU_STUDY = study(
    "e4-cpu",
    CPU,
    "E4 reduced to about an hour of one core (docs/async.md): 100 s horizons, "
    "1 tuning seed, small SST-2 model at n = 8, heatmaps on least squares nu = 1.5",
    "## E4 at CPU scale (reduced; docs/async.md)",
    CPU_TUNED,
    1.6,
)
SST2_STUDY = study(
    "e4-sst2",
    SST2,
    "E4's SST-2 workload as the full recipe has it: linear TF-IDF model, 300 s, "
    "n = 8, 32, 5 seeds, 2 tuning seeds (use --tune: the recorded winners are the transformer's)",
    "## E4 on SST-2 (the full recipe's SST-2 part)",
    SST2_TUNED,
    20.0,
)
SMOKE_STUDY = study(
    "e4-smoke",
    SMOKE,
    "E4 smoke test: small least squares, 4 workers, 4 methods (a few seconds)",
    "## E4 smoke run",
    {},
    0.1,
)

STUDIES = (STUDY, CPU_STUDY, SST2_STUDY, SMOKE_STUDY)

__all__ = [
    "CPU",
    "FULL",
    "SMOKE",
    "SST2",
    "Heatmap",
    "LongSweep",
    "Method",
    "Recipe",
    "Workload",
    "CPU_TUNED",
    "SST2_TUNED",
    "FULL_TUNED",
    "EXPECTATIONS",
    "STUDY",
    "CPU_STUDY",
    "SST2_STUDY",
    "SMOKE_STUDY",
    "STUDIES",
    "config",
    "grid",
    "label",
    "runs",
    "study",
]
