"""The TailOPT report: the table of final quality and bytes per method, and the report sections per task."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ...report import Cell, load_runs
from ...study import Section
from .recipe import MODEL_TASKS, NOISES, TASKS, label


def table(runs: list, metric: str) -> str:
    """Markdown: final quality (mean ± std over seeds), optimizer-state bytes and communicated bytes."""
    groups: dict[str, tuple[Cell, dict[str, Any]]] = {}
    for r in runs:
        cell, acct = groups.setdefault(r.summary["algorithm"], (Cell([]), {}))
        if r.diverged:
            cell.diverged += 1
        else:
            cell.values.append(r.summary["metrics"][metric])
            acct.update(r.summary.get("accounting", {}))
    lines = [
        f"| method | final {metric} (mean ± std) | state bytes / client | state bytes server | comm bytes / round |",
        "|---|---|---|---|---|",
    ]
    for m in sorted(groups, key=lambda k: groups[k][0].mean if groups[k][0].values else math.inf):
        cell, a = groups[m]
        lines.append(
            f"| {m} | {cell.format(4)} | {a.get('state_bytes_per_client', '—')} | "
            f"{a.get('state_bytes_server', '—')} | {a.get('comm_bytes_per_round', '—')} |"
        )
    return "\n".join(lines)


def _edges(root: Path, name: str, prefix: str = "") -> str:
    """``" (still at a grid edge after growing: method axis side, ...)"`` from a tuning record, or ``""``."""
    path = root / name
    if not path.exists():
        return ""
    recs = json.loads(path.read_text())
    left = [
        f"{k[len(prefix) :]} {', '.join(r['at_edge'])}"
        for k, r in recs.items()
        if k.startswith(prefix) and r.get("at_edge")
    ]
    return f" Still on a grid edge after growing: {'; '.join(left)}." if left else ""


def setting_sections() -> tuple[Section, ...]:
    def body(key: str):
        def draw(root: Path, tuned: Any) -> str | None:
            if key not in tuned:
                return None
            task = key.split("/")[0]
            runs = load_runs([root / "main" / key / m / label(p) for m, p in tuned[key].items()])
            return (
                table(runs, TASKS[task]["metric"])
                + "\n\nTuned: "
                + "; ".join(f"{m}: {label(p)}" for m, p in tuned[key].items())
                + "."
                + _edges(root, "tuning.json", f"{key}/")
            )

        return draw

    return tuple(
        Section(f"{t}, {n} noise (scale {TASKS[t]['scale']:g})", body(f"{t}/{n}")) for t in TASKS for n in NOISES
    )


def model_sections() -> tuple[Section, ...]:
    def body(task: str):
        def draw(root: Path, model_tuned: Any) -> str | None:
            mt = model_tuned.get(task, {})
            if not mt:
                return None
            runs = load_runs([root / "models" / task / m / label(p) for m, p in mt.items()])
            return (
                table(runs, MODEL_TASKS[task]["metric"])
                + "\n\nTuned: "
                + "; ".join(f"{m}: {label(p)}" for m, p in mt.items())
                + "."
                + _edges(root, "models-tuning.json", f"{task}/")
            )

        return draw

    return tuple(
        Section(f"{task} (no injected noise, {MODEL_TASKS[task]['rounds']} rounds)", body(task)) for task in MODEL_TASKS
    )
