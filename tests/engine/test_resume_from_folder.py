"""A run folder is enough to continue a run, checks come before the folder, and a resume names lost metrics.

Issue 25, items 2 and 3: ``tailtamer run --resume DIR`` continues from the folder's own ``config.toml`` (with the
``--set`` edits it was started with), the Ctrl-C hint is a command that works as printed, a configuration error
found while building leaves no folder behind, a run that fails before its first step removes the folder it
created, and a ``metrics.jsonl`` cut short is named on resume and recorded in the summary.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from helpers import SMALL
from tailtamer.cli.main import main
from tailtamer.config import load_toml
from tailtamer.engine import Callback
from tailtamer.errors import ConfigError
from tailtamer.experiments.runner import run_config
from tailtamer.testing.interrupt import StopAt

CONFIG = SMALL.replace("seed = 3", "checkpoint_every = 20\nseed = 3")  # a checkpoint every 20 steps

ASYNC = """
[problem]
name = "quadratic"
dim = 4
[algorithm]
name = "asgd"
lr = 0.05
[topology]
name = "server"
n = 4
[timing]
name = "fixed"
times = [1.0, 1.0, 1.0]
[run]
steps = 20
eval_every = 5
"""


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(CONFIG)
    return path


def _final(out: Path) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    return {"metrics": summary["metrics"], "steps": summary["steps"], "status": summary["status"]}


def test_the_ctrl_c_hint_resumes_from_the_folder_alone_with_the_set_edits_kept(cfg_file, tmp_path, capsys, monkeypatch):
    import tailtamer.cli.run_cmd as run_cmd

    edits = ["--set", "algorithm.lr=0.03", "--set", "run.seed=7"]
    whole = tmp_path / "whole"
    assert main(["run", str(cfg_file), *edits, "--out", str(whole), "--no-plot"]) == 0

    out = tmp_path / "cut"
    real = run_cmd.run_config
    monkeypatch.setattr(
        run_cmd, "run_config", lambda cfg, folder, **kw: real(cfg, folder, **{**kw, "callbacks": [StopAt(30)]})
    )
    assert main(["run", str(cfg_file), *edits, "--out", str(out), "--no-plot"]) == 130
    (hint,) = [ln for ln in capsys.readouterr().err.splitlines() if "continue from the last checkpoint" in ln]
    command = shlex.split(hint.split("continue from the last checkpoint with: ", 1)[1])
    assert command[:2] == ["tailtamer", "run"] and str(cfg_file) not in command and "--set" not in command
    monkeypatch.setattr(run_cmd, "run_config", real)
    assert main([*command[1:], "--no-plot"]) == 0  # the hint, as printed
    assert _final(out) == _final(whole)


def test_resume_from_the_folder_refuses_set_and_a_second_folder(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--no-plot"]) == 0
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--set", "algorithm.lr=0.1"]) == 2
    assert "--set and --unset cannot change it" in capsys.readouterr().err
    assert main(["run", "--resume", str(out), "--out", str(tmp_path / "other")]) == 2
    assert "name two folders" in capsys.readouterr().err
    assert main(["run"]) == 2
    assert "--resume RUN_DIR" in capsys.readouterr().err


def test_an_error_found_while_building_leaves_no_folder(tmp_path, capsys):
    """A timing model's bad value (3 times for 4 workers) was found after config.toml was written (the event loop
    built it), which left a folder that blocked both a rerun and --resume; now every component is built before the
    folder exists."""
    bad = tmp_path / "bad.toml"
    bad.write_text(ASYNC)
    out = tmp_path / "run"
    assert main(["run", str(bad), "--out", str(out), "--no-plot"]) == 2
    err = capsys.readouterr().err
    assert "timing" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    bad.write_text(ASYNC.replace("times = [1.0, 1.0, 1.0]", "times = [1.0, 1.0, 1.0, 2.0]"))
    assert main(["run", str(bad), "--out", str(out), "--no-plot"]) == 0


class _Fail(Callback):
    def __init__(self, at: int):
        self.at = at

    def on_start(self, loop) -> None:
        if self.at == 0:
            raise RuntimeError("before the first step")

    def on_step(self, loop, step: int, state) -> None:
        if step == self.at:
            raise RuntimeError(f"at step {step}")


def test_a_run_failing_before_its_first_step_removes_the_folder_it_created(cfg_file, tmp_path):
    cfg = load_toml(cfg_file)
    early, late = tmp_path / "early", tmp_path / "late"
    with pytest.raises(RuntimeError, match="before the first step"):
        run_config(cfg, early, progress=False, plot=False, callbacks=[_Fail(0)])
    assert not early.exists()
    with pytest.raises(RuntimeError, match="at step 25"):
        run_config(cfg, late, progress=False, plot=False, callbacks=[_Fail(25)])
    assert (late / "checkpoint.pt").is_file()  # past step 0: kept, and resumable
    assert run_config(None, late, resume="strict", progress=False, plot=False)["status"] == "finished"
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")  # a folder the run did not create is never removed
    with pytest.raises(ConfigError, match="not empty"):
        run_config(cfg, kept, progress=False, plot=False, callbacks=[_Fail(0)])
    assert (kept / "notes.txt").read_text() == "mine"


def test_a_metrics_file_cut_short_is_named_on_resume_and_recorded(cfg_file, tmp_path, capsys):
    cfg = load_toml(cfg_file)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run_config(cfg, out, progress=False, plot=False, callbacks=[StopAt(50)])
    rows = (out / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == [0, 10, 20, 30, 40, 50]
    (out / "metrics.jsonl").write_text("\n".join(rows[:2]) + "\n")  # a file cut short: 20..50 lost
    summary = run_config(None, out, resume="strict", progress=False, plot=False)
    err = capsys.readouterr().err
    assert "lacks 3 evaluation(s) before the checkpoint at step 40 (steps 20, 30, 40)" in err
    assert summary["metrics_missing"] == [20, 30, 40] and summary["status"] == "finished"
