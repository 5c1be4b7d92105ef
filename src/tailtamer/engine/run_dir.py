"""The run folder: resolved config, ``metrics.jsonl``, ``summary.json``, checkpoint and a PNG plot.

Every whole file is written atomically (temporary file + rename); ``metrics.jsonl`` is appended one flushed
line per evaluation, and on resume lines past the checkpoint (or a torn last line) are dropped, so a stopped
run loses nothing it had written and a resumed run's folder equals an uninterrupted run's.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..algorithms.base import State
from .callbacks import Callback

METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
PLOT = "metrics.png"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def read_metrics(folder: Path) -> list[dict[str, Any]]:
    """The complete lines of a run's ``metrics.jsonl`` (a torn last line is ignored)."""
    path = Path(folder) / METRICS
    rows = []
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def truncate_metrics(folder: Path, last_step: int) -> None:
    """Keep only the evaluations at steps ≤ ``last_step`` (used when resuming)."""
    rows = [r for r in read_metrics(folder) if r["step"] <= last_step]
    atomic_write_text(Path(folder) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


def comm_totals(stats: dict[str, int], n: int, steps: int) -> dict[str, float]:
    """Totals and per-node-per-step averages of a :class:`~tailtamer.comm.base.CommStats` dict."""
    per = max(n, 1) * max(steps, 1)
    return {**stats, "messages_per_node_per_step": stats["messages"] / per,
            "bytes_per_node_per_step": stats["bytes"] / per}


class RunWriter(Callback):
    """Appends evaluations to ``metrics.jsonl``; at the end writes ``summary.json`` and the plot.

    Args:
        folder: the run folder (exists).
        info: extra fields for ``summary.json`` (algorithm, problem, topology, seed, ...).
        plot: whether to draw ``metrics.png``.
    """

    def __init__(self, folder: Path, info: dict[str, Any] | None = None, plot: bool = True):
        self.folder, self.info, self.plot = Path(folder), dict(info or {}), plot
        self._file = None

    def on_start(self, loop: Any) -> None:
        self._file = open(self.folder / METRICS, "a")

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        row = {"step": step, "wall_time_s": round(loop.wall_time, 6),
               "bytes_per_node": loop.comm.stats.bytes / loop.comm.n, **metrics}
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()

    def on_end(self, loop: Any, state: State) -> None:
        self._file.close()
        summary = {"status": "finished", "metrics": dict(loop.last_metrics), "steps": loop.step, "wall_time_s": loop.wall_time,
                   "steps_per_s": loop.step / loop.wall_time if loop.wall_time > 0 else None,
                   "comm": comm_totals(loop.comm.stats.as_dict(), loop.comm.n, loop.step), **self.info}
        accounting = getattr(loop.algorithm, "accounting", None)   # optional hook (local-update methods)
        if callable(accounting):
            summary["accounting"] = accounting(d=state["x"][0].numel(), dtype=state["x"].dtype, n=loop.comm.n)
        atomic_write_json(self.folder / SUMMARY, summary)
        if self.plot:
            from ..plots import plot_metrics

            plot_metrics(read_metrics(self.folder), self.folder / PLOT, title=self.info.get("title", ""))
