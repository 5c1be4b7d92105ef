"""PNG plots drawn from run folders' metrics (plots only read; they never re-run anything)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_metrics(rows: Sequence[dict[str, Any]], path: Path, title: str = "") -> None:
    """One panel per metric against step (log scale where all values are positive)."""
    plt = _pyplot()
    skip = {"step", "wall_time_s", "bytes_per_node"}
    names = [k for k in (rows[0] if rows else {}) if k not in skip]
    if not names:
        return
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    steps = [r["step"] for r in rows]
    for ax, name in zip(axes[0], names):
        values = np.array([r.get(name, np.nan) for r in rows], dtype=float)
        ax.plot(steps, values)
        if np.all(values[np.isfinite(values)] > 0):
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(name)
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_bands(curves: dict[str, list[list[dict[str, Any]]]], metric: str, path: Path, title: str = "",
               log: bool = True) -> None:
    """Mean over seeds with a min–max band, one line per label; ``curves[label]`` is a list of runs' rows."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, runs in curves.items():
        steps = [r["step"] for r in runs[0]]
        vals = np.array([[r.get(metric, np.nan) for r in rows[: len(steps)]] for rows in runs], dtype=float)
        mean = np.nanmean(vals, axis=0)
        ax.plot(steps, mean, label=label)
        if len(runs) > 1:
            ax.fill_between(steps, np.nanmin(vals, axis=0), np.nanmax(vals, axis=0), alpha=0.2)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
