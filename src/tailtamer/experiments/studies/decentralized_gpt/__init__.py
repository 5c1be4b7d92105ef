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

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ....config import dumps_toml
from ...report import load_runs, pivot_table
from ...study import Grid, Section, Study, recorded
from ...tuning import round_sig

#: The correct causal GPT at CPU scale (the problem section of every E2 run).
CPU_PROBLEM: dict[str, Any] = {
    "name": "gpt-multi30k",
    "d_model": 64,
    "layers": 2,
    "heads": 4,
    "ffn": 256,
    "context": 32,
    "max_vocab": 2000,
    "batch_size": 4,
    "partition": "iid",
    "max_eval_windows": 100,
}
_GT_NSGDM = {"name": "gt-nsgdm", "lr": 0.05, "beta": 0.9}
_RING8 = {"name": "ring", "n": 8}

#: The base configs (algorithm and topology are filled in per run; alone each runs GT-NSGDm on the ring).
BASES: dict[str, dict[str, Any]] = {
    "gpt-cpu": {
        "problem": CPU_PROBLEM,
        "algorithm": _GT_NSGDM,
        "topology": _RING8,
        "run": {"steps": 400, "eval_every": 100, "dtype": "float32"},
    },
    "gpt-paper-faithful": {
        "problem": {
            "name": "gpt-multi30k",
            "paper_faithful": True,
            **{k: v for k, v in CPU_PROBLEM.items() if k != "name"},
        },
        "algorithm": _GT_NSGDM,
        "topology": _RING8,
        "run": {"steps": 1000, "eval_every": 250, "dtype": "float32"},
    },
    "gpt-published-size": {
        "problem": {"name": "gpt-multi30k", "batch_size": 16},
        "algorithm": _GT_NSGDM,
        "topology": _RING8,
        "run": {"steps": 600, "eval_every": 50, "dtype": "float32"},
    },
}
#: The comment heading each written config file.
HEADERS = {
    "gpt-cpu": "E2 at CPU scale: correct causal GPT on Multi30k, 8 nodes (see src/tailtamer/experiments/studies/"
    "decentralized_gpt/, docs/e2.md).\nThe algorithm and topology are filled in per run by the E2 study; "
    "alone this runs "
    "GT-NSGDm on the ring:\n  tailtamer run configs/e2/gpt-cpu.toml --out runs/gpt-cpu",
    "gpt-paper-faithful": "LEAKY — the published E2 model (TransformerDecoderLayer(x, x, tgt_mask=causal), "
    "word-shuffled training\nstream), for comparison with Table 1 ONLY. Its low val_loss "
    "comes from copying the next token.",
    "gpt-published-size": "The published E2 model size (≈ 3.0M parameters, full vocabulary, context 64, batch 16 "
    "per node);\nabout 2–4 s per step of 8 nodes on one CPU core. 12 epochs ≈ 12 · 6387 / "
    "(8 · 16) ≈ 600 steps.",
}

#: Table 1 row order and labels (tailtamer name → paper label). DSGD-N is not in Table 1.
METHODS = {
    "dsgd": "DSGD",
    "dsgd-gclip": "DSGD-GClip",
    "dsgd-cclip": "DSGD-CClip",
    "gt-dsgd": "GT-DSGD",
    "gt-adam": "GT-Adam",
    "qg-dsgdm": "QG-DSGDm",
    "sclip-ef": "SClip-EF-Network",
    "dsgd-clip": "DSGD-Clip",
    "gt-nsgdm": "GT-NSGDm",
    "dsgd-n": "DSGD-N",
}
TOPOLOGIES = {"ring": "ring", "exponential": "exp", "complete": "complete"}

#: Published Table 1 (final validation log-perplexity; ± where the paper gives it). Leaky model: see docs.
PUBLISHED = {
    "dsgd": ("5.633", "5.632", "5.635"),
    "dsgd-gclip": ("0.253", "0.249", "0.267"),
    "dsgd-cclip": ("2.725 ± 3.18", "5.058 ± 2.39", "8.225 ± 1.70"),
    "gt-dsgd": ("5.362", "5.632", "5.631"),
    "gt-adam": ("0.520", "0.587", "0.524"),
    "qg-dsgdm": ("0.394", "0.388", "0.353"),
    "sclip-ef": ("5.653", "5.632", "5.636"),
    "dsgd-clip": ("5.633", "5.659", "5.661"),
    "gt-nsgdm": ("0.258", "0.261", "0.282"),
}

#: Per-method hyperparameters at CPU scale (one setting each, not tuned per topology; see docs/e2.md).
HYPER: dict[str, dict[str, Any]] = {
    "dsgd": {"lr": 0.5},
    "dsgd-n": {"lr": 0.05},
    "dsgd-gclip": {"lr": 0.5, "gamma": 1.0},
    "dsgd-cclip": {"lr": 0.5, "gamma": 0.01},
    "dsgd-clip": {"lr": 1.0, "gamma": 1.0, "kappa": 0.4},
    "gt-dsgd": {"lr": 0.5},
    "gt-adam": {"lr": 0.003},
    "qg-dsgdm": {"lr": 0.2, "beta": 0.9},
    "sclip-ef": {"lr": 0.5, "phi": 1.0, "eps": 1e-4},
    "gt-nsgdm": {"lr": 0.05, "beta": 0.9},
}

#: The winners of ``tailtamer study e2 --tune`` (3 tuning seeds 100–102, ring, grid grown until no winner sits on
#: an edge; docs/e2.md): the recorded settings of the ``e2-tuned`` study, read from
#: ``tuned.json`` beside this module.
TUNED: dict[str, dict[str, Any]] = recorded(__file__, "tuned.json")

TOPOLOGY_PARAMS = {"ring": {}, "exponential": {"self_weight": 0.4}, "complete": {}}
SEEDS = 3

#: Tuning (``tailtamer study e2 --tune``): each method's step size on the ring, the other settings of
#: :data:`HYPER` kept; the starting axis is HYPER's lr times :data:`TUNE_FACTORS`, grown past an edge holding
#: the winner up to :data:`TUNE_MAX_EXTENSIONS` values per side; score = mean final val_loss over
#: :data:`TUNE_SEEDS` (disjoint from the evaluation seeds 0–2).
TUNE_FACTORS = (1 / 3, 1.0, 3.0)
TUNE_SEEDS = (100, 101, 102)
TUNE_TOPOLOGY = "ring"
TUNE_MAX_EXTENSIONS = 3


def base_config(paper_faithful: bool = False) -> dict[str, Any]:
    """The base config (``gpt-cpu``, or the LEAKY ``gpt-paper-faithful``), a fresh copy."""
    return copy.deepcopy(BASES["gpt-paper-faithful" if paper_faithful else "gpt-cpu"])


def config(
    method: str,
    params: dict[str, Any],
    topology: str,
    seed: int,
    steps: int | None = None,
    paper_faithful: bool = False,
) -> dict[str, Any]:
    """The full config of one E2 run (run seed = minibatch seed = init seed)."""
    cfg = base_config(paper_faithful)
    cfg["algorithm"] = {"name": method, **params}
    cfg["topology"] = {"name": topology, "n": cfg.get("topology", {}).get("n", 8), **TOPOLOGY_PARAMS[topology]}
    cfg["run"]["seed"] = seed
    cfg["problem"]["init_seed"] = seed
    if steps:
        cfg["run"]["steps"] = steps
        cfg["run"]["eval_every"] = max(steps // 4, 1)
    return cfg


def jobs(
    out: str | Path,
    seeds: int = SEEDS,
    methods: list[str] | None = None,
    topologies: list[str] | None = None,
    steps: int | None = None,
    paper_faithful: bool = False,
    overrides: dict[str, dict[str, Any]] | None = None,
    hyper: dict[str, dict[str, Any]] | None = None,
) -> list[tuple[Path, dict[str, Any]]]:
    """``(folder, config)`` for every method × topology × seed (folders ``out/<topology>/<method>/seed<k>``);
    ``hyper``: per-method settings (default :data:`HYPER`)."""
    out = Path(out)
    hyper = hyper or HYPER
    todo = []
    for topo in topologies or list(TOPOLOGIES):
        for method in methods or list(METHODS):
            for seed in range(seeds):
                cfg = config(method, hyper[method], topo, seed, steps, paper_faithful)
                for section, values in (overrides or {}).items():
                    cfg.setdefault(section, {}).update(values)
                todo.append((out / topo / method / f"seed{seed}", cfg))
    return todo


def tune_axes(method: str) -> dict[str, tuple[float, ...]]:
    """The starting step-size axis of ``method``: :data:`HYPER`'s lr times :data:`TUNE_FACTORS`."""
    return {"lr": tuple(round_sig(HYPER[method]["lr"] * f) for f in TUNE_FACTORS)}


def grid(root: Path) -> Grid:
    return Grid(
        axes={m: tune_axes(m) for m in METHODS},
        seeds=TUNE_SEEDS,
        folder=lambda root, m, p: Path(root) / "tune" / m / f"lr={p['lr']:.4g}",
        config=lambda m, p, s: config(m, {**HYPER[m], **p}, TUNE_TOPOLOGY, s),
        metric=lambda m: "val_loss",
        max_extensions=TUNE_MAX_EXTENSIONS,
        winner=lambda m, p: {**HYPER[m], **p},
    )


def table1(
    runs: list, metric: str = "val_loss", rows: str = "algorithm", cols: str = "topology.name", digits: int = 3
) -> str:
    """Table 1 of arXiv 2505.03736: its row order and labels, columns ring / exp / complete, and the published
    value beside each cell."""
    order = list(TOPOLOGIES)
    present = {r.get(rows) for r in runs}
    return pivot_table(
        runs,
        metric,
        rows,
        cols,
        digits,
        row_order=[m for m in METHODS if m in present] + sorted(present - set(METHODS), key=str),
        col_order=order,
        labels={**METHODS, **TOPOLOGIES},
        extra=lambda r, c: f" (paper {PUBLISHED[r][order.index(c)]})" if r in PUBLISHED and c in order else "",
    )


def _main_table(root: Path, tuned: Any) -> str:
    runs = load_runs([root / t for t in TOPOLOGIES if (root / t).exists()])
    seeds = len({r.summary.get("seed") for r in runs})
    return f"val_loss: mean ± std over seeds ({len(runs)} runs, {seeds} seed(s))\n\n" + table1(runs)


def _tuning_table(root: Path, tuned: Any) -> str | None:
    """Each method's step-size search: the grid after growing, the winner and its score (if tuned)."""
    path = root / "tuning.json"
    if not path.exists():
        return None
    recs = json.loads(path.read_text())
    lines = [
        (
            "| method | untuned lr (HYPER) | lr grid after growing | tuned lr | mean val_loss (tuning seeds) | "
            "edge left |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for m, r in recs.items():
        lines.append(
            f"| {METHODS.get(m, m)} | {HYPER[m]['lr']:g} | {', '.join(f'{v:g}' for v in r['axes']['lr'])} | "
            f"{r['best']['lr']:g} | {r['score']:.3f} | {', '.join(r['at_edge']) or '—'} |"
        )
    return "\n".join(lines)


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
