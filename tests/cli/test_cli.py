"""The command line and run folders: validation before compute, outputs, resume, reproduction configs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tailtamer.cli.main import main
from tailtamer.config import load_toml
from tailtamer.errors import ConfigError
from tailtamer.experiments.runner import run_config
from tailtamer.experiments.studies import gt_nsgdm_heavy_tails as e1
from tailtamer.testing.interrupt import StopAt

ROOT = Path(__file__).resolve().parents[2]

SMALL = """
[problem]
name = "tokenized-regression"
[algorithm]
name = "gt-nsgdm"
lr = 0.01
[topology]
name = "ring"
n = 20
k = 2
[noise]
name = "alpha-stable"
alpha = 1.5
skew = 0.5
scale = 0.1
[run]
steps = 200
eval_every = 50
seed = 1
"""


@pytest.fixture
def cfg_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


@pytest.mark.parametrize(
    "args,rho",
    [
        (["ring", "--n", "8"], 0.8047),
        (["ring", "--n", "20", "--set", "k=2"], 0.904),
        (["exponential", "--n", "8", "--set", "self_weight=0.4"], 0.6),
        (["complete", "--n", "8"], 0.0),
    ],
)
def test_topology_command_prints_rho(args, rho, capsys):
    assert main(["topology", *args, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert round(out["rho"], 4 if rho == 0.8047 else 3) == rho


def test_run_writes_a_complete_run_folder(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--set", "algorithm.beta=0.8"]) == 0
    files = {p.name for p in out.iterdir()}
    assert {"config.toml", "metrics.jsonl", "summary.json", "metrics.png", "checkpoint.pt"} <= files
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 50, 100, 150, 200]
    assert summary["metrics"] == {k: v for k, v in rows[-1].items() if k in summary["metrics"]}
    assert set(summary["metrics"]) == {"dist_to_opt", "grad_norm", "loss", "consensus"}
    assert summary["steps"] == 200 and summary["status"] == "finished"
    # GT-NSGDm gossips twice per step; the 2-nearest ring has 4 out-neighbours: 8 messages of d = 20 floats
    assert summary["comm"]["messages_per_node_per_step"] == 8
    assert summary["comm"]["bytes_per_node_per_step"] == 8 * 20 * 8
    resolved = load_toml(out / "config.toml")
    assert resolved["algorithm"]["beta"] == 0.8 and resolved["algorithm"]["schedule"] == "constant"


def test_stopped_run_resumes_to_the_same_result(cfg_file, tmp_path):
    cfg = load_toml(cfg_file)
    cfg["run"]["checkpoint_every"] = 100
    full = run_config(cfg, tmp_path / "full", progress=False, plot=False)
    part = tmp_path / "part"
    with pytest.raises(KeyboardInterrupt):
        run_config(cfg, part, progress=False, plot=False, callbacks=[StopAt(150)])
    assert not (part / "summary.json").exists() and (part / "checkpoint.pt").exists()
    resumed = run_config(cfg, part, resume=True, progress=False, plot=False)
    assert resumed["metrics"] == full["metrics"]  # bitwise, float64
    assert resumed["comm"] == full["comm"]

    def strip(p):
        return [
            {k: v for k, v in json.loads(x).items() if k != "wall_time_s"}
            for x in (p / "metrics.jsonl").read_text().splitlines()
        ]

    assert strip(part) == strip(tmp_path / "full")  # steps 150 was dropped and redone
    with pytest.raises(ConfigError, match="differs"):
        run_config({**cfg, "run": {**cfg["run"], "seed": 9}}, part, resume=True, progress=False)


def test_existing_run_folder_is_not_overwritten(cfg_file, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--no-plot"]) == 0
    assert main(["run", str(cfg_file), "--out", str(out)]) == 2
    assert "not empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    "override,message",
    [
        ("algorithm.betta=0.9", "unknown key 'betta' for algorithm 'gt-nsgdm' in [algorithm] (did you mean 'beta'?)"),
        ("algorithm.name=gt-nsgd", "unknown algorithm 'gt-nsgd' (did you mean 'gt-nsgdm'?)"),
        ("noise.name=alpha-stabel", "did you mean 'alpha-stable'"),
        ("topology.name=rnig", "did you mean 'ring'"),
        ("problem.name=tokenized-regresion", "did you mean 'tokenized-regression'"),
        ("run.stepz=10", "did you mean 'steps'"),
        ("runn.steps=10", "unknown config section [runn] (did you mean 'run'?)"),
        ("run.dtype=float16", "dtype must be one of"),
        ("algorithm.lr=fast", "expected a number"),
        ("algorithm.lr=-1", "lr must be in (0, inf), got -1"),
        ("algorithm.lr=inf", "lr must be in (0, inf), got inf"),
        ("run.checkpoint_every=-1", "checkpoint_every must be ≥ 0"),
        ("topology.k=10", "k"),
        ("run.device=banana", "device 'banana' is not a torch device"),
        ("run.device=mps", "runs on 'cpu' or 'cuda' devices"),
    ],
)
def test_bad_config_fails_before_any_compute_with_a_suggestion(cfg_file, tmp_path, capsys, override, message):
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--set", override]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cuda_device_without_a_gpu_fails_before_the_folder_exists(cfg_file, tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    out = tmp_path / "run"
    assert main(["run", str(cfg_file), "--out", str(out), "--set", "run.device=cuda"]) == 2
    err = capsys.readouterr().err
    assert "[run] device = 'cuda' but" in err and "use device = 'cpu'" in err
    assert not out.exists()


def test_missing_config_file_names_the_path(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_diverging_run_reports_step_and_node_and_keeps_its_folder(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        SMALL.replace("gt-nsgdm", "dsgd")
        .replace("lr = 0.01", "lr = 5.0")
        .replace('name = "tokenized-regression"', 'name = "quartic"')
        .replace("k = 2", "k = 1")
        .replace('name = "alpha-stable"', 'name = "cauchy"')
        .replace("alpha = 1.5\nskew = 0.5\n", "")
    )
    out = tmp_path / "run"
    assert main(["run", str(cfg), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "diverged"
    assert f"step {summary['diverged']['step']} on node {summary['diverged']['node']}" in err


def test_list_shows_every_registry_with_defaults(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "gt-nsgdm",
        "sclip-ef",
        "theory",
        "= 'none'",
        "exponential",
        "self_weight",
        "alpha-stable",
        "tokenized-regression",
        "claim1",
        "cosine",
        "[run] settings",
        "eval_every",
    ):
        assert needle in out


def test_e1_configs_in_the_repo_are_the_tuned_recipe(tmp_path):
    written = {p.name: p.read_text() for p in e1.write_configs(tmp_path)}
    committed = {p.name: p.read_text() for p in (ROOT / "configs" / "e1").glob("*.toml")}
    assert written == committed and len(written) == 15
    for path in (ROOT / "configs" / "e1").glob("*.toml"):
        cfg = load_toml(path)
        assert cfg["problem"]["name"] == "tokenized-regression" and cfg["topology"] == e1.RING


def test_console_script_entry_point():
    done = subprocess.run(
        [sys.executable, "-m", "tailtamer.cli.main", "topology", "ring", "--n", "8"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "0.804738" in done.stdout


@pytest.mark.slow
def test_demo_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "demo"), "--seeds", "1", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    rows = {
        line.split("|")[1].strip(): float(line.split("|")[2].split("±")[0])
        for line in out.splitlines()
        if line.startswith("| ") and "±" not in line.split("|")[1] and line.split("|")[1].strip() in e1.METHODS
    }
    assert set(rows) == set(e1.METHODS)
    assert rows["gt-nsgdm"] < 0.5 < rows["dsgd"]  # GT-NSGDm converges, DSGD (stable step) does not get far
    assert (tmp_path / "demo" / "comparison.png").stat().st_size > 10_000


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text().splitlines()
    blocks = [readme[i + 1] for i, line in enumerate(readme[:20]) if line.strip() == "```bash"]
    setup_and_demo, setup_and_test = blocks[0], blocks[1]
    assert setup_and_demo.endswith("tailtamer demo") and "torch==2.13.0" in setup_and_demo
    # .ci/run runs the README's command in its two halves, with the lint, type, docs and layer checks between them
    install, tests = setup_and_test.split(" && .venv/bin/python -m pytest")[0], ".venv/bin/python -m pytest"
    assert setup_and_test == f"{install} && {tests}"
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert install in lines and tests in lines and lines.index(install) < lines.index(tests) == len(lines) - 1
    for check in ("ruff check .", "ruff format --check .", "mypy", "sphinx-build -W", "lint-imports"):
        assert any(check in ln for ln in lines[lines.index(install) : -1]), check
