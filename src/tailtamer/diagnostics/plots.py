"""Plots of gradient-noise measurements (they only read ``noise.jsonl``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..rundir.plots import LINESTYLES, _pyplot, save, style


def plot_noise(rows: Sequence[dict[str, Any]], path: str | Path, title: str = "") -> Path:
    """Left: tail-index estimates against step (node mean, band = min..max over nodes). Right: histograms of
    the noise norms ‖ξ‖ at up to four measured steps, early to late (pooled over nodes and draws)."""
    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    steps = [r["step"] for r in rows]
    for i, (key, label) in enumerate((("alpha_mohammadi", "Mohammadi et al. 2015"), ("alpha_hill", "Hill"))):
        vals = np.array([r[key] for r in rows], dtype=float)
        vals[~np.isfinite(vals)] = np.nan
        st = {k: v for k, v in style(i, 2).items() if k != "markevery"}  # few points: a marker on each
        ax1.plot(steps, np.nanmean(vals, 1), label=label, **st)
        ax1.fill_between(steps, np.nanmin(vals, 1), np.nanmax(vals, 1), alpha=0.2)
    ax1.axhline(2.0, color="grey", lw=0.8, ls="--")
    ax1.set_xlabel("step")
    ax1.set_ylabel("tail index α̂ (lower = heavier)")
    ax1.legend()
    picks = sorted({round(i) for i in np.linspace(0, len(rows) - 1, min(4, len(rows)))})
    norms = [np.asarray(rows[i]["noise_norms"], dtype=float).ravel() for i in picks]
    lo = min(v[v > 0].min() for v in norms if (v > 0).any()) if norms else 1e-3
    hi = max(v.max() for v in norms) if norms else 1.0
    bins = np.geomspace(lo, hi * 1.0001, 25) if hi > lo else 25
    for j, (i, v) in enumerate(zip(picks, norms)):
        ax2.hist(
            v,
            bins=bins,
            histtype="step",
            lw=1.5,
            linestyle=LINESTYLES[j % len(LINESTYLES)],
            label=f"step {rows[i]['step']}",
        )
    ax2.set_xscale("log")
    ax2.set_xlabel("noise norm ‖g_B − g_L‖")
    ax2.set_ylabel("count")
    ax2.legend()
    if title:
        fig.suptitle(title)
    return save(fig, path, dpi=110)
