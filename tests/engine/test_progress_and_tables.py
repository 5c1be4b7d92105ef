"""Progress a log can read (runs and sweeps), rich/markdown tables, TensorBoard event files, readable plots,
`tailtamer list` headings, `report` refusing unknown names, and the study driver (issues 9.4, 10.3-10.6)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tailtamer.api import build
from tailtamer.cli.main import main
from tailtamer.rundir.progress import ProgressBar, SweepProgress, Ticker, fmt_duration, fmt_eta

TINY = {
    "problem": {"name": "quadratic", "dim": 3},
    "algorithm": {"name": "dsgd", "lr": 0.1},
    "topology": {"name": "ring", "n": 4},
    "noise": {"name": "none"},
    "run": {"steps": 6, "eval_every": 3},
}


@pytest.fixture
def no_run_plots(monkeypatch):
    """Skip each run folder's metrics.png (slow on a loaded machine, and not what these tests are about)."""
    import tailtamer.rundir.plots

    monkeypatch.setattr(tailtamer.rundir.plots, "plot_metrics", lambda *a, **k: None)


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


# ---- progress off a terminal --------------------------------------------------------------------------


def test_ticker_prints_a_line_at_a_steady_rate_with_rate_eta_and_metric():
    clock, out = Clock(), io.StringIO()
    t = Ticker(100, "steps", "run", out, every=10.0, tty=False, clock=clock)
    t.start()
    for step in range(1, 101):
        clock.t = step * 0.5  # 2 steps/s → a line every 20 steps (10 s)
        t.update(step, metric="loss=0.5")
    t.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) == 100 // 20 - 1 + 1  # steady lines before the end, then the final one
    assert lines[0] == "run: 20/100 steps (20%), 2.0 steps/s, ETA 0:40, loss=0.5"
    assert lines[-1].startswith("run: 100/100 steps (100%)") and "ETA 0:00" in lines[-1]


def test_progress_bar_on_a_real_run_logs_steps_and_the_current_metric():
    out = io.StringIO()
    loop = build(TINY, [ProgressBar(out, every=0.0, tty=False)])
    loop.run()
    lines = out.getvalue().splitlines()
    assert len(lines) == 6  # every=0: one line per step (the last is the final line)
    assert lines[2].startswith("3/6 steps (50%)") and re.search(r"dist_to_opt=[0-9.e-]+$", lines[2])


def test_a_short_run_stays_silent_off_a_terminal():
    out = io.StringIO()
    build(TINY, [ProgressBar(out, every=60.0, tty=False)]).run()
    assert out.getvalue() == ""


def test_on_a_terminal_the_bar_is_drawn_by_rich():
    out = io.StringIO()
    build(TINY, [ProgressBar(out, force=True)]).run()
    assert "6/6" in out.getvalue() and "steps" in out.getvalue()


def test_sweep_progress_reports_runs_workers_rate_and_the_last_metric(tmp_path, capsys, no_run_plots):
    from tailtamer.experiments.sweep import run_sweep

    jobs = [(tmp_path / f"r{i}", {**TINY, "run": {**TINY["run"], "seed": i}}) for i in range(3)]
    run_sweep(jobs, workers=1, label="tiny")
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("tiny (1 worker): 3/3 runs (100%), ")
    assert re.search(r"last .*r2: dist_to_opt=[0-9.e-]+$", err[-1])
    clock, out = Clock(), io.StringIO()
    p = SweepProgress(10, 2, "s", out, every=5.0, tty=False, clock=clock, heartbeat=False)
    p.start()
    clock.t = 6.0
    p(1, 10, str(jobs[0][0]))
    assert out.getvalue().startswith("s (2 workers): 1/10 runs (10%), 10.00 runs/min, ETA 0:54, last")


def test_a_sweep_of_long_runs_still_logs_at_a_steady_rate():
    import time

    out = io.StringIO()
    p = SweepProgress(4, 1, "slow", out, every=0.05, tty=False)
    p.start()
    time.sleep(0.3)  # no run finishes, yet lines keep coming
    p.finish()
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3 and all(line.startswith("slow (1 worker): 0/4 runs (0%)") for line in lines)


def test_durations():
    assert fmt_eta(3725) == "1:02:05" and fmt_eta(65) == "1:05"
    assert (fmt_duration(40), fmt_duration(600), fmt_duration(9000)) == ("40 s", "10 min", "2.5 h")


# ---- studies: up-front size and time, one command ------------------------------------------------------


def test_run_study_says_how_many_runs_and_how_long_up_front_and_writes_its_report(tmp_path, no_run_plots):
    from tailtamer.experiments.report import load_runs
    from tailtamer.experiments.study import Section, Study, run_study

    tiny = Study(
        name="tiny",
        about="a tiny study",
        tuned={"lr": 0.1},
        heading="## Tiny",
        runs=lambda root, tuned: [
            (root / f"seed{s}", {**TINY, "algorithm": {"name": "dsgd", **tuned}, "run": {**TINY["run"], "seed": s}})
            for s in range(2)
        ],
        sections=(Section("final", lambda root, tuned: f"{len(load_runs([root]))} runs"),),
        seconds_per_run=30.0,
    )
    logged: list[str] = []
    text = run_study(tiny, tmp_path, workers=1, log=logged.append)
    assert logged[0] == "tiny: 2 runs in 1 stacked run, about 39 s with 1 worker"  # 30 s · (1 + 0.3)
    assert text == "## Tiny\n\n### final\n\n2 runs\n" and (tmp_path / "report.md").read_text() == text + "\n"
    logged.clear()
    run_study(tiny, tmp_path, workers=1, log=logged.append)  # finished runs are skipped
    assert logged[0] == "tiny: 0 runs, about 1 s with 1 worker (2 of 2 already finished)"


def test_study_list_and_unknown_study(capsys):
    assert main(["study", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("| e1 |", "| e2 |", "| tailopt |", "| tailopt-models |", "| e2-leaky |"):
        assert name in out
    assert main(["study", "e3"]) == 2
    assert "unknown study 'e3'" in capsys.readouterr().err


# ---- tables -------------------------------------------------------------------------------------------


def test_markdown_is_plain_when_piped_and_a_rich_table_on_a_terminal():
    from tailtamer.cli.render import print_markdown

    text = "### t\n\n| a | b |\n|---|---|\n| 1 | x \\| y |"
    piped = io.StringIO()
    print_markdown(text, piped, tty=False)
    assert piped.getvalue() == text + "\n"
    term = io.StringIO()
    print_markdown(text, term, tty=True)
    drawn = re.sub(r"\x1b\[[0-9;]*m", "", term.getvalue())
    assert "|---|" not in drawn and "x | y" in drawn and "┃" in drawn


def test_list_uses_correct_plurals(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for heading in (
        "### algorithms",
        "### problems",
        "### topologies",
        "### noise models",
        "### schedules",
        "### [run] settings",
    ):
        assert heading in out
    assert "topologys" not in out and "noises" not in out
    from tailtamer.cli.list_cmd import plural

    assert plural("policy") == "policies" and plural("key") == "keys"


def _summaries(tmp_path):
    from tailtamer.rundir.folder import atomic_write_json

    for seed in (0, 1):
        folder = tmp_path / "ring" / f"seed{seed}"
        folder.mkdir(parents=True)
        atomic_write_json(
            folder / "summary.json",
            {
                "status": "finished",
                "metrics": {"val_loss": 4.0 + seed},
                "algorithm": "dsgd",
                "seed": seed,
                "topology": {"name": "ring"},
            },
        )


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--metric", "val_los"],
            ("--metric 'val_los' is not in these runs' summaries (did you mean 'val_loss'?); known: val_loss"),
        ),
        (
            ["--rows", "algorthm"],
            (
                "--rows 'algorthm' is not in these runs' summaries (did you mean 'algorithm'?); "
                "known: status, algorithm, seed, topology.name"
            ),
        ),
        (["--cols", "topology.nam"], "(did you mean 'topology.name'?)"),
    ],
)
def test_report_refuses_unknown_names_listing_the_known_ones(tmp_path, capsys, args, message):
    _summaries(tmp_path)
    assert main(["report", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_report_with_known_names_still_works(tmp_path, capsys):
    _summaries(tmp_path)
    assert main(["report", str(tmp_path), "--metric", "val_loss", "--rows", "seed", "--cols", "algorithm"]) == 0
    assert "| 0 | 4.000 |" in capsys.readouterr().out


# ---- plots --------------------------------------------------------------------------------------------


def test_legends_in_numeric_order_and_coinciding_curves_stay_visible(tmp_path):
    from tailtamer.rundir.plots import legend_order, plot_bands

    assert legend_order(["n=10", "n=2", "n=40", "n=5"]) == ["n=2", "n=5", "n=10", "n=40"]
    assert legend_order(["lr=0.01", "lr=3e-3", "lr=1"]) == ["lr=3e-3", "lr=0.01", "lr=1"]
    assert legend_order(["gt-nsgdm", "dsgd", "n=2"]) == ["gt-nsgdm", "dsgd", "n=2"]  # not all numbers: as given
    rows = [[{"step": s, "m": 1.0 / (s + 1)} for s in range(0, 50, 5)]]
    drawn = plot_bands({"n=10": rows, "n=2": rows, "n=5": rows}, "m", tmp_path / "p.png")
    assert [d["label"] for d in drawn] == ["n=2", "n=5", "n=10"]
    assert len({(d["linestyle"], d["marker"]) for d in drawn}) == 3  # identical curves, distinct looks
    assert len({d["markevery"][0] for d in drawn}) == 3  # markers at different places
    assert (tmp_path / "p.png").stat().st_size > 5000


# ---- TensorBoard --------------------------------------------------------------------------------------


def test_run_with_tensorboard_writes_event_files_and_changes_no_number(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from tailtamer.config import dumps_toml

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(dumps_toml(TINY))
    assert main(["run", str(cfg), "--out", str(tmp_path / "tb"), "--tensorboard", "--no-plot"]) == 0
    assert main(["run", str(cfg), "--out", str(tmp_path / "plain"), "--no-plot"]) == 0
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))
    acc = EventAccumulator(str(tmp_path / "tb"))
    acc.Reload()
    events = acc.Scalars("dist_to_opt")
    assert [e.step for e in events] == [0, 3, 6]
    tb = json.loads((tmp_path / "tb" / "summary.json").read_text())["metrics"]
    plain = json.loads((tmp_path / "plain" / "summary.json").read_text())["metrics"]
    assert tb == plain and events[-1].value == pytest.approx(tb["dist_to_opt"], rel=1e-6)


def test_tensorboard_missing_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    import builtins

    real_import = builtins.__import__

    def no_tb(name, *a, **k):
        if name == "tensorboard":
            raise ImportError(name)
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tb)
    assert main(["study", "demo", "--tensorboard", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "pip install 'tailtamer[tensorboard]'" in err and err.count("\n") == 1
    assert not any(Path(tmp_path).iterdir())
