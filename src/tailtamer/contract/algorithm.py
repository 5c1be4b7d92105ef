"""The contract of an algorithm or scheme, whatever its family (docs/extending.md), on a tiny easy problem
(quadratic, d = 3, n = 4, mild Student-t noise, float64): it initialises and steps, refuses a step size of 0,
−1, ∞ and NaN, resumes bitwise from a checkpoint, a stacked member equals its standalone run, its state keeps a
stable layout, and (``distributed=True``) the simulator equals 2 gloo processes where its family runs under
``launch``."""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import torch

from ..algorithms import ALGORITHMS
from ..api import build
from ..distributed.run import launch
from ..engine.callbacks import Callback
from ..engine.state_check import layout
from ..errors import TailtamerError
from ..experiments.runner import run_config
from ..experiments.stacked import run_stacked, stackable
from ..rundir.checkpoint import load_checkpoint, save_checkpoint
from ..rundir.folder import read_metrics
from .result import Property, Skip

STEPS, CUT, N = 6, 3, 4


class Layouts(Callback):
    """Records the state's layout after every step."""

    def __init__(self) -> None:
        self.seen: list[dict] = []

    def on_step(self, loop: Any, step: int, state: dict) -> None:
        self.seen.append(layout(state))


@dataclass
class AlgorithmSubject:
    """A registered algorithm by name and parameters, with the config of its small run."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    distributed: bool = False

    def config(self, seed: int = 5, lr: float | None = None) -> dict[str, Any]:
        graph = ALGORITHMS.build(self.name, self.params, steps=STEPS).uses_graph()
        alg = {"name": self.name, **self.params, **({"lr": lr} if lr is not None else {})}
        return {
            "problem": {"name": "quadratic", "dim": 3},
            "algorithm": alg,
            "topology": {"name": "ring" if graph else "server", "n": N},
            "noise": {"name": "student-t", "df": 2.5, "scale": 0.1},
            "run": {"steps": STEPS, "seed": seed, "eval_every": 2, "dtype": "float64"},
        }

    @cached_property
    def run(self) -> tuple[dict, dict, list[dict], Any]:
        """(initial state, final state, layouts after every step, loop) of the full run."""
        layouts = Layouts()
        loop = build(self.config(), callbacks=[layouts])
        start = loop.initial_state()
        return start, loop.run(), layouts.seen, loop


def init_and_step(s: AlgorithmSubject) -> str:
    alg = ALGORITHMS.build(s.name, s.params, steps=STEPS)
    assert alg.name == s.name, f"it says its name is {alg.name!r}"
    json.dumps(alg.hyperparameters())
    start, full, _, _ = s.run
    assert "x" in start, "init returned no 'x'"
    bad = [k for k, v in full.items() if not k.startswith("engine.") and not bool(torch.isfinite(v).all())]
    assert not bad, f"state {bad[0]!r} is not finite after {STEPS} steps"
    moved = float((full["x"] - start["x"]).abs().max())
    assert moved > 0, f"x did not move in {STEPS} steps"
    return f"{STEPS} steps on a quadratic, finite state, x moved {moved:.2g}; hyperparameters are JSON"


def step_size(s: AlgorithmSubject) -> str:
    if "lr" not in ALGORITHMS.params(s.name):
        raise Skip("has no lr")
    accepted = []
    for value in (0.0, -1.0, math.inf, math.nan):
        try:
            ALGORITHMS.build(s.name, {**s.params, "lr": value}, steps=STEPS)
            accepted.append(value)
        except TailtamerError:
            pass
    assert not accepted, f"lr = {accepted[0]} accepted (must be refused at construction)"
    return "lr of 0, -1, inf and nan refused"


def resume(s: AlgorithmSubject) -> str:
    _, full, _, loop = s.run
    cfg = s.config()
    with tempfile.TemporaryDirectory() as tmp:
        half_loop = build(cfg)
        half_loop.steps = CUT
        half = half_loop.run()
        save_checkpoint(Path(tmp), half_loop, CUT, half)
        resumed_loop = build(cfg)
        state, step = load_checkpoint(Path(tmp), resumed_loop)
    assert step == CUT, f"the checkpoint says step {step}, saved at {CUT}"
    resumed = resumed_loop.run(state, start_step=step)
    assert set(resumed) == set(full), f"state keys differ after resuming: {sorted(set(resumed) ^ set(full))}"
    for k in full:
        assert resumed[k].dtype == full[k].dtype and torch.equal(resumed[k], full[k]), (
            f"state {k!r} differs after a resume at step {CUT}"
        )
    assert resumed_loop.comm.stats.as_dict() == loop.comm.stats.as_dict(), "communication counts differ"
    return f"stopped at {CUT}, checkpointed and resumed: equal bitwise at {STEPS}"


def _metrics(folder: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "wall_time_s"} for r in read_metrics(folder)]


def stacked(s: AlgorithmSubject) -> str:
    if not stackable(s.name, "quadratic"):
        raise Skip("its family does not stack: a sweep runs its members one by one")
    lr = ALGORITHMS.params(s.name).get("lr")
    lrs = (None, None) if lr is None or lr.required else (lr.default, lr.default / 2)
    cfgs = [s.config(seed, lr) for seed, lr in zip((0, 1), lrs)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        run_stacked([(str(root / f"member{i}"), c) for i, c in enumerate(cfgs)], plot=False)
        for i, c in enumerate(cfgs):
            run_config(c, root / f"alone{i}", progress=False, plot=False)
            a, b = _metrics(root / f"member{i}"), _metrics(root / f"alone{i}")
            assert len(a) == len(b) > 1, f"member {i} wrote {len(a)} metric rows, alone {len(b)}"
            for x, y in zip(a, b):
                for k in y:
                    same = x.get(k) == y[k] or abs(x.get(k, math.inf) - y[k]) <= 1e-12 * max(1.0, abs(y[k]))
                    assert same, f"member {i} at step {y['step']}: {k} = {x.get(k)} stacked, {y[k]} alone"
    return "2 members (other seed and step size) equal their standalone runs within 1e-12"


def state_layout(s: AlgorithmSubject) -> str:
    start, _, seen, _ = s.run
    want = layout(start)
    for t, got in enumerate(seen, 1):
        assert got == want, (
            f"the state's keys, shapes or dtypes changed at step {t}: "
            f"{sorted(set(got.items()) ^ set(want.items()), key=str)[:2]}"
        )
    return f"{len(want)} keys keep their shapes and dtypes through {len(seen)} steps"


def distributed(s: AlgorithmSubject) -> str:
    if not s.distributed:
        raise Skip("slow (2 gloo processes): run with --distributed")
    cfg = s.config()
    with tempfile.TemporaryDirectory() as tmp:
        sim, real = Path(tmp) / "sim", Path(tmp) / "real"
        run_config(cfg, sim, progress=False, plot=False)
        launch(cfg, real, 2, timeout=120, plot=False)
        a, b = _metrics(sim), _metrics(real)
    assert [r["step"] for r in a] == [r["step"] for r in b], "the processes wrote other evaluation steps"
    for x, y in zip(a, b):
        for k, v in x.items():
            assert math.isclose(y[k], v, rel_tol=1e-9, abs_tol=1e-12), f"step {x['step']}: {k} = {y[k]} vs {v}"
    return "2 gloo processes write the simulator's metrics (within 1e-9)"


PROPERTIES: dict[str, Property] = {
    "init-and-step": init_and_step,
    "step-size": step_size,
    "resume": resume,
    "stacked": stacked,
    "state-layout": state_layout,
    "distributed": distributed,
}
