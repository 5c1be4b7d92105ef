"""E2's tables: Table 1 of arXiv 2505.03736 (its row order and labels, the published value beside each cell) and
the step-size tuning table, from the run folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...report import load_runs, pivot_table
from .recipe import HYPER, METHODS, PUBLISHED, TOPOLOGIES


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
