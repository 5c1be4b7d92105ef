"""The cross-family study (issue 28 item 4; docs/crossfamily.md): declared like the others, every method on one
simulated clock, its time-to-target table read from the runs' own ``sim_time`` lines, its words computed from
the table."""

from __future__ import annotations

import itertools
import json
import math
import re
import statistics
from pathlib import Path

import pytest

from tailtamer.algorithms import ALGORITHMS
from tailtamer.experiments import studies, study
from tailtamer.experiments.studies import crossfamily as cf
from tailtamer.experiments.studies.crossfamily.jobs import cluster_for
from tailtamer.experiments.studies.crossfamily.outcomes import Outcome, Reach, reach
from tailtamer.experiments.studies.crossfamily.recommend import changes, ranking, recommendation, scores
from tailtamer.experiments.sweep import unfinished


def _lines(folder: Path) -> list[dict]:
    return [json.loads(x) for x in (folder / "metrics.jsonl").read_text().splitlines() if x.strip()]


def _first_time(rows: list[dict], metric: str, fraction: float, horizon: float) -> float:
    """Independently of the study's code: the first sim_time whose metric is ≤ fraction × its step-0 value."""
    level = fraction * rows[0][metric]
    return next((r["sim_time"] for r in rows if r["sim_time"] <= horizon and r[metric] <= level), math.inf)


def test_the_studies_are_registered_and_name_registered_methods():
    names = studies.studies()
    assert {"crossfamily", "crossfamily-smoke"} <= set(names)
    r = cf.CPU
    assert r.n == 16 and set(r.clusters) == {"datacenter", "cross-region", "edge"}
    assert {w.label for w in r.workloads.values()} == {"ls ν=1.5", "ls ν=2.5", "digits CNN"}
    assert len(r.methods) == 13
    for m in r.methods.values():
        assert m.algorithm["name"] in ALGORITHMS
    topologies = {m.label: m.topology for m in r.methods.values()}
    assert topologies["gt-nsgdm ring"] == "ring" and topologies["gt-nsgdm exp"] == "exponential"
    local = {k: m.algorithm.get("local_steps") for k, m in r.methods.items() if k.startswith(("bi2clip", "fedavg"))}
    assert set(local.values()) == {1, 8} and len(local) == 4
    assert r.methods["ef21 top-k"].compression["name"] == "top-k"


def test_time_to_target_is_the_first_sim_time_at_the_target_within_the_horizon():
    gap = cf.Target("gap", fraction=0.2)
    rows = [
        {"sim_time": 0.0, "gap": 1.0, "bytes_per_node": 0},
        {"sim_time": 1.0, "gap": 0.5, "bytes_per_node": 10},
        {"sim_time": 2.0, "gap": 0.2, "bytes_per_node": 20},
        {"sim_time": 3.0, "gap": 0.1, "bytes_per_node": 30},
    ]
    assert reach(rows, gap, 10.0, "gap") == Reach(2.0, 20.0, 0.1, False)
    assert math.isinf(reach(rows, gap, 1.5, "gap").time)  # reached only after the horizon
    acc = cf.Target("val_acc", higher=True, value=0.9)
    assert reach([{"sim_time": 0, "val_acc": 0.1}, {"sim_time": 4, "val_acc": 0.91}], acc, 9, "val_acc").time == 4
    assert math.isinf(reach([{"sim_time": 0, "gap": 1.0}, {"sim_time": 1, "gap": math.nan}], gap, 9, "gap").time)
    with pytest.raises(Exception, match="exactly one"):
        cf.Target("gap")


def _outcome(*times: float) -> Outcome:
    return Outcome(tuple(Reach(t, 1.0, 0.1, False) for t in times))


def test_the_words_are_computed_from_the_table():
    r = cf.SMOKE
    methods = list(r.methods)
    table = {}
    for c in r.clusters:
        for i, m in enumerate(methods):
            t = (i + 1.0) if c == "datacenter" else (len(methods) - i + 0.5)
            table[("ls-t1.5", c, m)] = _outcome(t, t)
    table[("ls-t1.5", "edge", methods[-2])] = _outcome(math.inf, math.inf)
    order = ranking(r, table, "ls-t1.5", "datacenter")
    assert [m for m, _ in order] == methods
    text = recommendation(r, table, "datacenter")
    assert f"Recommended on datacenter: **{methods[0]}**" in text and f"next {methods[1]} at 2 s (2.00×)" in text
    edge = recommendation(r, table, "edge")
    assert f"**{methods[-1]}**" in edge and f"Never reached a target here: {methods[-2]}" in edge
    assert scores(r, table, "edge")[-1].method == methods[-2]
    moved = changes(r, table)
    assert moved.startswith("The fastest method changes between clusters on ls ν=1.5")
    assert f"datacenter: {methods[0]} (1 s)" in moved and f"edge: {methods[-1]} (1.5 s)" in moved


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """``tailtamer study crossfamily-smoke --tune`` into a fresh folder (seconds)."""
    root = tmp_path_factory.mktemp("crossfamily-smoke")
    s = studies.get("crossfamily-smoke")
    text = study.run_study(s, root, tune=True, workers=1, log=lambda m: None)
    return s, root, text


def test_the_smoke_study_runs_every_method_on_its_horizon_and_resumes(smoke):
    s, root, text = smoke
    tuned = json.loads((root / "tuned.json").read_text())
    assert set(tuned) == {"ls-t1.5/datacenter", "ls-t1.5/edge"}
    assert not unfinished(s.runs(root, tuned))  # a second call has nothing left to run
    for folder, cfg in s.runs(root, tuned):
        horizon = cf.SMOKE.workloads["ls-t1.5"].horizons[cfg["cluster"]["name"]]
        rows = _lines(Path(folder))
        assert rows[0]["sim_time"] == 0 and all(a["sim_time"] <= b["sim_time"] for a, b in itertools.pairwise(rows))
        if "time" in cfg["run"]:  # event-driven: stops at the horizon
            assert rows[-1]["sim_time"] <= horizon
        else:  # lockstep: enough steps to reach the horizon, and not one more
            per_step = rows[-1]["sim_time"] / rows[-1]["step"]
            assert rows[-1]["sim_time"] >= horizon - 1e-9 > rows[-1]["sim_time"] - per_step - 1e-9
    assert (root / "crossfamily-smoke_time_bytes.png").exists()
    assert text.count("### Time to target on ") == 2


def test_the_table_shows_the_first_sim_time_at_the_target_in_metrics_jsonl(smoke):
    _, root, text = smoke
    tuned = json.loads((root / "tuned.json").read_text())
    w = cf.SMOKE.workloads["ls-t1.5"]
    reached = 0
    for c in cf.SMOKE.clusters:
        section = text.split(f"### Time to target on {c}")[1].split("###")[0]
        for m in cf.SMOKE.methods:
            p = cf.jobs.point_of(cf.SMOKE, tuned, "ls-t1.5", c, m)
            seeds = sorted(cf.jobs.folder(root, "main", "ls-t1.5", c, m, p).glob("seed*"))
            times = [_first_time(_lines(f), "gap", w.target.fraction, w.horizons[c]) for f in seeds]
            median = statistics.median(times)
            reached += math.isfinite(median)
            cell = re.search(rf"^\| {re.escape(m)} \| [^|]+ \| ([^|]+) \|$", section, re.M).group(1).strip()
            assert cell.split(" (")[0].split(" [")[0] == ("—" if math.isinf(median) else f"{median:.3g} s"), (c, m)
        assert f"Recommended on {c}" in section or "No method reached any target" in section
    assert reached >= 4  # the comparison is not vacuous: most cells hold a time


def test_server_methods_average_through_the_parameter_server_unless_the_cluster_says(tmp_path):
    assert cluster_for({"name": "edge"}, "server") == {"name": "edge", "reduce": "server"}
    assert cluster_for({"name": "edge"}, "ring") == {"name": "edge"}
    assert cluster_for({"name": "edge", "reduce": "ring"}, "server") == {"name": "edge", "reduce": "ring"}
    mine = tmp_path / "mine.toml"
    mine.write_text('[cluster]\nname = "custom"\nlatency = 0.001\nbandwidth = 1e9\n')
    expanded = cluster_for({"name": "file", "path": str(mine)}, "server")
    assert expanded["name"] == "custom" and expanded["latency"] == 0.001 and expanded["reduce"] == "server"
    mine.write_text('[cluster]\nname = "custom"\nlatency = 0.001\nbandwidth = 1e9\nreduce = "ring"\n')
    assert cluster_for({"name": "file", "path": str(mine)}, "server") == {"name": "file", "path": str(mine)}


def test_the_recorded_winners_cover_every_setting_and_method():
    """``tailtamer study crossfamily`` without --tune reruns the runs docs/crossfamily.md reports."""
    assert set(cf.TUNED) == {f"{w}/{c}" for w, c in cf.CPU.settings()}
    assert all(set(v) == set(cf.CPU.methods) for v in cf.TUNED.values())
