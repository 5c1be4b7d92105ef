"""What an asynchronous run adds to its run folder: ``async.json`` and three plots.

* ``async.json`` — the delay histogram (``delay_histogram[δ]`` = arrivals with delay δ), per-worker
  utilization (fraction of simulated time spent computing, cancelled work included) and finished jobs,
  the dropped and cancelled job counts, the final simulated time and server updates;
* ``metrics_time.png`` — every metric against simulated time (``metrics.png`` has them against server
  updates);
* ``delays.png`` — the delay histogram; ``utilization.png`` — utilization per worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..algorithms.base import State
from ..engine.callbacks import Callback
from ..engine.events.table import EventTable
from .folder import atomic_write_json, read_metrics
from .plots import _pyplot, plot_metrics, save

ASYNC = "async.json"


def report(events: EventTable) -> dict[str, Any]:
    """The ``async.json`` content of an event table."""
    return {
        "time": events.clock,
        "updates": events.updates,
        "arrivals": events.arrivals,
        "dropped": events.dropped,
        "cancelled": events.cancelled,
        "mean_delay": events.delay_sum / max(events.arrivals, 1),
        "max_delay": events.delay_max,
        "delay_histogram": list(events.hist),
        "utilization": events.utilization(),
        "jobs_finished": list(events.done),
        "jobs_started": list(events.jobs),
    }


class EventReport(Callback):
    """Writes ``async.json`` (and the plots vs time) into ``folder`` when an event-engine run ends; place it
    after the run folder's :class:`~tailtamer.rundir.folder.RunWriter`, whose metrics the plots read."""

    def __init__(self, folder: Path, plot: bool = True, title: str = ""):
        self.folder, self.plot, self.title = Path(folder), plot, title

    def on_end(self, loop: Any, state: State) -> None:
        write_report(self.folder, loop.events, plot=self.plot, title=self.title)


def write_report(folder: Path, events: EventTable, plot: bool = True, title: str = "") -> None:
    """Write ``async.json`` (and the plots when ``plot``) into the run folder ``folder``."""
    folder = Path(folder)
    data = report(events)
    atomic_write_json(folder / ASYNC, data)
    if plot:
        plot_report(folder, data, read_metrics(folder), title)


def plot_report(folder: Path, data: dict[str, Any], rows: list[dict[str, Any]], title: str = "") -> None:
    plt = _pyplot()
    if rows and "time" in rows[0]:
        plot_metrics(rows, folder / "metrics_time.png", title, x="time", xlabel="simulated time")
    for key, fname, xlabel in (
        ("delay_histogram", "delays.png", "delay (server updates since the read)"),
        ("utilization", "utilization.png", "worker"),
    ):
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        v = data[key]
        ax.bar(range(len(v)), v)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("arrivals" if key == "delay_histogram" else "fraction of time computing")
        ax.set_title(f"{key.replace('_', ' ')}: dropped {data['dropped']}, cancelled {data['cancelled']}")
        save(fig, folder / fname, dpi=110)
