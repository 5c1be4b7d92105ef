"""E2's recipe: the correct causal GPT at CPU scale, the methods' base configs and hyperparameters, the run
configs, the jobs and the tuning grid (the study declarations are in the package's ``__init__``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ...study import Grid, recorded
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
