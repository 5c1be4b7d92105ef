"""``tailtamer study NAME --add ENTRY`` (experiments/added.py): the entry's rows are the study's reference method's
runs (every setting and seed) with the entry's [algorithm], in ROOT/added/LABEL, and the report sets its final
metric beside the study's methods, marked as added; a method of another family is refused in one line naming
the studies it fits. The example plugin's gt-clip is added to the demo study end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tailtamer.errors import ConfigError
from tailtamer.experiments.added import parse_entry, with_added
from tailtamer.experiments.studies import get, studies
from tailtamer.testing.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_added_rows_are_the_reference_methods_runs_with_the_entrys_algorithm(tmp_path):
    study = get("demo")
    added = with_added(study, [parse_entry("gt-dsgd:lr=0.004")], studies())
    base, jobs = study.runs(tmp_path, study.tuned), added.runs(tmp_path, study.tuned)
    extra = jobs[len(base) :]
    assert jobs[: len(base)] == base
    seeds = sorted({c["run"]["seed"] for _, c in base})
    assert sorted(c["run"]["seed"] for _, c in extra) == seeds  # every seed once
    assert {f.parent for f, _ in extra} == {tmp_path / "added" / "gt-dsgd_lr=0.004"}
    assert all(c["algorithm"] == {"name": "gt-dsgd", "lr": 0.004} for _, c in extra)
    ref = next(c for _, c in base if c["run"]["seed"] == extra[0][1]["run"]["seed"])
    assert {k: v for k, v in extra[0][1].items() if k != "algorithm"} == {
        k: v for k, v in ref.items() if k != "algorithm"
    }
    assert added.sections[-1].title.startswith("Added methods")


def test_an_entry_from_a_config_file_and_bad_entries(tmp_path):
    (tmp_path / "mine.toml").write_text('[algorithm]\nname = "dsgd-clip"\nlr = 0.01\n')
    entry = parse_entry(str(tmp_path / "mine.toml"))
    assert entry.algorithm == {"name": "dsgd-clip", "lr": 0.01} and entry.label == "mine"
    with pytest.raises(ConfigError, match="unknown key 'lrr'"):
        parse_entry("gt-nsgdm:lrr=3")
    with pytest.raises(
        ConfigError,
        match=r"its family \(async\) does not fit study 'demo' \(decentralized\); "
        r"it fits: e4, e4-cpu, e4-sst2, e4-smoke",
    ):
        with_added(get("demo"), [parse_entry("asgd")], studies())


def test_the_example_method_beside_the_demo_study(tmp_path):
    argv = ["study", "demo", "--add", "gt-clip:lr=0.02", "--plugin", "tailtamer_example"]
    argv += ["--out", str(tmp_path / "demo"), "--workers", "1", "--no-plot"]
    proc = run_cli(*argv, cwd=tmp_path, path=[ROOT / "examples" / "plugin"])
    assert proc.returncode == 0, proc.stderr
    report = (tmp_path / "demo" / "demo-report.md").read_text()
    row = next(line for line in report.splitlines() if "gt-clip_lr=0.02 (added)" in line)
    value = float(re.search(r"\| dist_to_opt \| ([0-9.e+-]+) \| 3 \|", row).group(1))
    assert 0 < value < 10


def test_under_tune_an_added_method_gets_the_studys_tuning_rule(tmp_path):
    """A tiny study that tunes dsgd's step on {0.003, 0.01} (no growing): ``--add gt-dsgd`` with ``--tune`` runs
    the same search for gt-dsgd in ROOT/added/gt-dsgd/tune, and its main runs use the step whose tuning runs
    ended lowest (named in their folders), as the study's own method uses its winner."""
    import json
    from dataclasses import replace

    from tailtamer.experiments import study
    from tailtamer.experiments.studies import gt_nsgdm_heavy_tails as e1
    from tailtamer.experiments.study import run_study
    from tailtamer.rundir.folder import last_metrics

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
        get("demo"),
        name="tiny",
        grid=lambda root: grid,
        runs=lambda root, tuned: [
            (root / "dsgd" / f"seed{s}", e1.config("dsgd", tuned["dsgd"], noise, s, steps=40)) for s in (0, 1)
        ],
        sections=(),
        plots=(),
        tuned={"dsgd": {"lr": 0.01}},
        report_file="tiny-report.md",
    )
    added = with_added(tiny, [parse_entry("gt-dsgd")], studies())
    root = tmp_path / "out"
    run_study(added, root, tune=True, workers=1, plot=False, log=lambda line: None)

    tuning = {
        lr: last_metrics(root / "added" / "gt-dsgd" / "tune" / "dsgd" / f"lr={lr:g}" / "seed100")["dist_to_opt"]
        for lr in (0.003, 0.01)
    }
    best = min(tuning, key=tuning.get)
    mains = sorted((root / "added" / "gt-dsgd").rglob("seed[01]/summary.json"))
    assert len(mains) == 2 and all(f"lr={best:g}" in str(p) for p in mains)
    for p in mains:
        cfg = (p.parent / "config.toml").read_text()
        assert 'name = "gt-dsgd"' in cfg and f"lr = {best!r}" in cfg
    report = (root / "tiny-report.md").read_text()
    assert "gt-dsgd (added)" in report and "not run" not in report
    assert json.loads((root / "tuned.json").read_text()) == {
        "dsgd": {
            "lr": min(
                (0.003, 0.01),
                key=lambda lr: last_metrics(root / "tune" / "dsgd" / f"lr={lr:g}" / "seed100")["dist_to_opt"],
            )
        }
    }


def test_an_sde_lab_method_beside_the_e5_smoke_study(tmp_path):
    """E5 runs SDE-lab methods: an added lab method (a plugin's, registered in LAB_METHODS) runs the cells of E5's
    reference method (the one with the most runs, DCSGD) with the cells' workers, steps and ω. A twin of DCSGD under
    another name must give DCSGD's numbers in every cell: the added rows equal the reference rows."""
    from tailtamer import plugins
    from tailtamer.experiments.added import added_jobs
    from tailtamer.experiments.study import run_study
    from tailtamer.sde.folders import read as read_lab

    plugin = tmp_path / "twin.py"  # a plugin file: the pool's workers load it too (TAILTAMER_PLUGINS)
    plugin.write_text(
        "from tailtamer.sde.models import LAB_METHODS\n"
        "if 'dcsgd-twin' not in LAB_METHODS:\n"
        "    twin = type('DCSGDTwin', (LAB_METHODS.get('dcsgd'),), {'__doc__': 'DCSGD.'})\n"
        "    LAB_METHODS.register('dcsgd-twin')(twin)\n"
    )
    plugins.load([str(plugin)])
    entry = parse_entry("dcsgd-twin")
    assert entry.section == "method" and entry.family == "sde-lab"
    study = with_added(get("e5-smoke"), [entry], studies())
    root = tmp_path / "e5"
    run_study(study, root, workers=2, plot=False, log=lambda line: None)
    jobs = get("e5-smoke").runs(root, get("e5-smoke").tuned)
    added = added_jobs(jobs, root, entry)
    assert len(added) > 10
    for folder, cfg in added:  # each added run is a reference cell run by the twin: the same numbers
        twin_of = [g for g, d in jobs if {**d, "method": {**d["method"], "name": "dcsgd-twin"}} == cfg]
        assert twin_of, cfg
        assert read_lab(folder)["discrete"]["mean"] == read_lab(twin_of[0])["discrete"]["mean"]
    report = (root / study.report_file).read_text()
    assert "dcsgd-twin (added)" in report and "not run" not in report
    with pytest.raises(ConfigError, match="does not fit study 'e5-smoke'"):
        with_added(get("e5-smoke"), [parse_entry("gt-nsgdm")], studies())
