"""The E4 declaration: every planned config validates; a tiny study runs end to end."""
from __future__ import annotations

import dataclasses
import json

from tailtamer.config import resolve
from tailtamer.experiments import e4


def test_every_planned_config_resolves():
    s = e4.STUDY
    for method, m in s.methods.items():
        for noise in s.noises:
            for n in s.workers:
                for k in s.straggler_factors:
                    r = resolve(e4.config(s, method, noise, n, 0, m.grid[0], k))
                    assert r["run"]["time"] == s.horizon and r["timing"]["factor"] == k


def test_a_tiny_study_runs_and_reports(tmp_path):
    tiny = dataclasses.replace(e4.QUICK, methods={k: e4.QUICK.methods[k] for k in ("asgd", "sync-sgd")},
                               noises={"none": {"name": "none"}}, seeds=(0,), horizon=8.0,
                               straggler_factors=(1.0, 1000.0), sweep_noise="none")
    res = e4.run(tiny, tmp_path)
    assert set(res["tuned"]["none"]) == {"asgd", "sync-sgd"}
    # with the last worker 1000× slower, sync-sgd completes no round before the horizon: the gap stays at f(x0)
    stuck = json.loads((tmp_path / "runs" / e4.label("sync-sgd", "none", 4, 0, res["tuned"]["none"]["sync-sgd"],
                                                      1000.0) / "summary.json").read_text())
    assert stuck["steps"] == 0
    assert res["sweep"]["asgd/k1000"]["median"] < res["sweep"]["sync-sgd/k1000"]["median"]
    assert "| asgd |" in e4.markdown(tiny, tmp_path)
    assert all(p.exists() for p in e4.plot(tiny, tmp_path, tmp_path / "fig"))
