"""The E5 report: a cell's value from its ``sde.json``, the tables as Markdown, and the blow-up law's hazard
ratios against the one-kick prediction."""

from __future__ import annotations

import itertools
import math
from pathlib import Path
from typing import Any

from ....sde.folders import read
from .cells import LAW_K, NU, TABLES, TAILS, Table, folder


def metric(spec: tuple[Any, ...], res: dict[str, Any]) -> Any:
    """A cell's value from its ``sde.json``."""
    d = res["discrete"]
    kind = spec[0]
    if kind == "blow_up":
        return (d["blow_up_fraction"], d.get("blow_up_by_replicate", [d["blow_up_fraction"]]))
    if kind == "blown_by":
        steps = [round(t / res["eta"]) for t in res["t"]]
        at = max((i for i, k in enumerate(steps) if k <= spec[1]), default=0)
        return d["blown_at"][at]
    if kind == "median_final":
        v = d["quantiles"]["0.5"][-1]
        return math.inf if v is None else v
    if kind == "gap":
        return f"{res['gap']:.2g} ({d['mean'][-1]:.3g} / {res['sde']['mean'][-1]:.3g})"
    if kind == "stationary":
        tail = [v for v in d["mean"][int(0.8 * len(d["mean"])) :] if v is not None]
        return sum(tail) / len(tail) - (res.get("f_star") or 0.0) if tail else math.inf
    raise KeyError(kind)


def values(table: Table, root: Path, scale: float = 1.0, paths: int | None = None) -> dict[tuple[str, str], Any]:
    """The cells of ``table`` that have run: (row, column) → metric."""
    out = {}
    for row in table.rows:
        for col in table.cols:
            res = read(folder(root, table.config(row, col, scale, paths)))
            if res is not None:
                out[(row, col)] = metric(table.cols[col].get("metric", table.metric), res)
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "…"
    if isinstance(v, tuple):
        whole, blocks = v
        spread = f" ({min(blocks):.3g}–{max(blocks):.3g})" if len(blocks) > 1 and min(blocks) != max(blocks) else ""
        return f"{whole:.3g}{spread}"
    return v if isinstance(v, str) else ("∞" if math.isinf(v) else f"{v:.3g}")


def markdown(table: Table, vals: dict[tuple[str, str], Any]) -> str:
    """The table as Markdown ("…": a cell not run yet)."""
    cols = list(table.cols)
    lines = [f"**{table.title}**", "", "| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    first = next(iter(table.rows))
    for row in table.rows:
        cells_ = []
        for c in cols:
            v = vals.get((row, c))
            ref = vals.get((first, c))
            ratio = table.metric[0] == "stationary" and v is not None and ref is not None and v > 0
            cells_.append(_fmt(v) + (f" (×{ref / v:.2g})" if ratio else ""))
        lines.append(f"| {row} | " + " | ".join(cells_) + " |")
    return "\n".join(lines) + "\n"


def hazard_ratios(p: list[float]) -> list[float]:
    """Λ(K_{i+1})/Λ(K_i) for Λ = −ln(1 − p) (measured), or NaN where a fraction is 0 or 1."""
    lam = [-math.log(1 - x) if 0 < x < 1 else math.nan for x in p]
    return [b / a if a and a == a and b == b else math.nan for a, b in itertools.pairwise(lam)]


def predicted_ratios(exponent: float, ks: tuple[int, ...] = LAW_K) -> list[float]:
    """Λ(K) ∝ Σ_{k ≤ K} k^(−1.5aν) (compression.md §5, one-kick hazard): ratios between the decades."""
    sums = [sum(k**-exponent for k in range(1, kk + 1)) for kk in ks]
    return [b / a for a, b in itertools.pairwise(sums)]


def law_body(root: Path, scale: float = 1.0, paths: int | None = None) -> str:
    table = next(t for t in TABLES if t.name == "blow_up_law")
    vals = values(table, root, scale, paths)
    lines = [
        markdown(table, vals),
        "",
        "Hazard Λ = −ln(1 − p) between decades, measured against the one-kick prediction Λ(K) ∝ Σ_{k≤K} k^(−1.5aν):",
        "",
        "| row | measured Λ(10³)/Λ(10²), Λ(10⁴)/Λ(10³) | predicted |",
        "|---|---|---|",
    ]
    for row, spec in table.rows.items():
        p = [vals.get((row, c)) for c in table.cols]
        if None in p:
            continue
        a = spec["method"]["schedule"]["power"]
        nu = NU[next(k for k, v in TAILS.items() if v == {"noise": spec["noise"]})]
        ratios = hazard_ratios(p)
        meas = "— (no path blew up)" if all(r != r for r in ratios) else ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(f"| {row} | {meas} | {', '.join(f'{r:.2f}' for r in predicted_ratios(1.5 * a * nu))} |")
    return "\n".join(lines) + "\n"
