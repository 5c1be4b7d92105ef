"""The cross-family report's tables: the time to target of every method per cluster, the tuned steps and the
budget each method got, each read from the run folders (:mod:`.outcomes`)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .budget import family
from .jobs import fmt, main_folder, point_of, setting
from .outcomes import Outcome, outcome, seed_folders, show
from .recipe import Recipe

#: ``(workload, cluster, method)`` → the folder of that method's runs (their seeds below it).
Where = Callable[[str, str, str], Path]
Table = dict[tuple[str, str, str], Outcome]


def main_where(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> Where:
    """The main runs' folders at the tuned points."""
    return lambda w, c, m: main_folder(recipe, root, tuned, w, c, m)


def collect(recipe: Recipe, where: Where) -> Table:
    """Every method's :class:`~.outcomes.Outcome` per workload and cluster."""
    out: Table = {}
    for w, c in recipe.settings():
        wl = recipe.workloads[w]
        for m in recipe.methods:
            out[(w, c, m)] = outcome(seed_folders(where(w, c, m)), wl.target, wl.horizons[c], wl.metric)
    return out


def method_family(recipe: Recipe, method: str) -> str:
    """The family of a method of the recipe."""
    return family(recipe.methods[method].algorithm["name"])


def cluster_table(recipe: Recipe, table: Table, cluster: str) -> str:
    """Median time to target of every method (rows) per workload (columns) on one cluster."""
    ws = list(recipe.workloads)
    lines = [
        "| method | family | " + " | ".join(recipe.workloads[w].label for w in ws) + " |",
        "|---" * (len(ws) + 2) + "|",
    ]
    for m in recipe.methods:
        cells = [show(table[(w, cluster, m)]) for w in ws]
        lines.append(f"| {m} | {method_family(recipe, m)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def caption(recipe: Recipe, cluster: str) -> str:
    """What a cluster's table shows: targets, horizons and seeds."""
    parts = [f"{w.label}: {w.target.describe()} within {w.horizons[cluster]:g} s" for w in recipe.workloads.values()]
    return (
        f"Median simulated time to target over seeds {list(recipe.seeds)} ('—': not reached within the horizon; "
        f"(k/S): k of S seeds reached it; [d div.]: d runs diverged), n = {recipe.n}. Targets: "
        + "; ".join(parts)
        + "."
    )


def _settings_header(recipe: Recipe, settings: list[tuple[str, str]]) -> list[str]:
    """The two header lines of a table with one column per (workload, cluster) setting."""
    return [
        "| method | " + " | ".join(f"{recipe.workloads[w].label}, {c}" for w, c in settings) + " |",
        "|---" * (len(settings) + 1) + "|",
    ]


def tuning_table(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> str:
    """The tuned point of every method (rows) per setting (columns), with any grid edge left."""
    path = Path(root) / "tuning.json"
    recs = json.loads(path.read_text()) if path.exists() else {}
    settings = recipe.settings()
    lines = _settings_header(recipe, settings)
    for m in recipe.methods:
        row = []
        for w, c in settings:
            p = point_of(recipe, tuned, w, c, m)
            rec = recs.get(f"{setting(w, c)}/{m}")
            edge = f" (edge: {', '.join(rec['at_edge'])})" if rec and rec.get("at_edge") else ""
            row.append(", ".join(f"{k}={fmt(v)}" for k, v in p.items()) + edge)
        lines.append(f"| {m} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def budget_table(recipe: Recipe, where: Where) -> str:
    """The budget every method got per setting: steps (rounds) of a lockstep method, server updates of an
    event-driven one, within the horizon (median over its finished runs, from ``summary.json``)."""
    settings = recipe.settings()
    lines = _settings_header(recipe, settings)
    for m in recipe.methods:
        row = []
        for w, c in settings:
            steps = [
                json.loads((f / "summary.json").read_text()).get("steps", 0)
                for f in seed_folders(where(w, c, m))
                if (f / "summary.json").exists()
            ]
            row.append(f"{statistics.median(steps):g}" if steps else "—")
        lines.append(f"| {m} | " + " | ".join(row) + " |")
    return "\n".join(lines)
