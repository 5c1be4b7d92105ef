"""E5: the SDE study of compressed and sign methods under (L0, L1)-smoothness and heavy tails
(docs/compression.md §5, recipe E5′; results in docs/sde.md), declared on the study platform:
``tailtamer study e5`` (``e5-smoke``: the same cells, 50 paths and 1/100 of the horizons, for tests).

Every cell of every table is one SDE-lab run (:mod:`tailtamer.sde.lab`) in its own folder
``ROOT/cells/<method>-<noise>-d<dim>-<hash>`` (``config.toml`` + ``sde.json``, :mod:`tailtamer.sde.folders`);
tables share cells, a cell runs once, and a stopped study resumes at the next unfinished cell. The cells are
declared in :mod:`.cells`, the tables drawn from their folders in :mod:`.results`; the study's jobs run through
:func:`~tailtamer.experiments.sweep.run_sweep` like any other (its ``run_job`` is
:func:`tailtamer.sde.folders.run_folder`).

Setup (E5′, our choices where it offers several): f = Σ x_j⁴/4 ((3, 3)-smooth), d ∈ {1, 10}, x0 = 2·1, σ = 1,
N = 1 worker (the speed-up tables vary N, the SDE tables use N = 4), η0 = 0.1, Bernoulli compression with
ω ∈ {0, 1, 4, 9}. Seeds: R independent blocks of 1000 paths stacked in one run (``[sde] replicates``; R = 3 at
d = 1, 2 at d = 10); a blow-up cell shows the fraction over all R·1000 paths and the range over the blocks.
Horizons: 10³ steps for the blow-up tables, 10⁴ for the blow-up law, t = 5 (η = 0.01) for the SDE match,
2000 steps for the speed-up. A path blows up when ``|x|`` > 1e6 or NaN.
"""

from __future__ import annotations

from ....sde.folders import pending, run_folder
from ...study import Section, Study
from .cells import (
    BLOW_STEPS,
    DIMS,
    ETA0,
    LAW_K,
    LAW_STEPS,
    NU,
    OMEGAS,
    PATHS,
    REPLICATES,
    TABLES,
    TAILS,
    Table,
    cells,
    folder,
    merge,
)
from .results import hazard_ratios, law_body, markdown, metric, predicted_ratios, values


def make_study(name: str, about: str, scale: float = 1.0, paths: int | None = None) -> Study:
    """The study ``name`` of every cell of :data:`~.cells.TABLES` (``scale`` multiplies the horizons, ``paths``
    replaces the number of paths: the smoke study)."""
    sections = []
    for t in TABLES:
        if t.name == "blow_up_law":
            sections.append(Section("", lambda root, tuned: law_body(root, scale, paths)))
        else:
            sections.append(Section("", lambda root, tuned, t=t: markdown(t, values(t, root, scale, paths))))
    return Study(
        name=name,
        about=about,
        tuned={},
        runs=lambda root, tuned: cells(root, scale, paths),
        heading=f"# {name}: compressed and sign methods and their SDEs under heavy tails (docs/sde.md)",
        sections=tuple(sections),
        published=PUBLISHED,
        seconds_per_run=0.9 * scale,
        run_job=run_folder,
        pending=pending,
    )


#: The published claims the study checks (docs/sde.md sets our numbers beside each).
PUBLISHED: dict[str, str] = {
    "v1": "DSignSGD converges under standard scheduler conditions, even with heavy-tailed noise; D(C)SGD with a "
    "pre-scheduled step fails unless the step carries an inverse dependence on ‖∇f‖; normalization matters "
    "most under pathological noise or unbiased compression (arXiv 2506.00181 v1 abstract)",
    "aistats25": "DCSGD is more vulnerable to noise than DSGD; DSignSGD is robust and shows a linear speed-up in N",
    "law": "pre-scheduled D(C)SGD, η_k = η0 k^(−a), blows up almost surely iff 1.5aν ≤ 1 (compression.md §5, [D])",
    "sde": "the first-order SDEs model the methods for ν > 2 (weak error O(η))",
}

STUDY = make_study(
    "e5",
    "SDE lab: blow-up over tails × ω × step rules (d = 1, 10), the blow-up law, discrete vs "
    "SDE, DSignSGD speed-up in N (docs/sde.md)",
)
SMOKE = make_study(
    "e5-smoke", "E5's cells with 50 paths and 1/100 of the horizons (a test of the pipeline)", scale=0.01, paths=50
)
STUDIES = (STUDY, SMOKE)

__all__ = [
    "BLOW_STEPS",
    "DIMS",
    "ETA0",
    "LAW_K",
    "LAW_STEPS",
    "NU",
    "OMEGAS",
    "PATHS",
    "REPLICATES",
    "TABLES",
    "TAILS",
    "Table",
    "cells",
    "folder",
    "merge",
    "hazard_ratios",
    "law_body",
    "markdown",
    "metric",
    "predicted_ratios",
    "values",
    "PUBLISHED",
    "STUDY",
    "SMOKE",
    "STUDIES",
    "make_study",
]
