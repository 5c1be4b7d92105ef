"""Tail-index estimators on laws of known index, the gradient-noise callback, `tailtamer diagnose` and
`tailtamer report`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tailtamer.diagnostics import GradientNoise, hill_alpha, measure_noise, mohammadi_alpha, read_noise
from tailtamer.noise import build_noise


def draws(name: str, params: dict, size: int = 200_000) -> np.ndarray:
    return build_noise(name, params).sample(3, torch.arange(1), 0, size)[0].numpy()


@pytest.mark.parametrize("alpha", [1.2, 1.5, 1.8])
def test_mohammadi_recovers_the_stable_index(alpha):
    x = draws("alpha-stable", {"alpha": alpha, "skew": 0.0})
    assert abs(mohammadi_alpha(x) - alpha) < 0.1


def test_estimators_on_cauchy_gaussian_and_student_t():
    rng = np.random.default_rng(0)
    c = rng.standard_cauchy(200_000)
    assert abs(mohammadi_alpha(c) - 1.0) < 0.1 and abs(hill_alpha(c) - 1.0) < 0.15
    g = rng.standard_normal(200_000)
    assert abs(mohammadi_alpha(g) - 2.0) < 0.1  # finite variance reads as α ≈ 2
    assert hill_alpha(g) > 4.0  # light tail: the Hill index is large
    t = draws("student-t", {"df": 1.5})
    assert abs(hill_alpha(t) - 1.5) < 0.25
    assert np.isnan(mohammadi_alpha([1.0, 2.0])) and np.isnan(hill_alpha([1.0]))


def test_noise_measurement_and_callback(tmp_path, capsys):
    pytest.importorskip("sklearn", reason="digits needs scikit-learn")
    from tailtamer.cli.main import main
    from tailtamer.experiments.runner import run_config

    cfg = {
        "problem": {"name": "digits-cnn", "batch_size": 8},
        "algorithm": {"name": "dsgd", "lr": 0.1},
        "topology": {"name": "ring", "n": 4},
        "run": {"steps": 20, "eval_every": 10, "dtype": "float32"},
    }
    run_config(
        cfg,
        tmp_path / "run",
        progress=False,
        plot=False,
        callbacks=[lambda folder: GradientNoise(folder, every=10, steps=[1], draws=2, large_batch=64)],
    )
    rows = read_noise(tmp_path / "run")
    assert [r["step"] for r in rows] == [1, 10, 20]
    r = rows[0]
    assert len(r["alpha_mohammadi"]) == 4 and np.array(r["noise_norms"]).shape == (4, 2)
    assert all(0.3 < a < 3.0 for a in r["alpha_mohammadi"]) and r["noise_norm_mean"] > 0
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert np.isfinite(metrics[-1]["train_loss"])
    assert main(["diagnose", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "| 10 |" in out and (tmp_path / "run" / "noise.png").stat().st_size > 1000
    assert main(["diagnose", str(tmp_path)]) == 2  # no noise.jsonl there


def test_measurement_does_not_disturb_training_draws():
    pytest.importorskip("sklearn", reason="digits needs scikit-learn")
    from tailtamer.problems import build_problem

    p = build_problem("digits-cnn", 2, {"batch_size": 4})
    x = p.x0(torch.float64).expand(2, -1).clone()
    g = p.grad(x, torch.arange(2), 0, 5)
    m = measure_noise(p, x, torch.arange(2), 0, 5, draws=2, large_batch=16)
    assert m["large_batch"] == 16 and len(m["alpha_hill"]) == 2
    torch.testing.assert_close(p.grad(x, torch.arange(2), 0, 5), g)


def test_report_prints_a_table1_style_table(tmp_path, capsys):
    from tailtamer.cli.main import main
    from tailtamer.rundir.folder import atomic_write_json

    for topo in ("ring", "complete"):
        for seed, value in ((0, 4.0), (1, 4.2)):
            folder = tmp_path / topo / "gt-nsgdm" / f"seed{seed}"
            folder.mkdir(parents=True)
            atomic_write_json(
                folder / "summary.json",
                {
                    "status": "finished",
                    "metrics": {"val_loss": value},
                    "algorithm": "gt-nsgdm",
                    "seed": seed,
                    "topology": {"name": topo},
                },
            )
    bad = tmp_path / "ring" / "dsgd" / "seed0"
    bad.mkdir(parents=True)
    atomic_write_json(
        bad / "summary.json",
        {"status": "diverged", "metrics": {}, "algorithm": "dsgd", "seed": 0, "topology": {"name": "ring"}},
    )
    assert main(["report", str(tmp_path), "--e2"]) == 0
    out = capsys.readouterr().out
    assert "| algorithm | ring | complete |" in out
    assert "| GT-NSGDm | 4.100 ± 0.141 (paper 0.258) | 4.100 ± 0.141 (paper 0.282) |" in out
    assert "| DSGD | diverged (1/1) (paper 5.633) |" in out
    assert main(["report", str(tmp_path)]) == 0
    assert "| gt-nsgdm |" in capsys.readouterr().out
