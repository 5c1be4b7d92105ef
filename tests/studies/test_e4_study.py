"""The E4 study declarations: the full recipe is declared (workloads, n, seeds, sweep, heatmaps, growing grids),
the least-squares runs are the ones of the former ad-hoc driver, and a tiny study runs, resumes and reports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tailtamer.config import resolve
from tailtamer.experiments import studies, study
from tailtamer.experiments.studies import asynchronous_methods as e4
from tailtamer.experiments.sweep import unfinished

ROOT = Path("/ROOT")


def _by_folder(jobs):
    return {str(Path(f).relative_to(ROOT)): c for f, c in jobs}


def test_the_e4_studies_are_listed_and_resumable_by_name():
    names = set(studies.studies())
    assert {"e4", "e4-cpu", "e4-sst2", "e4-smoke"} <= names
    with pytest.raises(Exception, match="did you mean 'e4-cpu'"):
        studies.get("e4-cpy")


def test_the_full_recipe_is_declared():
    s = studies.get("e4")
    jobs = _by_folder(s.runs(ROOT, s.tuned))
    main = [c for f, c in jobs.items() if f.startswith("main/")]
    assert {c["problem"]["name"] for c in main} == {"least-squares", "digits-cnn", "sst2"}
    assert {json.dumps(c["noise"], sort_keys=True) for c in main if c["problem"]["name"] == "least-squares"} == {
        json.dumps(n, sort_keys=True)
        for n in (
            {"name": "none"},
            {"name": "student-t", "df": 2.5, "scale": 0.1},
            {"name": "student-t", "df": 1.5, "scale": 0.1},
        )
    }
    assert {c["topology"]["n"] for c in main} == {8, 32} and {c["run"]["seed"] for c in main} == {0, 1, 2, 3, 4}
    assert len(main) == 5 * 2 * 10 * 5  # workloads × n × methods × seeds
    assert {c["problem"]["dim"] for c in main if c["problem"]["name"] == "least-squares"} == {400}
    assert {c["problem"]["samples"] for c in main if c["problem"]["name"] == "least-squares"} == {10_000}
    long = [c for f, c in jobs.items() if f.startswith("long-sweep/")]
    assert {c["run"]["time"] for c in long} == {3000.0} and {c["timing"]["factor"] for c in long} >= {1.0, 10.0, 100.0}
    sweep = [c for f, c in jobs.items() if f.startswith("straggler/")]
    assert {c["timing"]["factor"] for c in sweep} == {1.0, 10.0, 100.0, 1000.0}
    assert all(c["timing"]["workers"] == [c["topology"]["n"] - 1] for c in sweep)
    # the heatmaps reach the parameter they vary: Ringmaster's R, the threshold rule's R, λ of clipping and DC
    heat = {f: c["algorithm"] for f, c in jobs.items() if f.startswith("heatmap/")}
    one = {
        f.split("/")[1]: a
        for f, a in heat.items()
        if "step=0.1,value=" in f
        and f.endswith("seed0")
        and ("value=4/" in f or "value=0.3/" in f or "value=0.2/" in f)
    }
    assert one["ringmaster-R"]["R"] == 4 and one["ringmaster-R"]["lr"] == 0.1
    assert one["threshold-R"]["delay"] == {"name": "threshold", "R": 4} and one["threshold-R"]["name"] == "asgd"
    assert one["clip-lambda"]["operator"] == {"name": "l2clip", "gamma": 0.3}
    assert one["dc-lambda"]["compensation"] == {"name": "dc", "lam": 0.2}
    for c in list(jobs.values())[::23]:
        resolve(c)


def test_the_sst2_study_is_the_full_recipes_sst2_part():
    """``e4-sst2`` runs exactly the full recipe's SST-2 jobs (same folders, same configs) and tunes the same
    SST-2 searches on the same seeds, for any tuned steps."""
    tuned = {
        "sst2/n8": {m: {"lr": 0.05, "local_lr": 0.05} for m in e4.FULL.methods},
        "sst2/n32": {m: {"lr": 0.02, "local_lr": 0.02} for m in e4.FULL.methods},
    }
    full = {f: c for f, c in _by_folder(studies.get("e4").runs(ROOT, tuned)).items() if "/sst2/" in f"/{f}"}
    part = _by_folder(studies.get("e4-sst2").runs(ROOT, tuned))
    assert part == full and len(part) == 2 * 10 * 5
    assert {c["problem"]["name"] for c in part.values()} == {"sst2"}
    first = {str(f) for f, _ in studies.get("e4").grid(ROOT).first_round(ROOT) if "/sst2/" in str(f)}
    assert {str(f) for f, _ in studies.get("e4-sst2").grid(ROOT).first_round(ROOT)} == first


def test_every_method_is_tuned_per_workload_and_n_on_a_growing_grid():
    g = studies.get("e4").grid(ROOT)
    assert len(g.axes) == 5 * 2 * 10 and g.max_extensions >= 3 and len(g.seeds) >= 2
    assert all(len(next(iter(ax.values()))) >= 3 for ax in g.axes.values())
    first = _by_folder(g.first_round(ROOT))
    assert first["tune/sst2/n32/fedbuff/local_lr=0.05/seed101"]["algorithm"]["local_lr"] == 0.05


def test_the_least_squares_runs_are_those_of_the_former_driver():
    """The former ``e4.config(STUDY, "ringmaster", "t1.5", 8, 1, 0.03, 10.0)``, written out (commit 8561fee)."""
    before = {
        "problem": {"name": "least-squares", "dim": 400, "samples": 10000, "batch": 32},
        "algorithm": {"name": "ringmaster", "variant": "discard", "lr": 0.03, "R": 8},
        "topology": {"name": "server", "n": 8},
        "noise": {"name": "student-t", "df": 1.5, "scale": 0.1},
        "timing": {"name": "straggler", "factor": 10.0, "workers": [7]},
        "run": {"steps": 10**7, "time": 100.0, "eval_every": 25, "seed": 1},
    }
    now = e4.config(e4.CPU, "ls-t1.5", "ringmaster", 8, 1, {"lr": 0.03}, 10.0)
    assert resolve(now) == resolve(before)
    assert resolve(e4.config(e4.CPU, "ls-t1.5", "ringmaster", 8, 1, {"lr": 0.031}, 10.0)) != resolve(before)


def test_a_tiny_study_runs_resumes_and_reports(tmp_path):
    r = replace(
        e4.SMOKE,
        methods={k: e4.SMOKE.methods[k] for k in ("asgd", "clipped-asgd", "sync-sgd")},
        seeds=(0,),
        workloads={"ls-t1.5": replace(e4.SMOKE.workloads["ls-t1.5"], horizon=8.0)},
        heatmaps={k: replace(h, values=(0.3,), steps=(0.03, 0.3)) for k, h in e4.SMOKE.heatmaps.items()},
        straggler_factors=(1.0, 1000.0),
    )
    s = e4.study("tiny", r, "tiny", "## tiny", {}, 0.1)
    text = study.run_study(s, tmp_path, tune=True, workers=1, log=lambda m: None)
    tuned = json.loads((tmp_path / "tuned.json").read_text())
    assert set(tuned["ls-t1.5/n4"]) == {"asgd", "clipped-asgd", "sync-sgd"}
    assert not unfinished(s.runs(tmp_path, tuned))  # a second call has nothing left to run
    assert not list(tmp_path.glob("main/**/metrics.png"))  # no per-run PNGs
    # with the last worker 1000× slower, sync-sgd completes no round before the horizon: x stays x0
    p = e4.label(tuned["ls-t1.5/n4"]["sync-sgd"])
    stuck = json.loads((tmp_path / "straggler/ls-t1.5/k1000/sync-sgd" / p / "seed0/summary.json").read_text())
    assert stuck["steps"] == 0
    assert "| asgd |" in text and "clip level λ" in text
    assert all((tmp_path / f).exists() for f in ("e4_curves.png", "e4_straggler.png", "e4_heatmaps.png"))


def test_the_recorded_cpu_winners_cover_every_setting():
    """``tailtamer study e4-cpu`` without --tune reruns exactly the tuned runs docs/async.md reports."""
    assert set(e4.CPU_TUNED) == set(e4.CPU.keys())
    assert all(set(v) == set(e4.CPU.methods) for v in e4.CPU_TUNED.values())
    main = _by_folder(studies.get("e4-cpu").runs(ROOT, e4.CPU_TUNED))
    assert main["main/ls-t1.5/n8/clipped-asgd/lr=0.3/seed4"]["algorithm"]["lr"] == 0.3


def test_the_recorded_sst2_winners_rerun_the_reported_runs():
    """``tailtamer study e4-sst2`` without --tune reruns exactly the 100 main runs whose per-seed numbers
    docs/figures/e4-sst2.json records, at the steps it records."""
    record = json.loads((Path(__file__).resolve().parents[2] / "docs" / "figures" / "e4-sst2.json").read_text())
    assert record["tuned"] == e4.SST2_TUNED and set(e4.SST2_TUNED) == set(e4.SST2.keys())
    main = _by_folder(studies.get("e4-sst2").runs(ROOT, studies.get("e4-sst2").tuned))
    reported = {
        f"main/sst2/{setting}/seed{s}"
        for setting, seeds in record["main"].items()
        for s in (k.removeprefix("seed") for k in seeds)
    }
    assert set(main) == reported and len(reported) == 100


def test_a_recipe_naming_an_undeclared_workload_or_method_is_refused():
    from tailtamer.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown workload 'digits'"):
        replace(e4.SMOKE, straggler_workloads=("digits",))
    with pytest.raises(ConfigError, match="unknown method 'dc-asgd'"):
        replace(e4.SMOKE, long_sweep=e4.LongSweep(("ls-t1.5",), (1.0,), 10.0, ("dc-asgd",), (0,)))


@pytest.mark.parametrize("name", ["e4", "e4-cpu", "e4-sst2"])
def test_every_report_section_renders_for_every_declared_recipe(tmp_path, name):
    """The report of each declared recipe renders on a folder with no runs yet (every cell '—'). The full
    recipe's accuracy table once rebuilt the recipe with its model workloads only, which its straggler
    sweep's least-squares workloads refused: the finished full study failed at its report."""
    recipe = {"e4": e4.FULL, "e4-cpu": e4.CPU, "e4-sst2": e4.SST2}[name]
    s = studies.get(name)
    tuned = {k: {m: {"lr": 0.1, "local_lr": 0.1} for m in recipe.methods} for k in recipe.keys()}
    for section in s.sections:
        text = section.body(tmp_path, tuned)
        assert text is None or isinstance(text, str)  # None: a section the recipe has not
    main = s.sections[0].body(tmp_path, tuned)
    if any(w.accuracy for w in recipe.workloads.values()):
        assert "held-out accuracy" in main


def test_the_recorded_full_winners_rerun_the_reported_runs():
    """``tailtamer study e4`` without --tune reruns exactly the 2,850 runs whose final numbers
    docs/figures/e4.json records, at the steps it records; its SST-2 part is ``e4-sst2``'s record."""
    record = json.loads((Path(__file__).resolve().parents[2] / "docs" / "figures" / "e4.json").read_text())
    assert record["tuned"] == e4.FULL_TUNED and set(e4.FULL_TUNED) == set(e4.FULL.keys())
    assert all(set(v) == set(e4.FULL.methods) for v in e4.FULL_TUNED.values())
    runs = _by_folder(studies.get("e4").runs(ROOT, studies.get("e4").tuned))
    assert set(runs) == set(record["runs"]) and len(runs) == 2850
