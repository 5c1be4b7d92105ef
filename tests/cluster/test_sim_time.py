"""Every family's metrics carry ``sim_time`` (issue 28, item 2), and it is the cluster model's time.

Each test recomputes the simulated time independently of the clock, from the closed form of the pattern the
method uses and the bytes its run folder records, and checks resume and stacked sweeps keep it exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import SMALL, one_line_error
from tailtamer.cli.main import main
from tailtamer.cli.report_cmd import curves
from tailtamer.config import tomllib
from tailtamer.experiments.report import load_runs
from tailtamer.experiments.runner import run_config
from tailtamer.experiments.stacked import run_stacked
from tailtamer.testing.interrupt import StopAt

LOCAL = """
[problem]
name = "quadratic"
dim = 20
[algorithm]
name = "fedavg"
local_steps = 5
lr = 0.003
[topology]
name = "server"
n = 8
[noise]
name = "student-t"
df = 1.5
[run]
steps = 12
eval_every = 4
"""

COMPRESSED = """
[problem]
name = "quartic"
dim = 50
[algorithm]
name = "ef21"
lr = 0.05
[topology]
name = "server"
n = 8
[noise]
name = "student-t"
df = 2.5
[compression]
name = "top-k"
fraction = 0.1
[run]
steps = 10
eval_every = 5
"""

ASYNC = """
[problem]
name = "quadratic"
dim = 200
[algorithm]
name = "asgd"
lr = 0.01
[topology]
name = "server"
n = 4
[noise]
name = "student-t"
df = 2.5
[run]
steps = 40
eval_every = 10
checkpoint_every = 10
"""


def cfg(text: str, **sections: dict) -> dict:
    out = tomllib.loads(text)
    out.update(sections)
    return out


def rows(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def run(config: dict, folder: Path, **kw) -> dict:
    return run_config(config, folder, progress=False, plot=False, **kw)


def test_without_a_cluster_lockstep_time_counts_gradient_computations(tmp_path):
    run(cfg(SMALL), tmp_path / "gt")
    assert all(r["sim_time"] == r["step"] for r in rows(tmp_path / "gt"))
    run(cfg(LOCAL), tmp_path / "fedavg")  # a round is H = 5 local steps
    assert all(r["sim_time"] == 5 * r["step"] for r in rows(tmp_path / "fedavg"))


def test_without_a_cluster_asynchronous_time_is_the_event_engines_clock(tmp_path):
    run(cfg(ASYNC), tmp_path / "a")
    lines = rows(tmp_path / "a")
    assert lines[-1]["sim_time"] > 0 and all(r["sim_time"] == r["time"] for r in lines)


def test_gossip_steps_cost_the_slowest_compute_plus_each_mix(tmp_path):
    run(cfg(SMALL, cluster={"name": "datacenter"}), tmp_path / "gt")
    summary = json.loads((tmp_path / "gt" / "summary.json").read_text())
    comm, steps = summary["comm"], summary["steps"]
    b = comm["bytes"] / comm["messages"]  # one dense row per message
    per_mix = 1e-5 + 2 * b * 8 / 100e9  # a ring: each node sends to 2 and receives from 2 at once
    expected = steps * 0.01 + comm["mixes"] * per_mix
    assert summary["sim_time"] == pytest.approx(expected, rel=1e-12)
    assert rows(tmp_path / "gt")[-1]["sim_time"] == summary["sim_time"]


def test_a_local_update_round_is_h_local_steps_then_one_synchronisation(tmp_path):
    run(cfg(LOCAL, cluster={"name": "edge"}), tmp_path / "f")
    summary = json.loads((tmp_path / "f" / "summary.json").read_text())
    b = 20 * 8  # one float64 row of dimension 20
    sync = 2 * 7 / 8 * b * 8 / 100e6 + 2 * 7 * 0.02  # one ring all-reduce of the 8 clients' rows
    round_time = 5 * 0.5 + sync  # the straggler's five local steps
    assert summary["sim_time"] == pytest.approx(12 * round_time, rel=1e-12)


def test_compressed_messages_cost_their_packets_bytes(tmp_path):
    run(cfg(COMPRESSED, cluster={"name": "cross-region", "reduce": "server"}), tmp_path / "ef21")
    summary = json.loads((tmp_path / "ef21" / "summary.json").read_text())
    comm, steps, n = summary["comm"], summary["steps"], 8
    packet = comm["bytes"] / comm["messages"]
    dense = 50 * 8
    assert packet < dense  # top-10%: indices and values
    beta, alpha = 8 / 1e9, 0.05
    mean = (alpha + n * packet * beta) + (alpha + n * min(dense, n * packet) * beta)
    assert summary["sim_time"] == pytest.approx(steps * 0.01 + comm["means"] * mean, rel=1e-12)


def test_asynchronous_messages_queue_on_the_server_link(tmp_path):
    slow = {
        "name": "custom",
        "latency": 0.0,
        "bandwidth": 8e4,
        "fabric": "shared",
        "compute": {"name": "fixed", "times": 1e-3},
    }
    run(cfg(ASYNC, cluster=slow), tmp_path / "a")
    last = rows(tmp_path / "a")[-1]
    transfer = 200 * 8 * 8 / 8e4  # one float64 model or gradient: 0.16 s on the shared medium
    # every update needs one upload and, for the next job, one download, one at a time on the medium
    assert last["sim_time"] >= 2 * transfer * (last["step"] - 1)
    assert last["sim_time"] <= 2 * transfer * (last["step"] + 4) + 1e-3 * (last["step"] + 4)


@pytest.mark.parametrize("text", [SMALL.replace("seed = 3", "checkpoint_every = 20\nseed = 3"), ASYNC])
def test_a_resumed_run_has_the_uninterrupted_runs_simulated_times(tmp_path, text):
    edge = {"name": "edge", "compute": {"name": "sqrt", "jitter": 0.3, "scale": 0.01}}
    config = cfg(text, cluster=edge)
    run(config, tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run(config, tmp_path / "cut", callbacks=[StopAt(30)])
    run(None, tmp_path / "cut", resume="strict")
    whole, cut = rows(tmp_path / "whole"), rows(tmp_path / "cut")
    assert [r["sim_time"] for r in cut] == [r["sim_time"] for r in whole]
    assert [r["step"] for r in cut] == [r["step"] for r in whole]


def test_stacked_members_keep_their_own_clocks(tmp_path):
    jitter = {"name": "edge", "compute": {"name": "sqrt", "jitter": 0.5, "scale": 0.01}}
    configs = [cfg(SMALL.replace("seed = 3", f"seed = {s}"), cluster=jitter) for s in (1, 2, 3)]
    run_stacked([(str(tmp_path / f"s{i}"), c) for i, c in enumerate(configs)], plot=False)
    for i, c in enumerate(configs):
        run(c, tmp_path / f"alone{i}")
        stacked, alone = rows(tmp_path / f"s{i}"), rows(tmp_path / f"alone{i}")
        assert [r["sim_time"] for r in stacked] == pytest.approx([r["sim_time"] for r in alone], rel=1e-15)
    times = {rows(tmp_path / f"s{i}")[-1]["sim_time"] for i in range(3)}
    assert len(times) == 3  # each seed draws its own compute times


def test_the_cli_times_a_run_on_a_preset_given_with_set(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    out = tmp_path / "run"
    assert main(["run", str(path), "--set", 'cluster.name="cross-region"', "--out", str(out), "--no-plot"]) == 0
    assert "[cluster]" in (out / "config.toml").read_text()
    lines = rows(out)
    step_time = lines[1]["sim_time"] / lines[1]["step"]
    assert step_time > 0.01 + 0.05  # the compute and at least one wide-area latency per step
    assert lines[-1]["sim_time"] == pytest.approx(step_time * lines[-1]["step"], rel=1e-12)


def test_report_draws_runs_of_two_families_on_one_clock(tmp_path, capsys):
    edge = {"name": "edge"}
    run(cfg(SMALL, cluster=edge), tmp_path / "runs" / "gt")
    run(cfg(LOCAL, cluster=edge), tmp_path / "runs" / "fedavg")
    png = tmp_path / "clock.png"
    assert main(["report", str(tmp_path / "runs"), "--metric", "loss", "--plot", str(png), "--x", "sim_time"]) == 0
    assert png.stat().st_size > 0 and "wrote" in capsys.readouterr().out
    grouped = curves(load_runs([tmp_path / "runs"], with_rows=True), "algorithm", "topology.name")
    assert set(grouped) == {"gt-nsgdm / ring", "fedavg / server"}


def test_report_refuses_an_axis_metrics_lines_do_not_have(tmp_path, capsys):
    run(cfg(SMALL), tmp_path / "gt")
    code = main(["report", str(tmp_path / "gt"), "--plot", str(tmp_path / "p.png"), "--x", "sim_tme"])
    assert "did you mean 'sim_time'" in one_line_error(capsys, code)
    assert not (tmp_path / "p.png").exists()
