"""The E4 report's figures: the metric over simulated time, the straggler sweep and the heatmaps."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ....rundir.folder import read_metrics
from ....rundir.plots import panels, save
from .jobs import fmt, label, step_of
from .recipe import Recipe
from .tables import cell, heatmap_grid, seed_folders


def curves(folders: list[Path], metric: str) -> tuple[list[float], list[float]]:
    """Mean time and median metric per evaluation, over the seeds that reached it."""
    rows = [read_metrics(f) for f in folders]
    rows = [r for r in rows if r]
    if not rows:
        return [], []
    length = min(len(r) for r in rows)
    t = [statistics.fmean(r[i]["time"] for r in rows) for i in range(length)]
    v = [statistics.median(r[i].get(metric, math.nan) for r in rows) for i in range(length)]
    return t, v


def draw_curves(recipe: Recipe) -> Callable[[Path, Path, Any], None]:
    """One panel per setting: each method's median metric over simulated time."""

    def draw(root: Path, path: Path, tuned: Any) -> None:
        keys = recipe.keys()
        fig, axes = panels(len(keys), 3, 4.6, 3.4)
        for ax, k in zip(axes, keys):
            w = recipe.workloads[k.split("/")[0]]
            for m in recipe.methods:
                t, v = curves(seed_folders(root / "main" / k / m / label(step_of(recipe, tuned, k, m))), w.metric)
                ax.plot(t, v, label=m, lw=1.2)
            ax.set_yscale("log")
            ax.set_xlabel("simulated time")
            ax.set_title(f"{k}: {w.metric}", fontsize=9)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=6)
        save(fig, path, dpi=90)

    return draw


def draw_straggler(recipe: Recipe) -> Callable[[Path, Path, Any], None]:
    """One panel per straggler workload: each method's median final metric against the factor k."""

    def draw(root: Path, path: Path, tuned: Any) -> None:
        ws, n, ks = recipe.straggler_workloads, recipe.straggler_n, list(recipe.straggler_factors)
        if not ws:
            return
        fig, axes = panels(len(ws), len(ws), 5.0, 3.8)
        for ax, w in zip(axes, ws):
            metric = recipe.workloads[w].metric
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                ys = [
                    cell(seed_folders(root / "straggler" / w / f"k{k:g}" / m / label(p)), metric)["median"] for k in ks
                ]
                ax.plot(ks, ys, marker="o", label=m)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("straggler factor k (last worker k× slower)")
            ax.set_ylabel(f"median final {metric}")
            ax.set_title(f"{w}, n = {n}")
            ax.grid(alpha=0.3)
        axes[-1].legend(fontsize=6)
        save(fig, path, dpi=90)

    return draw


def draw_heatmaps(recipe: Recipe) -> Callable[[Path, Path, Any], None]:
    """One panel per heatmap: log10 of the median final metric, diverged cells marked."""

    def draw(root: Path, path: Path, tuned: Any) -> None:
        names = list(recipe.heatmaps)
        if not names:
            return
        fig, axes = panels(len(names), 3, 4.4, 3.6)
        for ax, name in zip(axes, names):
            h = recipe.heatmaps[name]
            g = np.array(heatmap_grid(recipe, root, name), dtype=float)
            shown = np.log10(np.where(np.isfinite(g), g, np.nan))
            im = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(h.steps)), [fmt(s) for s in h.steps], fontsize=7)
            ax.set_yticks(range(len(h.values)), [fmt(v) for v in h.values], fontsize=7)
            for (i, j), x in np.ndenumerate(g):
                if not np.isfinite(x):
                    ax.text(j, i, "div", ha="center", va="center", fontsize=6, color="red")
            ax.set_xlabel("step")
            ax.set_ylabel(h.label)
            ax.set_title(f"{h.method}, {h.workload}: log10 final {recipe.workloads[h.workload].metric}", fontsize=8)
            fig.colorbar(im, ax=ax)
        save(fig, path, dpi=90)

    return draw
