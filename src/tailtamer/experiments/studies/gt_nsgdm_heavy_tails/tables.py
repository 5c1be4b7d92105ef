"""The E1 report: the tables of final distances to w* per row, node and noise scaling, larger steps and the
sign of κ, and the figures of the error over the steps, each drawn from the run folders."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ....rundir.plots import plot_bands
from ...report import Cell, load_runs
from ...study import Plot, Section
from .recipe import KAPPAS, LABELS, LARGE_STEPS, METHODS, NOISE_SCALES, NOISES, SCALING_N


def kappa_table(root: Path) -> str:
    """DSGD-Clip with the clipping bound growing (κ > 0) or shrinking (κ < 0), α-stable noise, ring."""
    rows = ["| κ (γ_t = γ₀(t+1)^κ) | DSGD-Clip final error |", "|---|---|"]
    for k in KAPPAS:
        runs = load_runs([root / "kappa" / f"kappa{k:g}"])
        rows.append(
            f"| {k:+g} | "
            + Cell(
                [r.summary["metrics"]["dist_to_opt"] for r in runs if not r.diverged], sum(r.diverged for r in runs)
            ).format(3)
            + " |"
        )
    return "\n".join(rows)


def large_step_table(root: Path) -> str:
    """DSGD and GT-DSGD at larger constant steps under each noise: final error and diverged runs."""
    head = [f"{m} lr={lr:g}" for m in ("dsgd", "gt-dsgd") for lr in LARGE_STEPS]
    rows = ["| noise | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for noise in NOISES:
        cells_ = []
        for m in ("dsgd", "gt-dsgd"):
            for lr in LARGE_STEPS:
                runs = load_runs([root / "large-step" / noise / f"{m}-lr{lr:g}"])
                cells_.append(
                    Cell(
                        [r.summary["metrics"]["dist_to_opt"] for r in runs if not r.diverged],
                        sum(r.diverged for r in runs),
                    ).format(3)
                )
        rows.append(f"| {noise} | " + " | ".join(cells_) + " |")
    return "\n".join(rows)


def final_table(runs: list, label: str = "method", labels: dict[str, str] | None = None) -> str:
    """Markdown: final distance to w* per row (the run folder's parent: a method or a :data:`VARIANTS` row),
    mean ± std, min–max over seeds, diverged count; ``labels`` renames rows."""
    groups: dict[str, Cell] = {}
    for r in runs:
        cell = groups.setdefault(r.folder.parent.name, Cell([]))
        if r.diverged:
            cell.diverged += 1
        else:
            cell.values.append(r.summary["metrics"]["dist_to_opt"])
    lines = [f"| {label} | final mean_i ‖x_i − w*‖ (mean ± std) | min | max | runs |", "|---|---|---|---|---|"]
    for m in sorted(groups, key=lambda k: groups[k].mean if groups[k].values else math.inf):
        c = groups[m]
        lo = f"{min(c.values):.3f}" if c.values else "—"
        hi = f"{max(c.values):.3f}" if c.values else "—"
        lines.append(f"| {(labels or {}).get(m, m)} | {c.format(3)} | {lo} | {hi} | {len(c.values) + c.diverged} |")
    return "\n".join(lines)


def curves(runs: list, key: Callable[[Any], str]) -> dict[str, list[list[dict[str, Any]]]]:
    """The metric rows of the finished runs, grouped by ``key(run)`` (for the bands of a plot)."""
    out: dict[str, list[list[dict[str, Any]]]] = {}
    for r in runs:
        if not r.diverged:
            out.setdefault(key(r), []).append(r.rows)
    return out


def scaling_table(root: Path) -> str:
    """GT-NSGDm's final error on the complete graph per n, beside the published value."""
    rows = ["| n (complete graph) | final error (mean ± std) | published |", "|---|---|---|"]
    published = dict(zip(SCALING_N, (0.40, 0.35, 0.29, 0.20, 0.21)))
    for n in SCALING_N:
        runs = load_runs([root / "scaling" / f"n{n}"])
        cell = Cell(
            [r.summary["metrics"]["dist_to_opt"] for r in runs if not r.diverged], sum(r.diverged for r in runs)
        )
        rows.append(f"| {n} | {cell.format(3)} | ≈ {published[n]:.2f} |")
    return "\n".join(rows)


def noise_scale_table(root: Path, tuned: Any) -> str:
    """GT-NSGDm's final error per α-stable noise scale, on the ring."""
    lines = ["| noise scale | GT-NSGDm final error |", "|---|---|"]
    for c in NOISE_SCALES:
        runs = load_runs([root / "noise-scale" / f"scale{c:g}"])
        lines.append(
            f"| {c:g} | {Cell([r.summary['metrics']['dist_to_opt'] for r in runs if not r.diverged]).format(3)} |"
        )
    return "\n".join(lines)


def plot_noise(noise: str) -> Plot:
    """The figure of every row's error over the steps under ``noise``, on the ring."""

    def draw(root: Path, path: Path, tuned: Any) -> None:
        runs = load_runs([root / "main" / noise], with_rows=True)
        plot_bands(
            curves(runs, lambda r: LABELS.get(r.folder.parent.name, r.folder.parent.name)),
            "dist_to_opt",
            path,
            title=f"E1, {noise} noise, ring n=20",
        )

    return Plot(f"e1-{noise}.png", draw)


def plot_scaling(root: Path, path: Path, tuned: Any) -> None:
    """The figure of GT-NSGDm's error over the steps per n, on the complete graph."""
    runs = load_runs([root / "scaling"], with_rows=True)
    plot_bands(
        curves(runs, lambda r: f"n={r.summary['topology']['n']}"),
        "dist_to_opt",
        path,
        title="E1 node scaling, GT-NSGDm, complete graph",
    )


def main_section(noise: str) -> Section:
    """The table of every row's final error under ``noise``, on the ring."""
    return Section(
        f"{noise} noise, ring of 20 (ρ = 0.904)",
        lambda root, tuned: final_table(load_runs([root / "main" / noise]), labels=LABELS),
    )


def demo_table(root: Path, tuned: Any) -> str:
    """The demo's table: each method's final error."""
    return final_table(load_runs([root / m for m in METHODS if (root / m).exists()]))


def demo_plot(root: Path, path: Path, tuned: Any) -> None:
    """The demo's figure: each method's error over the steps."""
    runs = load_runs([root / m for m in METHODS if (root / m).exists()], with_rows=True)
    plot_bands(
        curves(runs, lambda r: r.summary["algorithm"]),
        "dist_to_opt",
        path,
        title="E1, alpha-stable noise (1.5, skew 0.5), ring n=20: mean_i ||x_i - w*||",
    )
