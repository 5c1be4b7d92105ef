"""The cross-family report's figure: simulated time against the bytes each node has sent, one panel per
cluster and workload, one curve per method (its first finished seed), its marker where it reached the target
(none: never). A curve's slope is the bytes a method puts on the network per simulated second; how far right and how
high its marker sits is what the target cost it in bytes and in time."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ....rundir.folder import read_metrics
from ....rundir.plots import panels, save, style
from .outcomes import BYTES, SIM_TIME, read_reach, seed_folders
from .recipe import Recipe
from .tables import Where

#: One colour per method (13 of them: more than the default cycle's 10), cycled beyond.
COLORS = (
    "tab:blue",
    "tab:orange",
    "tab:green",
    "tab:red",
    "tab:purple",
    "tab:brown",
    "tab:pink",
    "tab:gray",
    "tab:olive",
    "tab:cyan",
    "black",
    "gold",
    "navy",
    "lime",
    "magenta",
)


def draw_time_bytes(recipe: Recipe, where_of: Callable[[Path, Any], Where]) -> Callable[[Path, Path, Any], None]:
    """The figure's ``draw(root, path, tuned)``; ``where_of(root, tuned)`` gives the folders of the runs."""

    def draw(root: Path, path: Path, tuned: Any) -> None:
        where = where_of(root, tuned)
        settings = [(c, w) for c in recipe.clusters for w in recipe.workloads]
        fig, axes = panels(len(settings), len(recipe.workloads), 4.6, 3.6)
        methods = list(recipe.methods)
        for ax, (c, w) in zip(axes, settings):
            wl = recipe.workloads[w]
            for i, m in enumerate(methods):
                folders = [f for f in seed_folders(where(w, c, m)) if (f / "summary.json").exists()]
                if not folders:
                    continue
                rows = [r for r in read_metrics(folders[0]) if SIM_TIME in r and r.get(BYTES, 0) > 0]
                if not rows:
                    continue
                st = style(i, len(methods))
                hit = read_reach(folders[0], wl.target, wl.horizons[c], wl.metric)
                at = [k for k, r in enumerate(rows) if hit is not None and r[SIM_TIME] == hit.time]
                ax.plot(
                    [r[BYTES] for r in rows],
                    [r[SIM_TIME] for r in rows],
                    label=m,
                    lw=1.1,
                    color=COLORS[i % len(COLORS)],
                    linestyle=st["linestyle"],
                    marker=st["marker"],
                    markevery=at[:1],
                    ms=6,
                )
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("bytes sent per node")
            ax.set_ylabel("simulated time (s)")
            ax.set_title(f"{c}: {wl.label}", fontsize=9)
            ax.grid(alpha=0.3)
        if axes:
            axes[0].legend(fontsize=6)
        save(fig, path, dpi=90)

    return draw
