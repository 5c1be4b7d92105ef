"""The contract suite (tailtamer/contract/, what ``tailtamer check`` runs) over every registry: every registered
algorithm, noise model, compressor, timing model and synthetic problem keeps its kind's contract (iterating the
registries, so components registered later are covered without editing this file). And the suite can fail: a
component that breaks one property is reported FAIL on that property, with the reason.

Algorithms run init-and-step, step-size, resume and state-layout here; "stacked" is run for every stackable
method by tests/engine/test_stacked.py (with more members and problems) and on one method here, "distributed" by
tests/distributed/test_distributed.py (``tailtamer check --distributed`` runs it on one method).
"""

from __future__ import annotations

import pytest
import torch

from tailtamer.algorithms import ALGORITHMS
from tailtamer.algorithms.decentralized.gt_dsgd import GTDSGD
from tailtamer.compression import COMPRESSORS
from tailtamer.compression.sign import ScaledSign
from tailtamer.contract import KINDS, check
from tailtamer.errors import ConfigError
from tailtamer.noise import NOISES, GaussianNoise
from tailtamer.problems import PROBLEMS, SyntheticProblem
from tailtamer.problems.quadratic import Quadratic
from tailtamer.timing import TIMINGS
from tailtamer.timing.models import Fixed

FAST = ("init-and-step", "step-size", "resume", "state-layout")
SYNTHETIC = [
    n for n in PROBLEMS.names() if isinstance(PROBLEMS.get(n), type) and issubclass(PROBLEMS.get(n), SyntheticProblem)
]


def statuses(kind: str, name: str, params: dict | None = None, only=None) -> dict[str, str]:
    _, results = check(name, kind, params, only=only)
    failed = [r.line() for r in results if r.status == "FAIL"]
    assert not failed, (kind, name, failed)
    return {r.name: r.status for r in results}


def test_every_family_is_covered():
    families = {ALGORITHMS.build(name, {}, steps=6).family for name in ALGORITHMS.names()}
    assert {"decentralized", "local-update"} <= families
    assert len(ALGORITHMS.names()) >= 70  # 10 decentralized + 56 TailOPT pairs + 4 named instances
    assert sum("lr" in ALGORITHMS.params(n) for n in ALGORITHMS.names()) > 80
    assert set(SYNTHETIC) >= {"quadratic", "logistic", "least-squares", "claim1", "tokenized-regression"}


@pytest.mark.parametrize("name", ALGORITHMS.names())
def test_algorithm_contract(name):
    got = statuses("algorithm", name, only=FAST)
    assert got["init-and-step"] == got["resume"] == got["state-layout"] == "PASS"
    assert got["step-size"] == ("PASS" if "lr" in ALGORITHMS.params(name) else "SKIP")


def test_stacked_members_equal_standalone_and_distributed_is_opt_in():
    got = statuses("algorithm", "gt-nsgdm", only=("stacked", "distributed"))
    assert got == {"stacked": "PASS", "distributed": "SKIP"}


@pytest.mark.parametrize("name", NOISES.names())
def test_noise_contract(name):
    assert set(statuses("noise", name).values()) == {"PASS"}  # every built-in draws ahead


@pytest.mark.parametrize("name", COMPRESSORS.names())
def test_compressor_contract(name):
    got = statuses("compression", name)
    c = COMPRESSORS.build(name, {})
    runs = "SKIP" if c.stateful else "PASS"  # powersgd: checked through its methods
    assert got["round-trip"] == got["bytes"] == runs
    stated = c.omega(12) is not None or c.delta(12) is not None
    assert got["omega-delta"] == (runs if stated else "SKIP")
    assert got["unbiased"] == (runs if c.unbiased else "SKIP")


@pytest.mark.parametrize("name", TIMINGS.names())
def test_timing_contract(name, tmp_path):
    params = {}
    if name == "trace":
        (tmp_path / "t.csv").write_text("1,2,3,4\n0.5,1,1.5,2\n")
        params = {"path": str(tmp_path / "t.csv")}
    assert set(statuses("timing", name, params).values()) == {"PASS"}


@pytest.mark.parametrize("name", SYNTHETIC)
def test_problem_contract(name):
    got = statuses("problem", name)
    assert got["gradient"] == got["purity"] == got["dtype"] == "PASS"


# ---- the suite fails a component that breaks a property ------------------------------------------------


class LeakyLr(GTDSGD):
    """Accepts any step size and grows a key after the first step."""

    name = "test-broken"

    def __init__(self, steps: int, lr: float = 0.01):
        self.lr, self._lr = lr, (lambda t: 0.01)

    def step(self, s, grad, comm, t):
        out = super().step(s, grad, comm, t)
        return {**out, "extra": torch.zeros(1)} if t >= 1 else out


class Stateful(GaussianNoise):
    """Draws depend on how many draws came before (and it does not declare draws_from_row_keys)."""

    draws_from_row_keys = False

    def __init__(self, scale: float = 1.0):
        super().__init__(scale)
        self.count = 0

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        self.count += 1
        return super().sample(seed, nodes, step + self.count, d, call, dtype)


class Float32Only(GaussianNoise):
    """Ignores the dtype asked for."""

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        return super().sample(seed, nodes, step, d, call).float()


class ShiftedNoise(GaussianNoise):
    """States a N(0, σ²) law but draws N(0.1, σ²)."""

    def sample(self, seed, nodes, step, d, call=0, dtype=torch.float64):
        return super().sample(seed, nodes, step, d, call, dtype) + 0.1


class ClaimsUnbiased(ScaledSign):
    """Scaled sign with false claims: unbiased with ω = 0.1."""

    unbiased = True

    def omega(self, d):
        return 0.1


class NegativeTime(Fixed):
    """A time of −1 for worker 2."""

    def duration(self, worker, job):
        return -1.0 if worker == 2 else super().duration(worker, job)


class OrderDependent(Fixed):
    """Times that count the calls before them (a real server asking in arrival order gets others)."""

    def __init__(self, n: int, seed: int = 0):
        super().__init__(n, seed)
        self.calls = 0

    def duration(self, worker, job):
        self.calls += 1
        return 1.0 + (self.calls % 3)


class WrongGradient(Quadratic):
    """The gradient of a quadratic, shifted: its stated optimum is no longer one."""

    def local_grad(self, x, nodes):
        return super().local_grad(x, nodes) + 0.01


BROKEN = [
    ("algorithm", LeakyLr, {"step-size": "lr = 0.0 accepted", "state-layout": "changed at step 2"}),
    ("noise", Stateful, {"purity": "keeps state"}),
    ("noise", Float32Only, {"dtype": "asked for torch.float64"}),
    ("noise", ShiftedNoise, {"moments": "do not follow the stated law"}),
    ("compression", ClaimsUnbiased, {"omega-delta": "exceeds the bound", "unbiased": "E C(x) ≠ x"}),
    ("timing", NegativeTime, {"positive": "= -1.0 at (2, 0)"}),
    ("timing", OrderDependent, {"same-in-real-runs": "order"}),
    ("problem", WrongGradient, {"gradient": "differs from autograd", "optimum": "not 0"}),
]


@pytest.mark.parametrize("kind, cls, broken", BROKEN, ids=[c.__name__ for _, c, _ in BROKEN])
def test_a_broken_component_fails_the_property_it_breaks(monkeypatch, kind, cls, broken):
    registry = KINDS[kind].registry
    monkeypatch.setitem(registry._entries, "test-broken", cls)
    monkeypatch.setitem(registry._summaries, "test-broken", "")
    _, results = check("test-broken", kind)
    failed = {r.name: r.reason for r in results if r.status == "FAIL"}
    assert set(failed) == set(broken), failed
    for prop, words in broken.items():
        assert words in failed[prop], (prop, failed[prop])


def test_unknown_and_ambiguous_names_are_one_line_errors():
    with pytest.raises(ConfigError, match=r"did you mean 'gt-nsgdm'"):
        check("gt-nsdgm")
    with pytest.raises(ConfigError, match=r"'pareto' is registered as noise and timing: choose one with --kind"):
        check("pareto")
    with pytest.raises(ConfigError, match=r"unknown key 'df'"):
        check("gaussian", params={"df": 3})
