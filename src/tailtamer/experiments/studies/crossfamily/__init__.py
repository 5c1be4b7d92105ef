"""Cross-family: which method reaches the target first on a given cluster, across the four families
(issue 28 item 4; docs/crossfamily.md).

Decentralized (GT-NSGDm on a ring and on an exponential graph, GT-NSGDm with CHOCO top-k gossip), local-update
(Bi²Clip and FedAvg with H ∈ {1, 8}), asynchronous (clipped ASGD, Ringmaster, FedBuff, synchronous SGD on the
event engine) and compressed (EF21 with top-k, DSignSGD) methods on one clock: the simulated seconds of a
cluster (``[cluster]``, :mod:`tailtamer.cluster`: the presets datacenter, cross-region and edge), given the same
horizon (:mod:`.budget`). Workloads: least squares with Student-t noise (ν = 1.5, 2.5) and the digits CNN,
n = 16. Each method's step is tuned per workload and cluster on a growing grid by the final metric at the horizon
(:func:`.jobs.grid`, E4's rule); the report gives each cluster's time-to-target table (:mod:`.outcomes`,
:mod:`.tables`), a recommendation computed from it and where the answer changes between clusters
(:mod:`.recommend`), and a figure of simulated time against bytes sent (:mod:`.plots`).

:data:`STUDY` (``crossfamily``) is the CPU-scale recipe :data:`~.recipe.CPU`; :data:`SMOKE_STUDY`
(``crossfamily-smoke``) runs in seconds. ``tailtamer advise`` runs a short version on a user's own problem
(:mod:`.advise`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...study import Plot, Section, Study, recorded
from .jobs import grid, runs
from .plots import draw_time_bytes
from .recipe import CPU, METHODS, PRESETS, SMOKE, Method, Recipe, Target, Workload
from .recommend import changes, recommendation
from .tables import budget_table, caption, cluster_table, collect, main_where, tuning_table


def _cluster_section(recipe: Recipe, cluster: str) -> Section:
    def body(root: Path, tuned: Any) -> str:
        table = collect(recipe, main_where(recipe, root, tuned))
        return "\n\n".join(
            [caption(recipe, cluster), cluster_table(recipe, table, cluster), recommendation(recipe, table, cluster)]
        )

    return Section(f"Time to target on {cluster}", body)


def sections(recipe: Recipe) -> tuple[Section, ...]:
    """The report: one time-to-target table per cluster, where the answer changes, the tuned steps, the budgets."""
    return (
        *(_cluster_section(recipe, c) for c in recipe.clusters),
        Section(
            "Where the answer changes between clusters",
            lambda root, tuned: changes(recipe, collect(recipe, main_where(recipe, root, tuned))),
        ),
        Section(
            "Tuned steps (FedBuff: its local step)",
            lambda root, tuned: tuning_table(recipe, root, tuned),
        ),
        Section(
            "Budget: steps (rounds) of lockstep methods, server updates of event-driven ones, within the horizon",
            lambda root, tuned: budget_table(recipe, main_where(recipe, root, tuned)),
        ),
    )


def study(name: str, recipe: Recipe, about: str, heading: str, tuned: dict[str, Any], seconds: float) -> Study:
    """The study ``name`` of ``recipe`` with ``tuned`` as its recorded winners and ``seconds`` per run."""
    return Study(
        name=name,
        about=about,
        tuned=tuned,
        runs=lambda root, t: runs(recipe, Path(root), t),
        grid=lambda root: grid(recipe),
        heading=heading,
        sections=sections(recipe),
        plots=(Plot(f"{name}_time_bytes.png", draw_time_bytes(recipe, lambda root, t: main_where(recipe, root, t))),),
        seconds_per_run=seconds,
        report_file=f"{name}-report.md",
        run_plots=False,
    )


#: The recorded winners of ``tailtamer study crossfamily --tune`` (docs/crossfamily.md).
TUNED: dict[str, dict[str, dict[str, float]]] = recorded(__file__, "tuned.json")

STUDY = study(
    "crossfamily",
    CPU,
    "Issue 28: 13 methods of the four families x least squares (Student-t nu 1.5/2.5) and the digits CNN, "
    "n = 16, on the datacenter, cross-region and edge clusters; time to target per cluster (--tune: the grids)",
    "## Cross-family: time to target on a simulated cluster (CPU scale)",
    TUNED,
    3.3,  # the --tune run of docs/crossfamily.md: 681 runs in 1,628 s on 2 workers
)
SMOKE_STUDY = study(
    "crossfamily-smoke",
    SMOKE,
    "crossfamily smoke test: small least squares, 4 workers, one method per family, two clusters (seconds)",
    "## Cross-family smoke run",
    {},
    0.2,
)

STUDIES = (STUDY, SMOKE_STUDY)

__all__ = [
    "CPU",
    "METHODS",
    "PRESETS",
    "SMOKE",
    "STUDIES",
    "STUDY",
    "SMOKE_STUDY",
    "TUNED",
    "Method",
    "Recipe",
    "Target",
    "Workload",
    "sections",
    "study",
]
