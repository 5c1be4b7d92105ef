"""The E4 report's tables: the final metric of a cell of seeds, the main grid, the tuned steps, the straggler
sweeps and the robustness heatmaps, each read from the run folders."""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .jobs import fmt, heatmap_folder, label, step_of
from .recipe import Recipe


def final(folder: Path, metric: str) -> float:
    """A finished run's final ``metric``; ∞ for a diverged run or a missing one."""
    path = folder / "summary.json"
    if not path.exists():
        return math.nan
    s = json.loads(path.read_text())
    v = s.get("metrics", {}).get(metric, math.inf) if s.get("status") == "finished" else math.inf
    return v if v == v and math.isfinite(v) else math.inf


def cell(folders: list[Path], metric: str) -> dict[str, Any]:
    """The finished runs' final values, how many diverged, and their median."""
    vals = [final(f, metric) for f in folders]
    vals = [v for v in vals if v == v]  # runs not done yet are left out
    div = sum(math.isinf(v) for v in vals)
    return {"values": vals, "diverged": div, "median": statistics.median(vals) if vals else math.nan}


def show(c: dict[str, Any], digits: int = 4) -> str:
    """A :func:`cell` as a table shows it (its median; "diverged"; "—" while none has finished)."""
    m = c["median"]
    if m != m:
        return "—"
    text = "diverged" if math.isinf(m) else (f"{m:.{digits}f}" if abs(m) < 100 else f"{m:.2g}")
    return text + (f" ({c['diverged']}/{len(c['values'])} div.)" if c["diverged"] and not math.isinf(m) else "")


def seed_folders(folder: Path) -> list[Path]:
    """The ``seed*`` run folders under ``folder`` (none while it does not exist)."""
    return sorted(folder.glob("seed*")) if folder.exists() else []


def main_table(
    recipe: Recipe, root: Path, tuned: dict[str, Any], metric_of=lambda w: w.metric, only=lambda w: True
) -> str:
    """Median final ``metric_of(workload)`` of every method (rows) per tuned setting (columns) of the workloads
    ``only`` keeps."""
    keys = [k for k in recipe.keys() if only(recipe.workloads[k.split("/")[0]])]
    cols = [f"{k.split('/')[0]}, n={k.split('/n')[1]}" for k in keys]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for m in recipe.methods:
        cells = []
        for k in keys:
            w = recipe.workloads[k.split("/")[0]]
            folder = root / "main" / k / m / label(step_of(recipe, tuned, k, m))
            cells.append(show(cell(seed_folders(folder), metric_of(w))))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main_section(recipe: Recipe) -> Callable[[Path, Any], str | None]:
    """The main grid's tables: the final metric, and the held-out accuracy of the model workloads."""

    def body(root: Path, tuned: Any) -> str:
        ms = sorted({w.metric for w in recipe.workloads.values()})
        text = (
            f"Median final metric over seeds ({', '.join(ms)}; lower is better; "
            f"'diverged' = a non-finite run):\n\n" + main_table(recipe, root, tuned)
        )
        if any(w.accuracy for w in recipe.workloads.values()):
            text += "\n\nMedian final held-out accuracy (model workloads):\n\n" + main_table(
                recipe, root, tuned, lambda w: w.accuracy, only=lambda w: bool(w.accuracy)
            )
        return text

    return body


def tuning_section(recipe: Recipe) -> Callable[[Path, Any], str | None]:
    """The tuned step per setting and method, with the grid's range after growing and any edge left."""

    def body(root: Path, tuned: Any) -> str:
        path = root / "tuning.json"
        recs = json.loads(path.read_text()) if path.exists() else {}
        lines = ["| setting | " + " | ".join(recipe.methods) + " |", "|---" * (len(recipe.methods) + 1) + "|"]
        for k in recipe.keys():
            row = []
            for m in recipe.methods:
                r = recs.get(f"{k}/{m}")
                p = step_of(recipe, tuned, k, m)
                edge = f" (edge: {', '.join(r['at_edge'])})" if r and r.get("at_edge") else ""
                axis = next(iter(r["axes"].values())) if r else []
                grown = f" [{fmt(axis[0])}…{fmt(axis[-1])}]" if axis else ""
                row.append(", ".join(fmt(v) for v in p.values()) + grown + edge)
            lines.append(f"| {k} | " + " | ".join(row) + " |")
        return (
            "Tuned step (FedBuff: its local step) per setting; [the grid's range after growing]; "
            "an edge still holding the winner is named.\n\n" + "\n".join(lines)
        )

    return body


def straggler_section(recipe: Recipe) -> Callable[[Path, Any], str | None]:
    """The straggler sweep per workload: the final metric per factor k and the ratio of the last to the first."""

    def body(root: Path, tuned: Any) -> str | None:
        if not recipe.straggler_workloads:
            return None
        n, ks, out = recipe.straggler_n, recipe.straggler_factors, []
        for w in recipe.straggler_workloads:
            metric = recipe.workloads[w].metric
            lines = [
                f"{w}, n = {n}, median final {metric}:",
                "",
                "| method | " + " | ".join(f"k = {k:g}" for k in ks) + f" | k={ks[-1]:g} / k={ks[0]:g} |",
                "|---" * (len(ks) + 2) + "|",
            ]
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                cs = [cell(seed_folders(root / "straggler" / w / f"k{k:g}" / m / label(p)), metric) for k in ks]
                ratio = cs[-1]["median"] / cs[0]["median"] if cs[0]["median"] else math.nan
                lines.append(f"| {m} | " + " | ".join(show(c) for c in cs) + f" | {ratio:.3g} |")
            out.append("\n".join(lines))
        return "\n\n".join(out)

    return body


def long_sweep_section(recipe: Recipe) -> Callable[[Path, Any], str | None]:
    """The long straggler sweep: the final metric and the median largest delay per factor k."""

    def body(root: Path, tuned: Any) -> str | None:
        ls, n = recipe.long_sweep, recipe.straggler_n
        if ls is None:
            return None
        out = []
        for w in ls.workloads:
            metric = recipe.workloads[w].metric
            lines = [
                f"{w}, n = {n}, horizon {ls.horizon:g} s: median final {metric} (median largest delay τ_max)",
                "",
                "| method | " + " | ".join(f"k = {k:g}" for k in ls.factors) + " |",
                "|---" * (len(ls.factors) + 1) + "|",
            ]
            for m in ls.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                row = []
                for k in ls.factors:
                    folders = seed_folders(root / "long-sweep" / w / f"k{k:g}" / m / label(p))
                    delays = [
                        json.loads((f / "summary.json").read_text())["metrics"].get("max_delay", math.nan)
                        for f in folders
                        if (f / "summary.json").exists()
                    ]
                    tau = f" (τ_max {statistics.median(delays):g})" if delays else ""
                    row.append(show(cell(folders, metric)) + tau)
                lines.append(f"| {m} | " + " | ".join(row) + " |")
            out.append("\n".join(lines))
        return "\n\n".join(out)

    return body


def heatmap_grid(recipe: Recipe, root: Path, name: str) -> list[list[float]]:
    """Median final metric per (value, step) of heatmap ``name`` (rows: values, columns: steps)."""
    h = recipe.heatmaps[name]
    metric = recipe.workloads[h.workload].metric
    return [[cell(seed_folders(heatmap_folder(root, name, s, v)), metric)["median"] for s in h.steps] for v in h.values]


def heatmap_section(recipe: Recipe) -> Callable[[Path, Any], str | None]:
    """Each robustness heatmap as a table of median final metrics (values × steps)."""

    def body(root: Path, tuned: Any) -> str | None:
        out = []
        for name, h in recipe.heatmaps.items():
            g = heatmap_grid(recipe, root, name)
            metric = recipe.workloads[h.workload].metric
            finite = sum(math.isfinite(v) for row in g for v in row)
            lines = [
                (
                    f"{h.method} on {h.workload}, n = {h.n}: median final {metric} "
                    f"({finite} of {len(g) * len(h.steps)} cells finite)"
                ),
                "",
                f"| {h.label} \\ step | " + " | ".join(fmt(s) for s in h.steps) + " |",
                "|---" * (len(h.steps) + 1) + "|",
            ]
            lines += [
                f"| {fmt(v)} | " + " | ".join(show({"median": x, "diverged": 0, "values": [x]}) for x in row) + " |"
                for v, row in zip(h.values, g)
            ]
            out.append("\n".join(lines))
        return "\n\n".join(out) or None

    return body
