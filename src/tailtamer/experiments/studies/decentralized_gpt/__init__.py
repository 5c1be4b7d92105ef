"""E2 at CPU scale: the 10 decentralized methods × ring / exponential / complete on the correct GPT of
``gpt-multi30k`` (arXiv 2505.03736, Table 1), 3 seeds; plus the leaky paper-faithful model at a small budget.

Reductions from the published setup (documented in docs/e2.md), chosen so that the 90 main runs take about
30 minutes on 2 CPU cores: d_model 64 (published 128), FFN 256 (512), context 32 (64), vocabulary capped at
the 2,000 most frequent words (published: all ≈ 9.9k; the rest → ``<unk>``), batch 4 windows per node,
``steps = 400`` (≈ 1 epoch of the 8 shards; published 12 epochs), evaluation on the first 100 validation
windows. Kept: 8 nodes, 2 layers, 4 heads, iid about-equal shards, the three topologies with the paper's
weights (ring Metropolis 1/3, ρ = 0.8047; exponential self-weight 0.4, ρ = 0.6; complete, ρ = 0), no injected
noise, metric val_loss (validation log-perplexity, nats/token).

The base configs are declared here (:data:`BASES`; ``configs/e2/*.toml`` are written from them by
:func:`write_configs`), so the study runs from an installed package. The studies:

    tailtamer study e2 --out runs/e2 --workers 2          # the full CPU recipe (HYPER, untuned)
    tailtamer study e2 --tune --out runs/e2               # tune each method's step first (TUNE_*)
    tailtamer study e2-leaky --out runs/e2-leaky          # the LEAKY published model, ring, 1 seed
    tailtamer study e2-smoke --out runs/e2-smoke          # 10 runs × 30 steps, ~1 minute
    tailtamer report runs/e2 --e2                         # the Table-1 style table of any run folders
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ....config import dumps_toml
from ...study import Section, Study
from .recipe import (
    BASES,
    CPU_PROBLEM,
    HEADERS,
    HYPER,
    METHODS,
    PUBLISHED,
    SEEDS,
    TOPOLOGIES,
    TOPOLOGY_PARAMS,
    TUNE_FACTORS,
    TUNE_MAX_EXTENSIONS,
    TUNE_SEEDS,
    TUNE_TOPOLOGY,
    TUNED,
    base_config,
    config,
    grid,
    jobs,
    tune_axes,
)
from .tables import _main_table, _tuning_table, table1

STUDY = Study(
    name="e2",
    about="E2 at CPU scale: 10 decentralized methods x ring/exp/complete on the correct GPT of "
    "Multi30k, 3 seeds, beside Table 1 of arXiv 2505.03736 (--tune: each method's step size first)",
    tuned=HYPER,
    runs=lambda root, tuned: jobs(root, hyper=tuned),
    grid=grid,
    heading="## E2 at CPU scale (correct causal GPT, 8 nodes, 400 steps)",
    sections=(
        Section("Final validation log-perplexity (paper: the leaky model's Table 1)", _main_table),
        Section("Step-size tuning (ring, tuning seeds)", _tuning_table),
    ),
    published={"table1": PUBLISHED},
    seconds_per_run=36.0,
    report_file="e2-report.md",
)

TUNED_STUDY = replace(
    STUDY,
    name="e2-tuned",
    about="E2 with each method's tuned step size (the recorded winners of 'study e2 "
    "--tune', 3 tuning seeds): 10 methods x 3 topologies x 3 seeds",
    tuned=TUNED,
    heading="## E2 at CPU scale, tuned step sizes (correct causal GPT, 8 nodes, 400 steps)",
)

LEAKY_STUDY = Study(
    name="e2-leaky",
    about="E2 with the LEAKY paper-faithful model (for comparison with Table 1 only): "
    "10 methods, ring, 1 seed, 1000 steps",
    tuned=HYPER,
    runs=lambda root, tuned: jobs(root, 1, None, ["ring"], None, True, hyper=tuned),
    heading="## E2, paper-faithful (LEAKY) model, ring, 1 seed",
    sections=(Section("Final validation log-perplexity", _main_table),),
    published={"table1": PUBLISHED},
    seconds_per_run=88.0,
    report_file="e2-report.md",
)

SMOKE_STUDY = Study(
    name="e2-smoke",
    about="E2 smoke test: 10 methods, ring, 1 seed, 30 steps (checks the recipe runs)",
    tuned=HYPER,
    runs=lambda root, tuned: jobs(root, 1, None, ["ring"], 30, hyper=tuned),
    heading="## E2 smoke run (ring, 1 seed, 30 steps)",
    sections=(Section("Final validation log-perplexity", _main_table),),
    seconds_per_run=4.0,
    report_file="e2-report.md",
)

STUDIES = (STUDY, TUNED_STUDY, LEAKY_STUDY, SMOKE_STUDY)


def write_configs(folder: Path) -> list[Path]:
    """Write ``configs/e2/*.toml`` from :data:`BASES` (the repository's copies are generated, and a test checks
    that they are up to date)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, cfg in BASES.items():
        path = folder / f"{name}.toml"
        head = "".join(f"# {line}\n" for line in HEADERS[name].splitlines())
        path.write_text(head + dumps_toml(cfg))
        paths.append(path)
    return paths


__all__ = [
    "BASES",
    "CPU_PROBLEM",
    "HEADERS",
    "HYPER",
    "LEAKY_STUDY",
    "METHODS",
    "PUBLISHED",
    "SEEDS",
    "SMOKE_STUDY",
    "STUDIES",
    "STUDY",
    "TOPOLOGIES",
    "TOPOLOGY_PARAMS",
    "TUNED",
    "TUNED_STUDY",
    "TUNE_FACTORS",
    "TUNE_MAX_EXTENSIONS",
    "TUNE_SEEDS",
    "TUNE_TOPOLOGY",
    "base_config",
    "config",
    "grid",
    "jobs",
    "table1",
    "tune_axes",
    "write_configs",
]
