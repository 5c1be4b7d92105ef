"""PNG plots drawn from run folders' metrics (plots only read; they never re-run anything)."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write

#: Line styles and markers cycled over the curves of one plot, so that curves that coincide stay visible
#: (a dashed line over a solid one, markers at different positions).
LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "x", "P", "*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")

#: What a ``metrics.jsonl`` line holds beside the problem's metrics: the step, the real seconds, the bytes each
#: node sent, and the simulated seconds on the run's cluster (:mod:`tailtamer.cluster`).
BOOKKEEPING = ("step", "wall_time_s", "bytes_per_node", "sim_time")


def natural_key(label: str) -> tuple:
    """Sort key reading the numbers in a label as numbers: ``n=2 < n=5 < n=10``, ``lr=3e-3 < lr=0.01``."""
    parts: list[tuple[int, Any]] = []
    pos = 0
    for m in _NUMBER.finditer(label):
        parts.append((0, label[pos : m.start()]))
        parts.append((1, float(m.group())))
        pos = m.end()
    parts.append((0, label[pos:]))
    return tuple(parts)


def legend_order(labels: Sequence[str]) -> list[str]:
    """Labels in numeric order when every label holds a number (``n=2, n=5, n=10``), else as given."""
    labels = list(labels)
    if labels and all(_NUMBER.search(label) for label in labels):
        return sorted(labels, key=natural_key)
    return labels


def style(i: int, n: int) -> dict[str, Any]:
    """Line style, marker and marker spacing of the i-th of n curves (markers offset so they do not overlap)."""
    return {
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
        "markevery": (0.1 * i / max(n, 1), 0.1),
        "markersize": 4,
    }


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_figure(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` atomically (a full disk leaves the old file or none, never a cut image); the
    format is the file's suffix (PNG by default). Creates the folder; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = path.suffix.lstrip(".").lower() or "png"
    atomic_write(path, lambda f: fig.savefig(f, dpi=dpi, format=fmt))
    return path


def save(fig: Any, path: Path, dpi: int = 110) -> Path:
    """Lay out, write atomically (creating the folder) and close a figure; returns ``path``."""
    fig.tight_layout()
    try:
        return write_figure(fig, path, dpi)
    finally:
        _pyplot().close(fig)


def panels(count: int, cols: int, width: float, height: float) -> tuple[Any, list[Any]]:
    """A figure of ``count`` panels in rows of at most ``cols``, each ``width`` × ``height`` inches, the unused
    cells of the last row hidden; returns the figure and the ``count`` axes in reading order."""
    cols = max(1, min(cols, count))
    rows = -(-count // cols)
    fig, axes = _pyplot().subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:count])


#: Distance (inches) from a metrics panel's bottom edge to the top of its x label: below the tick marks, their
#: pad and one line of tick labels, plus matplotlib's label pad (where its automatic placement puts it).
LABEL_DROP = 0.29
_FIGURES: dict[tuple[int, bool], Any] = {}
_FIGURES_LOCK = threading.Lock()


#: The metrics plot: panels of ``PANEL`` inches in rows of at most ``COLUMNS``; margins and gaps in inches.
PANEL = (4.0, 3.0)
COLUMNS = 3
GAP = (0.9, 0.95)


def grid(count: int) -> tuple[int, int]:
    """``(rows, columns)`` of a metrics plot of ``count`` panels (at most :data:`COLUMNS` a row)."""
    cols = max(1, min(count, COLUMNS))
    return -(-count // cols), cols


def _metrics_figure(count: int, titled: bool) -> tuple[Any, list[Any], list[Any], Any]:
    """The process's figure of ``count`` metric panels in a :func:`grid` (with room for a suptitle when
    ``titled``), built once: ``(figure, axes, one line per axes, suptitle text or None)``. Sweeps draw a plot per
    run, and building the figure, its axes and their ticks is half of drawing one; every call sets all that
    varies."""
    key = (count, titled)
    if key not in _FIGURES:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.transforms import ScaledTranslation

        rows, cols = grid(count)
        left, right, bottom, top = 0.75, 0.2, 0.5, (0.75 if titled else 0.35)
        width, height = PANEL[0] * cols, PANEL[1] * rows + top - 0.35
        fig = Figure(figsize=(width, height))  # not pyplot's: nothing else can close it
        FigureCanvasAgg(fig)
        cells = fig.subplots(rows, cols, squeeze=False).flat
        axes = list(cells)[:count]
        for ax in list(fig.axes)[count:]:
            ax.set_visible(False)
        # fixed margins in inches instead of a tight layout, which draws the figure once more: room for log-scale
        # tick labels, titles, x labels between rows and a suptitle
        ax_w = (width - left - right - (cols - 1) * GAP[0]) / cols
        ax_h = (height - bottom - top - (rows - 1) * GAP[1]) / rows
        fig.subplots_adjust(
            left=left / width,
            right=1 - right / width,
            bottom=bottom / height,
            top=1 - top / height,
            wspace=GAP[0] / ax_w,
            hspace=GAP[1] / ax_h,
        )
        lines = []
        # fixed label and title positions: placing them automatically measures every tick label at every draw
        drop = ScaledTranslation(0, -LABEL_DROP, fig.dpi_scale_trans)
        for ax in axes:
            lines.append(ax.plot([], [])[0])
            ax.grid(alpha=0.3)
            ax.xaxis.set_label_coords(0.5, 0.0, transform=ax.transAxes + drop)
            ax.yaxis.set_label_coords(0.0, 0.5)  # the y label stays empty: nothing to place
        _FIGURES[key] = fig, axes, lines, (fig.suptitle("") if titled else None)
    return _FIGURES[key]


#: A metric whose finite values all lie within this of zero is numerically zero (a consensus of 1e-33 when every
#: node holds the same model): its panel would show nothing.
NUMERICAL_ZERO = 1e-15


def informative(rows: Sequence[dict[str, Any]], name: str) -> bool:
    """Whether metric ``name`` carries information over ``rows``: some finite value, not all equal (a counter
    flat at 0), not all numerically zero."""
    values = np.array([r.get(name, np.nan) for r in rows], dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return False
    return bool(np.ptp(finite) > 0 and np.abs(finite).max() > NUMERICAL_ZERO) or finite.size == 1


def plot_metrics(
    rows: Sequence[dict[str, Any]],
    path: Path,
    title: str = "",
    x: str = "step",
    xlabel: str = "step",
    skip: Sequence[str] = (),
) -> list[str]:
    """One panel per metric that carries information (:func:`informative`) against ``x`` (the step, or an
    asynchronous run's simulated ``time``), in a grid of readable panels (:func:`grid`), log scale where all
    values are positive; ``skip``: further keys that are not metrics. Returns the metrics drawn.

    The figure is the process's one for this number of panels (:func:`_metrics_figure`), redrawn with these
    rows: the PNG is the same bytes as one drawn on a fresh figure (tests/core/test_plots.py). It is written
    atomically."""
    skip = {*BOOKKEEPING, x, *skip}
    names = [k for k in (rows[0] if rows else {}) if k not in skip and informative(rows, k)]
    if not names:
        return []
    steps = [r[x] for r in rows]
    with _FIGURES_LOCK:
        fig, axes, lines, suptitle = _metrics_figure(len(names), bool(title))
        for ax, line, name in zip(axes, lines, names):
            values = np.array([r.get(name, np.nan) for r in rows], dtype=float)
            ax.set_yscale("log" if np.all(values[np.isfinite(values)] > 0) else "linear")
            line.set_data(steps, values)
            ax.relim()
            ax.autoscale_view()
            ax.set_xlabel(xlabel)
            ax.set_title(name, y=1.0)
        if suptitle is not None:
            suptitle.set_text(title)
        write_figure(fig, path, dpi=110)
    return names


#: Axis labels of the keys a metrics line offers as a horizontal axis.
AXES = {
    "step": "step",
    "sim_time": "simulated time (s)",
    "bytes_per_node": "bytes sent per node",
    "wall_time_s": "wall-clock time (s)",
}


def plot_bands(
    curves: dict[str, list[list[dict[str, Any]]]],
    metric: str,
    path: Path,
    title: str = "",
    log: bool = True,
    x: str = "step",
) -> list[dict[str, Any]]:
    """Mean over seeds with a min–max band, one line per label; ``curves[label]`` is a list of runs' rows.

    ``x`` is the horizontal axis: ``step``, or any key every row has, such as ``sim_time`` (the simulated
    seconds, :mod:`tailtamer.cluster`), which puts runs of different families on one clock, or
    ``bytes_per_node``; the k-th point of a curve sits at the mean over its seeds of their k-th ``x``.
    Labels holding numbers are drawn and listed in numeric order; each curve has its own line style and
    marker, so curves that coincide stay visible. Returns each curve's label and style, in legend order.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    order = legend_order(list(curves))
    drawn = []
    for i, label in enumerate(order):
        runs = curves[label]
        length = min(len(rows) for rows in runs)
        steps = np.array([[r.get(x, np.nan) for r in rows[:length]] for rows in runs], dtype=float).mean(axis=0)
        vals = np.array([[r.get(metric, np.nan) for r in rows[:length]] for rows in runs], dtype=float)
        mean = np.nanmean(vals, axis=0)
        st = style(i, len(order))
        ax.plot(steps, mean, label=label, **st)
        drawn.append({"label": label, **st})
        if len(runs) > 1:
            ax.fill_between(steps, np.nanmin(vals, axis=0), np.nanmax(vals, axis=0), alpha=0.2)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(AXES.get(x, x))
    ax.set_ylabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, path, dpi=110)
    return drawn
