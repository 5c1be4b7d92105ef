"""A third-party noise model that does not declare ``draws_from_row_keys`` is called as documented: one step at a
time, with an int seed and node ids, in a plain run and in a stacked sweep (each member on its own copy).

Two such models: one that indexes an array pre-drawn per node by the node ids it is given (multi-step or
multi-member row ids would overrun it), and a stateful one (a generator seeded at its first call and advanced
by every call, so it needs its calls in its standalone order). Each member of a stacked sweep equals its
standalone run; a plain run calls the model with exactly (int seed, node ids 0..n−1, step, call) in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tailtamer.api import build
from tailtamer.engine.noise_ahead import row_keyed
from tailtamer.experiments import stacked
from tailtamer.experiments.runner import run_config
from tailtamer.noise import NOISES, NoiseModel, build_noise
from tailtamer.rundir.folder import read_metrics

N, D, STEPS = 4, 3, 12


class PreDrawnNoise(NoiseModel):
    """Noise read from an array drawn once per seed: ``table[node, step]`` (rows are node ids)."""

    name = "test-predrawn"

    def __init__(self, scale: float = 0.1) -> None:
        self.scale, self.calls = scale, []
        self.tables: dict[int, torch.Tensor] = {}

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        self.calls.append((type(seed), torch.as_tensor(nodes).tolist(), step, call))
        if seed not in self.tables:
            gen = torch.Generator().manual_seed(seed)
            self.tables[seed] = torch.randn(N, STEPS, 2, D, generator=gen, dtype=torch.float64)
        return (self.scale * self.tables[seed][torch.as_tensor(nodes), step, call, :d]).to(dtype)


class StatefulNoise(NoiseModel):
    """Noise from one generator seeded at the first call and advanced by every call (state in the instance)."""

    name = "test-stateful"

    def __init__(self, scale: float = 0.1) -> None:
        self.scale, self.gen = scale, None

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        if self.gen is None:
            self.gen = torch.Generator().manual_seed(seed)
        return (self.scale * torch.randn(len(nodes), d, generator=self.gen, dtype=torch.float64)).to(dtype)


MODELS = {m.name: m for m in (PreDrawnNoise, StatefulNoise)}


@pytest.fixture
def registered(monkeypatch):
    for name, cls in MODELS.items():
        monkeypatch.setitem(NOISES._entries, name, cls)
        monkeypatch.setitem(NOISES._summaries, name, cls.__doc__)


def _cfg(noise: str, seed: int, lr: float = 0.05) -> dict:
    return {
        "problem": {"name": "quadratic", "dim": D},
        "algorithm": {"name": "dsgd", "lr": lr},
        "topology": {"name": "ring", "n": N},
        "noise": {"name": noise},
        "run": {"steps": STEPS, "seed": seed, "eval_every": 3, "dtype": "float64"},
    }


def test_built_ins_declare_row_keys_and_user_models_do_not(registered):
    assert all(row_keyed(build_noise(name)) for name in NOISES.names() if name not in MODELS)
    assert not any(row_keyed(build_noise(name)) for name in MODELS)


def test_a_plain_run_calls_the_model_one_step_at_a_time_with_node_ids(registered):
    loop = build(_cfg("test-predrawn", seed=3))
    loop.run()
    calls = loop.oracle.noise.calls
    assert calls == [(int, list(range(N)), t, 0) for t in range(STEPS)]


@pytest.mark.parametrize("noise", sorted(MODELS))
def test_each_stacked_member_equals_its_standalone_run(registered, tmp_path, monkeypatch, noise):
    def alone(folder, *args, **kwargs):
        raise AssertionError(f"{folder} ran alone: the batch fell back to one run at a time")

    monkeypatch.setattr(stacked, "_alone", alone)
    cfgs = [_cfg(noise, seed, lr) for seed, lr in ((0, 0.05), (1, 0.02), (2, 0.05))]
    stacked.run_stacked([(str(tmp_path / f"member{i}"), c) for i, c in enumerate(cfgs)], plot=False)
    for i, c in enumerate(cfgs):
        run_config(c, tmp_path / f"alone{i}", progress=False, plot=False)
        together, solo = (read_metrics(Path(tmp_path / f"{k}{i}")) for k in ("member", "alone"))
        drop = ("wall_time_s",)
        assert [{k: v for k, v in r.items() if k not in drop} for r in together] == [
            {k: v for k, v in r.items() if k not in drop} for r in solo
        ], (noise, i)
        assert len(together) > 1 and together[-1]["step"] == STEPS
    # the members differ (their noise is their own seed's)
    finals = [read_metrics(Path(tmp_path / f"member{i}"))[-1] for i in range(3)]
    assert finals[0] != finals[2]
