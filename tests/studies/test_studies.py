"""The study declarations (experiments/study.py and the E1, E2, TailOPT declarations in experiments/studies/)
generate exactly the runs the studies ran before they became declarations: same configs, same run folders,
so every number in
docs/e1.md, docs/e2.md and docs/tailopt.md reproduces bit for bit.

``tests/data/study_jobs_before.json`` was computed from the code before the refactor (commit bec2f43):
for each list of jobs, its length, the sha256 of the sorted ``[folder relative to the root, raw config]``
pairs (JSON, sorted keys) and its first and last entry. Raw configs are compared, not resolved ones, so the
check does not depend on defaults filled in by ``resolve`` (equal raw configs resolve equally).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tailtamer.experiments import studies, study
from tailtamer.experiments.studies import decentralized_gpt as e2
from tailtamer.experiments.studies import gt_nsgdm_heavy_tails as e1
from tailtamer.experiments.studies import tailopt_local_updates as tailopt

ROOT = Path("/ROOT")
BEFORE = json.loads((Path(__file__).resolve().parents[1] / "data" / "study_jobs_before.json").read_text())


def _norm(jobs):
    return sorted([str(Path(f).relative_to(ROOT)), c] for f, c in jobs)


def _tailopt_tuned0():
    return {f"{t}/{n}": {m: tailopt.GRID[m][0] for m in tailopt.METHODS} for t in tailopt.TASKS for n in tailopt.NOISES}


def _without_kappa_repro(jobs):
    """E1 minus the rows added since (DSGD-Clip with the authors' κ = −0.4): everything else is unchanged."""
    return [(f, c) for f, c in jobs if e1.KAPPA_REPRO not in Path(f).parts]


def test_e1_adds_exactly_the_kappa_reproduction_rows():
    s = studies.studies()["e1"]
    main = [(f, c) for f, c in s.runs(ROOT, s.tuned) if e1.KAPPA_REPRO in Path(f).parts]
    assert len(main) == 4 * 5  # 3 noises on the ring + the complete graph, 5 seeds
    assert all(c["algorithm"] == {"name": "dsgd-clip", **e1.TUNED[e1.KAPPA_REPRO], "kappa": -0.4} for _, c in main)
    tune = [(f, c) for f, c in s.grid(ROOT).first_round(ROOT) if e1.KAPPA_REPRO in Path(f).parts]
    assert len(tune) == 3 * 2 * 2 and all(c["algorithm"]["kappa"] == -0.4 for _, c in tune)
    # our κ = +0.4 row keeps the algorithm's default (no kappa key): its runs are the ones of before
    plus = [c for f, c in s.runs(ROOT, s.tuned) if Path(f).parent.name == "dsgd-clip"]
    assert plus and all("kappa" not in c["algorithm"] for c in plus)


def _new_lists():
    s = studies.studies()
    tuned0 = _tailopt_tuned0()
    model_tuned = {task: {m: pts[1] for m, pts in tailopt.model_grid(tuned0).items()} for task in tailopt.MODEL_TASKS}
    return {
        "e1/tune-round0": _without_kappa_repro(s["e1"].grid(ROOT).first_round(ROOT)),
        "e1/main": _without_kappa_repro(s["e1"].runs(ROOT, s["e1"].tuned)),
        "e1/demo": s["demo"].runs(ROOT, s["demo"].tuned),
        "e2/main": s["e2"].runs(ROOT, s["e2"].tuned),
        "e2/paper-faithful": s["e2-leaky"].runs(ROOT, s["e2-leaky"].tuned),
        "e2/smoke": s["e2-smoke"].runs(ROOT, s["e2-smoke"].tuned),
        "tailopt/tune-round0": s["tailopt"].grid(ROOT).first_round(ROOT),
        "tailopt/main": s["tailopt"].runs(ROOT, tuned0),
        "tailopt/models-tune-round0": tailopt.models_grid(tuned0).first_round(ROOT),
        "tailopt/models": s["tailopt-models"].runs(ROOT, model_tuned),
    }


@pytest.mark.parametrize("name", sorted(BEFORE))
def test_declarations_generate_the_runs_of_before(name):
    jobs = _new_lists()[name]
    before = BEFORE[name]
    norm = _norm(jobs)
    assert len(jobs) == before["count"]
    assert norm[0] == before["first"] and norm[-1] == before["last"]
    assert hashlib.sha256(json.dumps(norm, sort_keys=True).encode()).hexdigest() == before["sha256"]


def test_the_fixture_is_sensitive_to_one_changed_number():
    jobs = _new_lists()["e2/main"]
    folder, cfg = jobs[0]
    changed = [(folder, {**cfg, "algorithm": {**cfg["algorithm"], "lr": cfg["algorithm"]["lr"] * (1 + 1e-15)}})]
    norm = _norm(changed + jobs[1:])
    assert hashlib.sha256(json.dumps(norm, sort_keys=True).encode()).hexdigest() != BEFORE["e2/main"]["sha256"]


def test_explicit_entries():
    lists = _new_lists()
    e2_first = dict(_norm(lists["e2/main"]))["complete/dsgd-clip/seed0"]
    assert e2_first["algorithm"] == {"name": "dsgd-clip", "lr": 1.0, "gamma": 1.0, "kappa": 0.4}
    assert e2_first["problem"]["init_seed"] == 0 and e2_first["run"] == {
        "steps": 400,
        "eval_every": 100,
        "dtype": "float32",
        "seed": 0,
    }
    e1_main = dict(_norm(lists["e1/main"]))
    assert e1_main["main/alpha-stable/gt-nsgdm/seed4"]["algorithm"] == {"name": "gt-nsgdm", "lr": 0.005, "beta": 0.8}
    assert "tune/sclip-ef/lr=1,phi=30,beta=0.9/seed101" in dict(_norm(lists["e1/tune-round0"]))
    assert "main/quadratic/student-t/bi2clip/lr=0.01,u=1,d=0.05,outer_lr=1,outer_u=0.025,outer_d=0.00125/seed2" in dict(
        _norm(lists["tailopt/main"])
    )


def test_every_study_is_listed_and_unknown_names_are_refused():
    from tailtamer.errors import ConfigError

    names = set(studies.studies())
    assert {"e1", "e2", "e2-leaky", "e2-smoke", "tailopt", "tailopt-models", "demo"} <= names
    with pytest.raises(ConfigError, match="did you mean 'tailopt'"):
        studies.get("tailop")


def test_the_up_front_estimate_counts_stacked_runs_and_balances_workers(tmp_path):
    """The estimate dispatches the units run_sweep would: E1's demo (15 runs, 5 methods × 3 seeds) is 5 stacked
    runs of 3 members, each 1 + 2·MEMBER_SHARE runs; E2's GPT runs are never stacked, so 10 of them on 3 workers
    take 4 runs' time (the busiest worker), not 10/3."""
    s = studies.get("demo")
    jobs = s.runs(tmp_path, s.tuned)
    one = 5 * (1 + 2 * study.MEMBER_SHARE) * s.seconds_per_run
    text = study.estimate(s, jobs, 1)
    assert text.startswith("15 runs in 5 stacked runs, about ") and text.endswith("with 1 worker")
    from tailtamer.rundir.progress import fmt_duration

    assert fmt_duration(one) in text
    gpt = studies.get("e2-smoke")
    runs = gpt.runs(tmp_path, gpt.tuned)
    assert len(runs) == 10
    assert study.estimate(gpt, runs, 3) == f"10 runs, about {fmt_duration(4 * gpt.seconds_per_run)} with 3 workers"


def test_e2_configs_ship_inside_the_package_and_the_repo_copies_are_generated(tmp_path, monkeypatch):
    """E2 reads no file of the source tree: its base configs are Python declarations (generating its runs reads
    no file at all, from any working directory), and configs/e2/*.toml are written from them."""
    import tailtamer.config
    from tailtamer.config import load_toml

    def no_files(path):
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(tailtamer.config, "load_toml", no_files)
    monkeypatch.chdir(tmp_path)
    for name in ("e2", "e2-leaky", "e2-smoke"):
        assert studies.get(name).runs(tmp_path, studies.get(name).tuned)
    monkeypatch.undo()
    written = {p.name: p.read_text() for p in e2.write_configs(tmp_path)}
    repo = Path(__file__).resolve().parents[2] / "configs" / "e2"
    assert written == {p.name: p.read_text() for p in repo.glob("*.toml")}
    assert load_toml(tmp_path / "gpt-cpu.toml") == e2.BASES["gpt-cpu"]


def test_e2_tuned_study_runs_the_main_recipe_with_the_recorded_winners():
    """``e2-tuned`` is ``e2`` with the winners of its 3-seed tuning: the same 90 jobs with only the tuned
    settings changed (each winner from the grid of its method)."""
    tuned = e2.TUNED_STUDY.runs(ROOT, e2.TUNED_STUDY.tuned)
    assert tuned == e2.STUDY.runs(ROOT, e2.TUNED) and len(tuned) == 90
    for m, settings in e2.TUNED.items():
        assert {k: v for k, v in settings.items() if k != "lr"} == {k: v for k, v in e2.HYPER[m].items() if k != "lr"}


@pytest.mark.parametrize("flag", [[], ["--no-plot"]])
def test_no_plot_leaves_the_run_folders_without_pngs_and_still_draws_the_report(tmp_path, monkeypatch, flag):
    """``tailtamer study NAME --no-plot``: the runs (tuning grid and main runs) write no metrics.png, and their
    metrics and the report's own figure are what they are with plots; without the flag each folder has its PNG."""
    from dataclasses import replace

    from tailtamer.cli.main import main
    from tailtamer.rundir.folder import read_metrics
    from tailtamer.rundir.plots import plot_metrics

    demo = studies.get("demo")
    noise = e1.NOISES["alpha-stable"]
    grid = study.Grid(
        axes={"dsgd": {"lr": (0.003, 0.01)}},
        seeds=(100,),
        max_extensions=0,
        folder=lambda r, k, p: r / "tune" / k / f"lr={p['lr']:g}",
        config=lambda k, p, s: e1.config(k, p, noise, s, steps=40),
        metric=lambda k: "dist_to_opt",
    )
    tiny = replace(
        demo,
        name="tiny",
        grid=lambda root: grid,
        seconds_per_run=0.01,
        runs=lambda root, tuned: [
            (root / "main" / f"seed{s}", e1.config("dsgd", tuned["dsgd"], noise, s, steps=40)) for s in (0, 1)
        ],
        sections=(),
        tuned={"dsgd": {"lr": 0.01}},
        report_file="tiny-report.md",
        plots=(
            study.Plot(
                "curve.png", lambda root, path, tuned: plot_metrics(read_metrics(root / "main" / "seed0"), path)
            ),
        ),
    )
    import tailtamer.cli.study_cmd as study_cmd

    monkeypatch.setattr(study_cmd, "get", lambda name: tiny)  # the command's own name for the registry lookup
    out = tmp_path / "out"
    assert main(["study", "tiny", "--tune", "--out", str(out), "--workers", "1", *flag]) == 0
    folders = sorted(p.parent for p in out.rglob("summary.json"))
    assert len(folders) == 4  # 2 tuning runs, 2 main runs
    assert all((f / "metrics.png").exists() == (not flag) for f in folders)
    assert all(read_metrics(f) for f in folders)
    assert (out / "curve.png").stat().st_size > 1000 and (out / "tiny-report.md").exists()  # the report either way
