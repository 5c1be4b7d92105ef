"""What people see (issue 25, items 5 and 7): a lost worker is named on the console, ``list`` takes a heading's
name, registry summaries are whole sentences, ``sde`` shows progress and says when every path blew up."""

from __future__ import annotations

import io

import pytest

from helpers import LAB
from tailtamer.api import build_components, make_async_loop
from tailtamer.cli.main import main
from tailtamer.distributed.asynchronous.server import ServerLoop
from tailtamer.engine.events.replay import Event
from tailtamer.problems import PROBLEMS
from tailtamer.sde import build_lab
from tailtamer.sde.command import headline, run_shown
from tailtamer.timing import TIMINGS


def test_a_lost_worker_is_named_on_the_console_as_it_happens(capsys):
    c = {
        "problem": {"name": "quadratic", "dim": 3},
        "algorithm": {"name": "asgd", "lr": 0.05},
        "topology": {"name": "server", "n": 3},
        "run": {"steps": 5},
    }
    loop = make_async_loop(build_components(c), [], ServerLoop, time_scale=1.0, timeout=1.0)
    loop._lose(loop.initial_state(), Event("lost", 1, 0.5, reason="rank 2 died or is unreachable"), 0)
    err = capsys.readouterr().err
    assert "worker 1 (rank 2) lost at update 0: rank 2 died or is unreachable; going on with 2 of 3 workers" in err


def test_list_takes_the_heading_it_prints(capsys):
    assert main(["list", "compressors"]) == 0
    out = capsys.readouterr().out
    assert "compressors" in out and "topologies" not in out


@pytest.mark.parametrize(
    "registry, name", [(TIMINGS, "trace"), (TIMINGS, "straggler"), (PROBLEMS, "quadratic"), (PROBLEMS, "sst2")]
)
def test_a_registry_summary_is_not_cut_mid_sentence(registry, name):
    assert registry.summary(name).endswith((".", ")")), registry.summary(name)


def lab(**sde) -> object:
    import tomllib

    cfg = tomllib.loads(LAB)
    cfg["sde"].update(sde)
    return build_lab(cfg)


def test_sde_shows_progress_on_a_terminal():
    stream = io.StringIO()
    run_shown(lab(horizon=20.0), sde=True, stream=stream, tty=True)  # 400 steps, twice
    assert "800/800" in stream.getvalue() and "steps" in stream.getvalue(), stream.getvalue()


def test_when_every_path_blows_up_the_line_says_so_instead_of_a_mean_of_zero():
    import tomllib

    cfg = tomllib.loads(LAB)
    cfg["method"]["lr"], cfg["problem"]["x0"], cfg["sde"]["horizon"] = 3.0, 5.0, 12.0
    result_lab = build_lab(cfg)
    result = run_shown(result_lab, sde=True, stream=io.StringIO())
    line = headline(result_lab, result)
    assert result["discrete"]["blow_up_fraction"] == 1.0 and result["discrete"]["mean"][-1] is None
    assert "final mean f none: every path blew up" in line and "mean f 0.0" not in line


def test_e5_reports_progress_on_the_sweeps_clock_not_every_ten_runs(tmp_path, capsys):
    """A dozen quick lab runs: off a terminal one line at the end (and one per SWEEP_LOG_EVERY seconds), no
    line per ten runs."""
    import tomllib

    from tailtamer.experiments.sweep import run_sweep
    from tailtamer.sde.folders import pending, run_folder

    cfg = tomllib.loads(LAB)
    jobs = [(tmp_path / f"r{i}", {**cfg, "sde": {**cfg["sde"], "seed": i, "compare": False}}) for i in range(12)]
    run_sweep(jobs, workers=1, label="e5-test", run_job=run_folder, pending=pending)  # how E5 runs its cells
    out, err = capsys.readouterr()
    lines = [ln for ln in (out + err).splitlines() if "e5-test" in ln]
    assert len(lines) == 1 and "12/12 runs" in lines[0], lines


def test_the_eta_on_a_terminal_follows_the_rate_measured_since_the_start():
    """A batch of 24 runs that ends at once after 100 s: 206 runs left at 0.24 runs/s is 14:18, not the seconds
    that rich's rate over its last 30 s (24 runs in an instant) would give (issue 25, item 7)."""
    from tailtamer.rundir.progress import Ticker

    now = [0.0]
    ticker = Ticker(230, "runs", "study", io.StringIO(), tty=True, clock=lambda: now[0])
    ticker.start()
    now[0] = 100.0
    ticker.update(24)
    fields = ticker._bar.tasks[0].fields
    ticker.finish()
    assert fields["eta"] == "14:18" and ticker.eta() == "14:18"
