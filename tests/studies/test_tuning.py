"""Edge-growing grid search (experiments/tuning.py), the sweep's guard against stale run folders, and the
TailOPT recipe's tuning on a tiny budget."""

from __future__ import annotations

import json
import math

import pytest

from tailtamer.errors import ConfigError
from tailtamer.experiments import tuning
from tailtamer.experiments.sweep import run_sweep
from tailtamer.experiments.tuning import Search, edge_sides, extend, grid_points, run_searches


def test_grid_points_is_the_product_in_axis_order():
    pts = grid_points({"lr": (0.1, 0.2), "u": (1.0, 2.0, 3.0)})
    assert len(pts) == 6 and pts[0] == {"lr": 0.1, "u": 1.0} and pts[1] == {"lr": 0.1, "u": 2.0}
    assert pts[-1] == {"lr": 0.2, "u": 3.0}


def test_extend_continues_the_geometric_step():
    assert extend((0.003, 0.01, 0.03), +1) == (0.003, 0.01, 0.03, 0.09)
    assert extend((0.003, 0.01, 0.03), -1) == (0.0009, 0.003, 0.01, 0.03)
    assert extend((1.0, 5.0), +1) == (1.0, 5.0, 25.0)
    assert extend((0.8, 0.9, 0.95), +1, (0.0, 1.0)) == (0.8, 0.9, 0.95, 0.975)  # 1.003 would leave (0, 1)
    assert extend((0.8, 0.9, 0.95), -1, (0.0, 1.0)) == (0.7111, 0.8, 0.9, 0.95)
    with pytest.raises(ValueError, match="grows geometrically"):
        extend((0.1,), +1)
    with pytest.raises(ValueError, match="grows geometrically"):
        extend((0.0, 1.0), -1)


def test_edge_sides():
    axes = {"lr": (0.1, 0.3, 1.0), "u": (1.0, 5.0), "fixed": (2.0,)}
    assert edge_sides(axes, {"lr": 0.3, "u": 1.0, "fixed": 2.0}) == [("u", -1)]
    assert edge_sides(axes, {"lr": 1.0, "u": 5.0, "fixed": 2.0}) == [("lr", 1), ("u", 1)]
    assert edge_sides(axes, {"lr": 0.3, "u": 5.0, "fixed": 2.0}) == [("u", 1)]


def _drive(search: Search, f) -> int:
    rounds = 0
    while not search.done:
        search.update([f(p) for p in search.points()])
        rounds += 1
    return rounds


def test_search_walks_past_the_edge_to_an_interior_optimum():
    """Optimum at lr = 3e-4, below the starting grid 3e-3 … 3e-2: the axis grows down to 8.1e-5, and the
    winner 2.7e-4 is interior."""
    s = Search({"lr": (0.003, 0.01, 0.03)}, max_extensions=3)
    rounds = _drive(s, lambda p: (math.log10(p["lr"]) - math.log10(3e-4)) ** 2)
    assert s.best == {"lr": 0.00027} and s.at_edge == [] and rounds == 4
    assert s.axes["lr"] == (8.1e-05, 0.00027, 0.0009, 0.003, 0.01, 0.03)


def test_search_reports_an_edge_it_could_not_leave():
    s = Search({"lr": (0.01, 0.1), "u": (1.0, 2.0, 4.0)}, max_extensions=2)
    _drive(s, lambda p: p["lr"] + (p["u"] - 2.0) ** 2)  # lr wants 0, u = 2 is interior
    assert s.best["u"] == 2.0 and s.best["lr"] == pytest.approx(1e-4)
    assert s.at_edge == [("lr", -1)] and len(s.axes["lr"]) == 4 and s.axes["u"] == (1.0, 2.0, 4.0)
    assert s.record()["at_edge"] == ["lr low"]


def test_search_stops_when_everything_diverges():
    s = Search({"lr": (0.1, 1.0)})
    assert s.update([math.nan, math.inf]) is False and s.done and s.at_edge == []
    assert s.axes["lr"] == (0.1, 1.0)


def test_run_searches_evaluates_only_live_searches_each_round():
    searches = {"a": Search({"x": (1.0, 2.0, 4.0)}), "b": Search({"x": (1.0, 2.0, 4.0)})}
    calls = []

    def evaluate(points):
        calls.append(sorted(points))
        return {k: [abs(p["x"] - (2.0 if k == "a" else 16.0)) for p in pts] for k, pts in points.items()}

    run_searches(searches, evaluate)
    assert calls[0] == ["a", "b"] and all(c == ["b"] for c in calls[1:])
    assert searches["a"].best == {"x": 2.0} and searches["b"].best == {"x": 16.0}


# ---- the sweep never takes a stale folder for a job's result -----------------------------------------

TINY = {
    "problem": {"name": "quadratic", "dim": 3},
    "algorithm": {"name": "dsgd", "lr": 0.1},
    "topology": {"name": "ring", "n": 4},
    "noise": {"name": "none"},
    "run": {"steps": 3, "eval_every": 3},
}


def test_sweep_skips_a_finished_identical_run_and_refuses_a_different_one(tmp_path):
    folder = tmp_path / "run"
    run_sweep([(folder, TINY)], workers=1)
    stamp = (folder / "summary.json").stat().st_mtime_ns
    run_sweep([(folder, TINY)], workers=1)
    assert (folder / "summary.json").stat().st_mtime_ns == stamp  # skipped, not rerun
    other = {**TINY, "algorithm": {"name": "dsgd", "lr": 0.2}}
    with pytest.raises(ConfigError, match="different config"):
        run_sweep([(tmp_path / "fresh", TINY), (folder, other)], workers=1)
    assert not (tmp_path / "fresh").exists()  # refused before anything ran


# ---- the TailOPT recipe's tuning, on a tiny budget -----------------------------------------------------


def test_tailopt_tune_grows_and_records(tmp_path, monkeypatch):
    from tailtamer.experiments.report import load_runs
    from tailtamer.experiments.studies.tailopt_local_updates import recipe as tailopt

    monkeypatch.setattr(tailopt, "ROUNDS", 4)
    monkeypatch.setattr(tailopt, "METHODS", ("fedavg",))
    monkeypatch.setattr(tailopt, "AXES", {"fedavg": {"lr": (0.001, 0.002)}})  # far too small a step
    monkeypatch.setattr(tailopt, "MAX_EXTENSIONS", 1)
    tuned = tailopt.tune(tmp_path, tasks=("logistic",), noises=("student-t",), log=lambda *_: None)
    rec = json.loads((tmp_path / "tuning.json").read_text())["logistic/student-t/fedavg"]
    assert rec["axes"]["lr"] == [0.001, 0.002, 0.004]  # grew once, upwards
    assert rec["best"] == {"lr": 0.004} and rec["at_edge"] == ["lr high"]  # and says it is still on the edge
    assert tuned == {"logistic/student-t": {"fedavg": {"lr": 0.004}}}
    scores = {
        lr: sum(
            r.summary["metrics"]["loss"]
            for r in load_runs([tmp_path / "tune" / "logistic" / "student-t" / "fedavg" / f"lr={lr:.4g}"])
        )
        / 2
        for lr in rec["axes"]["lr"]
    }
    assert rec["score"] == min(scores.values()) == scores[0.004]


def test_e1_tune_keeps_momentum_inside_its_range(tmp_path, monkeypatch):
    """E1's search grows β towards 1 by halving the gap (β stays in (0, 1)) and records the searches."""
    from tailtamer.experiments.studies.gt_nsgdm_heavy_tails import recipe as e1

    real_config = e1.variant_config
    monkeypatch.setattr(e1, "variant_config", lambda m, p, noise, s: real_config(m, p, noise, s, steps=20))
    monkeypatch.setattr(e1, "ROWS", ("gt-nsgdm",))
    monkeypatch.setattr(e1, "GRID", {"gt-nsgdm": {"lr": [0.05], "beta": [0.9, 0.95]}})
    monkeypatch.setattr(e1, "MAX_EXTENSIONS", 1)
    tuned = e1.tune(tmp_path, workers=1)
    rec = json.loads((tmp_path / "tuning.json").read_text())["gt-nsgdm"]
    assert all(0 < b < 1 for b in rec["axes"]["beta"]) and len(rec["axes"]["beta"]) == 3
    assert rec["axes"]["beta"] in ([0.8526, 0.9, 0.95], [0.9, 0.95, 0.975])
    assert tuned["gt-nsgdm"] == rec["best"] and rec["best"]["lr"] == 0.05
    assert rec["score"] == min(
        tuning.mean_final(tmp_path / "tune" / "gt-nsgdm" / f"lr=0.05,beta={b:g}", "dist_to_opt")
        for b in rec["axes"]["beta"]
    )
