"""``tailtamer advise CONFIG --cluster PRESET|FILE`` (issue 28 item 5): the cost stated before anything runs,
the ranking sorted by the time to target the runs' own ``metrics.jsonl`` give, a resumed advise reruns nothing
finished, and bad input is refused in one line."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tailtamer.cli.main import main
from tailtamer.config import load_toml

CONFIG = """
[problem]
name = "least-squares"
dim = 10
samples = 100
batch = 8
[algorithm]
name = "dsgd"
lr = 0.05
[topology]
name = "ring"
n = 4
[noise]
name = "student-t"
df = 2.5
scale = 0.1
[run]
steps = 150
seed = 3
"""
METHODS = "gt-nsgdm ring,fedavg H=8,clipped-asgd,ef21 top-k"


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "mine.toml"
    path.write_text(CONFIG)
    return path


def _advise(config: Path, out: Path, *extra: str) -> int:
    args = ["--cluster", "edge", "--out", str(out), "--methods", METHODS, "--workers", "1", *extra]
    return main(["advise", str(config), *args])


def _ranking(text: str) -> list[tuple[str, str]]:
    """``(method, time cell)`` of the printed ranking, in its order."""
    rows = re.findall(r"^\|?\s*\d+\s*\|\s*([^|]+?)\s*\|\s*[^|]+?\s*\|\s*([^|]+?)\s*\|", text, re.M)
    return [(m, t) for m, t in rows]


def _first_time(folder: Path, horizon: float, fraction: float = 0.2) -> float:
    """The first sim_time within the horizon at which the gap is ≤ fraction × its step-0 value (∞: never)."""
    rows = [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines() if x.strip()]
    level = fraction * rows[0]["gap"]
    return next((r["sim_time"] for r in rows if r["sim_time"] <= horizon and r["gap"] <= level), math.inf)


def _summaries(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in out.rglob("summary.json")}


def test_advise_states_its_cost_ranks_by_time_to_target_and_resumes(config, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "advice"
    assert _advise(config, out) == 0
    text = capsys.readouterr().out
    cost_at, table_at = text.index("advise: 4 methods × 3 step sizes × 1 seed = 12 runs"), text.index("time to target")
    assert cost_at < table_at
    assert re.search(r"gt-nsgdm ring: \d+ steps", text) and re.search(r"fedavg H=8: \d+ rounds", text)
    assert re.search(r"clipped-asgd: about \d+ server updates", text)
    ranked = _ranking(text)
    assert [m for m, _ in ranked] and sorted(m for m, _ in ranked) == sorted(METHODS.split(","))
    tuned = json.loads((out / "tuned.json").read_text())

    def folder(method: str) -> Path:
        label = ",".join(f"{k}={v:.4g}" for k, v in tuned["yours/edge"][method].items())
        return out / "tune" / "yours" / "edge" / method.replace(" ", "-").replace("=", "") / label / "seed3"

    horizon = load_toml(folder("clipped-asgd") / "config.toml")["run"]["time"]  # every method's horizon
    times = []
    for method, cell in ranked:
        t = _first_time(folder(method), horizon)
        assert cell == ("—" if math.isinf(t) else f"{t:.3g} s"), method
        times.append(t)
    assert times == sorted(times)  # the ranking is sorted by the time to target the metrics give
    assert sum(map(math.isfinite, times)) >= 2  # and it is not vacuous: several methods reached the target

    before = _summaries(out)
    assert _advise(config, out) == 0  # resumed: nothing left to run
    assert _summaries(out) == before
    assert _ranking(capsys.readouterr().out) == ranked

    gone = next(iter(before)).parent  # an interrupted advise: one run's folder lost
    for f in gone.iterdir():
        f.unlink()
    gone.rmdir()
    assert _advise(config, out) == 0
    after = _summaries(out)
    assert set(after) == set(before)
    changed = [p for p in after if after[p] != before[p]]
    assert changed == [gone / "summary.json"]


def test_dry_run_states_the_cost_and_runs_nothing(config, tmp_path, capsys):
    out = tmp_path / "dry"
    assert _advise(config, out, "--dry-run") == 0
    assert "12 runs" in capsys.readouterr().out and not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--cluster", "datacentre"], "unknown cluster preset 'datacentre' (did you mean 'datacenter'?)"),
        (["--cluster", "nowhere.toml"], "[cluster] file 'nowhere.toml' not found"),
        (["--cluster", "edge", "--methods", "fedavg H=2"], "unknown method 'fedavg H=2'"),
        (["--cluster", "edge", "--horizon", "-1"], "--horizon must be a positive number"),
        (["--cluster", "edge", "--fraction", "1.5"], "target fraction must be in (0, 1)"),
    ],
)
def test_bad_input_is_refused_in_one_line_before_anything_runs(config, tmp_path, capsys, args, message):
    out = tmp_path / "bad"
    assert main(["advise", str(config), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not out.exists()
