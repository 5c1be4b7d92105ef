"""E5 on the study platform (experiments/studies/compressed_sign_sde/): listed, run into standard lab folders
(config.toml + sde.json), resumable (a finished cell is never rerun, a folder of another config is refused),
dispatched by run_sweep like every study, its report built from the folders; the replicate blocks of a stacked
run are what separate runs would be; the hazard arithmetic of the blow-up law."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from tailtamer.config import load_toml
from tailtamer.errors import ConfigError
from tailtamer.experiments import studies, study, sweep
from tailtamer.experiments.executors import ProcessPool
from tailtamer.experiments.studies import compressed_sign_sde as e5
from tailtamer.sde import build_lab, folders, run_lab


def test_e5_is_a_listed_study_with_every_table():
    s = studies.get("e5")
    assert {"e5", "e5-smoke"} <= set(studies.studies())
    jobs = s.runs(Path("/ROOT"), s.tuned)
    assert len(jobs) == len({f for f, _ in jobs})  # shared cells run once
    dims = {c["problem"]["dim"] for _, c in jobs}
    assert dims == {1, 10}
    blow = [c for _, c in jobs if c["sde"]["horizon"] == e5.BLOW_STEPS * e5.ETA0 and c["method"]["workers"] == 1]
    assert {c["sde"]["paths"] for c in blow} == {1000} and {c["sde"]["replicates"] for c in blow} == {2, 3}
    with pytest.raises(ConfigError, match="did you mean 'e5'"):
        studies.get("e6")


def test_the_smoke_study_runs_resumes_and_reports(tmp_path, monkeypatch):
    s = studies.get("e5-smoke")
    text = study.run_study(s, tmp_path, workers=1, log=lambda _: None)
    jobs = s.runs(tmp_path, s.tuned)
    for f, cfg in jobs:
        assert load_toml(f / "config.toml") == cfg and (f / "sde.json").exists()
    assert "…" not in text and text.count("**") >= 2 * len(e5.TABLES)
    assert "Hazard Λ" in text and "(×1)" in text

    def boom(*a, **k):
        raise AssertionError("a finished cell was run again")

    monkeypatch.setattr(folders, "run_folder", boom)
    assert study.run_study(s, tmp_path, workers=1, log=lambda _: None) == text
    f, cfg = jobs[0]
    other = {**cfg, "sde": {**cfg["sde"], "seed": 1}}
    with pytest.raises(ConfigError, match="different config"):
        folders.pending([(f, other)])


def test_the_lab_jobs_are_dispatched_by_run_sweep(tmp_path, monkeypatch):
    """run_sweep is the one dispatch site: the study hands it E5's jobs with the lab's ``run_job``, and the
    executor sees one ``run_folder`` call per unfinished cell, made by run_sweep."""
    s = replace(studies.get("e5-smoke"), runs=lambda root, tuned: e5.cells(root, 0.01, 50)[:2])
    seen, swept = [], []

    class Spy(ProcessPool):
        def map(self, fn, calls, workers):
            seen.extend((fn, c[0]) for c in calls)
            return super().map(fn, calls, workers)

    real = sweep.run_sweep
    monkeypatch.setattr(study, "run_sweep", lambda jobs, **kw: swept.append(kw["run_job"]) or real(jobs, **kw))
    study.run_study(s, tmp_path, workers=1, log=lambda _: None, executor=Spy())
    jobs = s.runs(tmp_path, s.tuned)
    assert swept == [folders.run_folder]
    assert seen == [(folders.run_folder, str(f)) for f, _ in jobs] and all((f / "sde.json").exists() for f, _ in jobs)


def test_replicate_blocks_are_independent_blocks_of_one_stacked_run():
    method = {"name": "dcsgd", "omega": 4.0, "lr": 0.1, "schedule": {"name": "poly", "power": 0.6, "t0": 1.0}}
    cfg = {
        "problem": {"name": "quartic", "dim": 1, "x0": 2.0},
        "method": method,
        "noise": {"name": "cauchy"},
        "sde": {"paths": 200, "replicates": 3, "horizon": 20.0, "compare": False},
    }
    res = run_lab(build_lab(cfg))["discrete"]
    blocks = res["blow_up_by_replicate"]
    assert len(blocks) == 3 and sum(blocks) / 3 == pytest.approx(res["blow_up_fraction"])
    assert 0 < res["blow_up_fraction"] < 1 and len(set(blocks)) > 1  # the blocks differ: not copies
    one = run_lab(build_lab({**cfg, "sde": {**cfg["sde"], "replicates": 1, "paths": 600}}))["discrete"]
    assert one["blow_up_fraction"] == res["blow_up_fraction"]  # the same 600 paths, bitwise
    with pytest.raises(ConfigError, match="replicates must be an integer ≥ 1"):
        build_lab({**cfg, "sde": {"replicates": 0}})


def test_hazard_arithmetic_of_the_blow_up_law():
    # Λ = −ln(1 − p): p = 1 − e^(−1), 1 − e^(−2) doubles the hazard
    assert e5.hazard_ratios([1 - math.exp(-1), 1 - math.exp(-2)]) == [pytest.approx(2.0)]
    assert math.isnan(e5.hazard_ratios([0.0, 0.1])[0])
    # exponent 0: Λ(K) ∝ K, so each decade multiplies it by 10; a summable exponent saturates
    assert e5.predicted_ratios(0.0) == [pytest.approx(10.0), pytest.approx(10.0)]
    assert e5.predicted_ratios(3.0)[1] == pytest.approx(1.0, abs=1e-5)
