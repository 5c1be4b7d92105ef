"""Per-run metric plots: a process draws them all on one reused figure per panel count, and a reused figure
leaves no trace of the plot drawn on it before (the PNG is the same bytes as one drawn on a fresh figure)."""

from __future__ import annotations

import math

import pytest

pytest.importorskip("matplotlib")

from tailtamer.rundir import plots


def _rows(scale: float, steps: int = 31, negative: bool = False) -> list[dict[str, float]]:
    rows = []
    for i in range(steps):
        t = 100 * i
        rows.append(
            {
                "step": t,
                "wall_time_s": 0.01 * i,
                "loss": scale * math.exp(-i / 5) + 1e-3,
                "grad_norm": scale / (1 + i) * (-1 if negative and i % 3 == 0 else 1),
                "consensus": math.nan if i == 4 else scale * i,
            }
        )
    return rows


def _fresh(rows, path, **kw) -> bytes:
    plots._FIGURES.clear()
    plots.plot_metrics(rows, path, **kw)
    return path.read_bytes()


def test_a_reused_figure_draws_the_same_png_as_a_fresh_one(tmp_path):
    """Plot B after A (other scales, a panel switching from log to linear, NaN) and after a plot of another
    panel count: the bytes equal B drawn first on a fresh figure."""
    a, b = _rows(1e4), _rows(0.3, steps=12, negative=True)
    want = _fresh(b, tmp_path / "fresh.png", title="run B")
    plots._FIGURES.clear()
    plots.plot_metrics(a, tmp_path / "a.png", title="run A, a longer title")
    plots.plot_metrics([{k: v for k, v in r.items() if k != "consensus"} for r in a], tmp_path / "a3.png")
    plots.plot_metrics(b, tmp_path / "b.png", title="run B")
    assert (tmp_path / "b.png").read_bytes() == want
    assert (tmp_path / "a.png").read_bytes() != want  # the comparison can fail
    assert set(plots._FIGURES) == {(3, True), (2, False)}  # B reused the figure A was drawn on


def test_a_panel_is_log_scale_only_where_every_finite_value_is_positive(tmp_path):
    plots._FIGURES.clear()
    plots.plot_metrics(_rows(1.0, negative=True), tmp_path / "m.png", title="t")
    _, axes, _, suptitle = plots._FIGURES[(3, True)]
    assert [ax.get_title() for ax in axes] == ["loss", "grad_norm", "consensus"]
    assert [ax.get_yscale() for ax in axes] == ["log", "linear", "linear"]  # consensus starts at 0
    assert suptitle.get_text() == "t"
    plots.plot_metrics(_rows(1.0), tmp_path / "m.png", title="u")
    assert [ax.get_yscale() for ax in axes] == ["log", "log", "linear"]


def test_no_metric_columns_draw_nothing(tmp_path):
    plots.plot_metrics([{"step": 0, "wall_time_s": 0.0}], tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def _wide_rows(steps: int = 20) -> list[dict[str, float]]:
    """15 metrics like an asynchronous run's: 12 that move, a consensus at 1e-33 and two counters flat at 0."""
    rows = []
    for i in range(steps):
        row = {"step": i, "wall_time_s": 0.1 * i}
        row.update({f"m{j}": (j + 1) * math.exp(-i / (j + 2)) for j in range(12)})
        row.update({"consensus": 1e-33 * (1 + i % 2), "dropped": 0, "cancelled": 0})
        rows.append(row)
    return rows


def test_the_metrics_plot_is_a_grid_of_readable_panels_without_empty_ones(tmp_path):
    """Issue 25, item 7: a run of 15 metrics was a 5280 × 352 strip; panels of nothing are left out."""
    import matplotlib.image

    plots._FIGURES.clear()
    drawn = plots.plot_metrics(_wide_rows(), tmp_path / "m.png", title="t")
    assert drawn == [f"m{j}" for j in range(12)]  # no consensus at 1e-33, no flat counters
    h, w = matplotlib.image.imread(tmp_path / "m.png").shape[:2]
    assert w <= plots.COLUMNS * plots.PANEL[0] * 110 + 1 and h >= 0.5 * w, (w, h)  # rows of panels, not a strip
    assert plots.grid(12) == (4, 3) and plots.grid(2) == (1, 2)


def test_the_metrics_plot_is_written_atomically(tmp_path, monkeypatch):
    """A full disk while the PNG is written leaves the previous file whole and no temporary file (issue 25, item
    3: a truncated metrics.png stayed under a summary saying "finished")."""
    import errno

    from tailtamer.errors import StorageError

    path = tmp_path / "metrics.png"
    plots._FIGURES.clear()
    plots.plot_metrics(_rows(1.0), path)
    before = path.read_bytes()
    fig = plots._metrics_figure(3, False)[0]

    def full_disk(f, **kw):
        f.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fig, "savefig", full_disk)
    with pytest.raises(StorageError, match="disk is full"):
        plots.plot_metrics(_rows(2.0), path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["metrics.png"]
