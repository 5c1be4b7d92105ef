"""Aggregate run folders into tables (mean ± std over seeds). Reports only read run folders."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataNotFoundError
from ..rundir.folder import SUMMARY, read_metrics


@dataclass
class Run:
    """One run folder: its summary, config and metric rows."""

    folder: Path
    summary: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.summary.get("status") == "diverged"

    def get(self, key: str) -> Any:
        """A summary field by dotted path, e.g. ``topology.name``."""
        value: Any = self.summary
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value


def load_runs(folders: Iterable[str | Path], with_rows: bool = False) -> list[Run]:
    """Load run folders (a folder with no ``summary.json`` is searched recursively for run folders)."""
    runs = []
    for folder in folders:
        folder = Path(folder)
        candidates = [folder] if (folder / SUMMARY).exists() else sorted(p.parent for p in folder.rglob(SUMMARY))
        if not candidates:
            raise DataNotFoundError(f"no run folder (with {SUMMARY}) at or under {folder.resolve()}")
        for c in candidates:
            runs.append(Run(c, json.loads((c / SUMMARY).read_text()), read_metrics(c) if with_rows else []))
    return runs


@dataclass
class Cell:
    """Statistics of one metric over the seeds of one group."""

    values: list[float]
    diverged: int = 0

    @property
    def mean(self) -> float:
        return sum(self.values) / len(self.values) if self.values else math.nan

    @property
    def std(self) -> float:
        if len(self.values) < 2:
            return 0.0
        m = self.mean
        return math.sqrt(sum((v - m) ** 2 for v in self.values) / (len(self.values) - 1))

    def format(self, digits: int = 3) -> str:
        if not self.values:
            return f"diverged ({self.diverged}/{self.diverged})" if self.diverged else "—"
        text = f"{self.mean:.{digits}f} ± {self.std:.{digits}f}" if len(self.values) > 1 else f"{self.mean:.{digits}f}"
        return text + (f" ({self.diverged} diverged)" if self.diverged else "")


def cells(runs: Sequence[Run], metric: str, keys: Sequence[str]) -> dict[tuple, Cell]:
    """Group runs by the summary fields ``keys`` and collect ``metric``."""
    out: dict[tuple, Cell] = {}
    for run in runs:
        key = tuple(run.get(k) for k in keys)
        cell = out.setdefault(key, Cell([]))
        if run.diverged:
            cell.diverged += 1
        elif metric in run.summary.get("metrics", {}):
            cell.values.append(float(run.summary["metrics"][metric]))
    return out


def ordered(values: Iterable[Any], order: Sequence[Any] | None) -> list[Any]:
    """``values`` in ``order`` first (those present), then the rest sorted."""
    present = set(values)
    head = [v for v in (order or ()) if v in present]
    return head + sorted(present - set(head), key=str)


def pivot_table(
    runs: Sequence[Run],
    metric: str,
    row: str = "algorithm",
    col: str = "topology.name",
    digits: int = 3,
    row_order: Sequence[str] | None = None,
    col_order: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
    extra: Callable[[Any, Any], str] | None = None,
) -> str:
    """A markdown table: one line per ``row`` value, one column per ``col`` value, cells mean ± std.

    ``row_order`` / ``col_order`` put those values first (others follow sorted; with ``row_order`` only
    the listed rows are shown, as before); ``labels`` renames row and column headings; ``extra(row, col)``
    appends text to a cell (e.g. a published value).
    """
    table = cells(runs, metric, (row, col))
    labels = labels or {}
    rows = list(row_order or sorted({k[0] for k in table}, key=str))
    cols = ordered({k[1] for k in table}, col_order)
    lines = [
        f"| {row.split('.')[0]} | " + " | ".join(labels.get(c, str(c)) for c in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for r in rows:
        body = [table.get((r, c), Cell([])).format(digits) + (extra(r, c) if extra else "") for c in cols]
        lines.append(f"| {labels.get(r, r)} | " + " | ".join(body) + " |")
    return "\n".join(lines)
