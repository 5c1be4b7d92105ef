"""The run folder, the same for simulated and real runs: resolved ``config.toml``, ``metrics.jsonl``,
``summary.json``, checkpoints (:mod:`~tailtamer.rundir.checkpoint`) and a PNG plot.

Every whole file is written atomically (:mod:`.atomic`); ``metrics.jsonl`` is appended one flushed line per
evaluation, and on resume lines past the checkpoint (or a torn last line) are dropped, so a stopped run
loses nothing it had written and a resumed run's folder equals an uninterrupted run's. Checking and
preparing a folder for a fresh or resumed run is :mod:`.resume`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ..algorithms.base import State
from ..engine.callbacks import Callback
from ..errors import NonFiniteError
from . import plots
from .atomic import atomic_save, atomic_write, atomic_write_bytes, atomic_write_json, atomic_write_text, storage_error

__all__ = [
    "CONFIG",
    "METRICS",
    "PLOT",
    "SUMMARY",
    "RunWriter",
    "atomic_save",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "comm_totals",
    "last_metrics",
    "read_metrics",
    "read_summary",
    "run_info",
    "truncate_metrics",
    "write_diverged",
]

CONFIG = "config.toml"
#: The launch record of a real run (process count, backend): what ``tailtamer launch --resume RUN_DIR`` reads.
LAUNCH = "launch.json"
METRICS = "metrics.jsonl"
SUMMARY = "summary.json"
PLOT = "metrics.png"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The complete lines of an append-only JSON-lines file (a torn last line is ignored; none: [])."""
    rows = []
    if Path(path).exists():
        for line in Path(path).read_text().splitlines():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                break
    return rows


def read_metrics(folder: Path) -> list[dict[str, Any]]:
    """The complete lines of a run's ``metrics.jsonl`` (a torn last line is ignored)."""
    return read_jsonl(Path(folder) / METRICS)


def truncate_metrics(folder: Path, last_step: int) -> None:
    """Keep only the evaluations at steps ≤ ``last_step`` (used when resuming)."""
    rows = [r for r in read_metrics(folder) if r["step"] <= last_step]
    atomic_write_text(Path(folder) / METRICS, "".join(json.dumps(r) + "\n" for r in rows))


def read_summary(folder: Path) -> dict[str, Any] | None:
    """The run's ``summary.json``, or None when there is none (or it cannot be parsed)."""
    path = Path(folder) / SUMMARY
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def last_metrics(folder: Path) -> dict[str, float]:
    """The metrics of the last complete line of ``metrics.jsonl`` (without step, time and bytes)."""
    rows = read_metrics(folder)
    return {k: v for k, v in (rows[-1] if rows else {}).items() if k not in plots.BOOKKEEPING}


def run_info(c: Any) -> dict[str, Any]:
    """The fields a summary records about what ran (``c``: :class:`~tailtamer.api.Components`)."""
    cfg, topo = c.config, c.topology_info()
    return {
        "algorithm": cfg["algorithm"]["name"],
        "problem": cfg["problem"]["name"],
        "noise": cfg["noise"]["name"],
        "seed": cfg["run"]["seed"],
        "topology": topo,
        "title": f"{cfg['algorithm']['name']} on {cfg['problem']['name']} ({topo['name']}, n={topo['n']}, "
        f"noise {cfg['noise']['name']}, seed {cfg['run']['seed']})",
    }


def write_diverged(
    out: Path, err: NonFiniteError, last: dict[str, float], info: dict[str, Any], wall_time: float | None = None
) -> None:
    """The ``summary.json`` of a run stopped by NaN/Inf: ``status = "diverged"``, where and what, and the
    metrics of its last evaluation (``metrics`` stays empty: there is no final value)."""
    atomic_write_json(
        Path(out) / SUMMARY,
        {
            "status": "diverged",
            "error": str(err),
            "metrics": {},
            "last_metrics": last,
            "steps": err.step,
            "diverged": {"step": err.step, "node": err.node, "what": err.what},
            "wall_time_s": wall_time,
            **info,
        },
    )


def comm_totals(stats: dict[str, int], n: int, steps: int) -> dict[str, float]:
    """Totals and per-node-per-step averages of a :class:`~tailtamer.comm.base.CommStats` dict."""
    per = max(n, 1) * max(steps, 1)
    return {
        **stats,
        "messages_per_node_per_step": stats["messages"] / per,
        "bytes_per_node_per_step": stats["bytes"] / per,
    }


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
        try:
            self._file = open(self.folder / METRICS, "a")  # noqa: SIM115 - held open, closed by on_end
        except OSError as err:
            raise storage_error(err, self.folder / METRICS, "open") from None

    def on_eval(self, loop: Any, step: int, metrics: dict[str, float]) -> None:
        row = {
            "step": step,
            "wall_time_s": round(loop.wall_time, 6),
            "bytes_per_node": loop.comm.stats.bytes / loop.comm.n,
            "sim_time": loop.sim_time,
            **metrics,
        }
        try:
            self._file.write(json.dumps(row) + "\n")
            self._file.flush()
        except OSError as err:
            raise storage_error(err, self.folder / METRICS, "append to") from None

    def on_end(self, loop: Any, state: State) -> None:
        self._file.close()
        summary = {
            "status": "finished",
            "metrics": dict(loop.last_metrics),
            "steps": loop.step,
            "wall_time_s": loop.wall_time,
            "steps_per_s": loop.step / loop.wall_time if loop.wall_time > 0 else None,
            "sim_time": loop.sim_time,
            # float32 reductions (matmuls, backward) depend on the intra-op thread count: recorded so a
            # run is reproduced bit for bit with the same count (--threads)
            "threads": torch.get_num_threads(),
            "comm": comm_totals(loop.comm.stats.as_dict(), loop.comm.n, loop.step),
            **self.info,
        }
        accounting = getattr(loop.algorithm, "accounting", None)  # optional hook (local-update methods)
        if callable(accounting):
            summary["accounting"] = accounting(d=state["x"][0].numel(), dtype=state["x"].dtype, n=loop.comm.n)
        atomic_write_json(self.folder / SUMMARY, summary)
        if self.plot:
            plots.plot_metrics(read_metrics(self.folder), self.folder / PLOT, title=self.info.get("title", ""))
