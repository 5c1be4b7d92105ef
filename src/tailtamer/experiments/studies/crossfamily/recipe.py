"""The cross-family recipe as data (docs/crossfamily.md, issue 28 item 4): :class:`Target` (when a run has
reached its goal), :class:`Workload` (a problem, its noise, its target and its simulated-time horizon on each
cluster), :class:`Method` (a method of one family with its topology, codec and step axis) and :class:`Recipe`,
with the declared values :data:`CPU` (``tailtamer study crossfamily``) and :data:`SMOKE`
(``crossfamily-smoke``).

Every method runs on the same clock: a run's budget is the workload's horizon in simulated seconds of the
cluster (``[cluster]``, :mod:`tailtamer.cluster`), which a lockstep method turns into steps and an event-driven
one uses as its ``[run] time`` (:mod:`.budget`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ....errors import ConfigError

#: The families of the engine (``Algorithm.family``), in the order the tables list them.
FAMILIES = ("decentralized", "local-update", "async", "compressed")


@dataclass(frozen=True)
class Target:
    """When a run has reached its goal: ``metric`` at ``level(initial)`` or better.

    ``value``: an absolute target (an accuracy); otherwise the distance to ``ideal`` (0 for a gap, 1 for an
    accuracy) shrunk to ``fraction`` of its initial value (``fraction = 0.1``: 10% of the initial gap).
    """

    metric: str
    higher: bool = False
    fraction: float | None = None
    value: float | None = None
    ideal: float = 0.0

    def __post_init__(self) -> None:
        if (self.fraction is None) == (self.value is None):
            raise ConfigError(f"target on '{self.metric}': give exactly one of a fraction or a value")
        if self.fraction is not None and not 0 < self.fraction < 1:
            raise ConfigError(f"target fraction must be in (0, 1), got {self.fraction}")

    def level(self, initial: float) -> float:
        """The metric's target value, given its value at step 0."""
        if self.value is not None:
            return self.value
        assert self.fraction is not None
        return self.ideal + self.fraction * (initial - self.ideal)

    def reached(self, value: float, level: float) -> bool:
        """Whether ``value`` is at ``level`` or better (NaN never is)."""
        return value >= level if self.higher else value <= level

    def describe(self) -> str:
        """The target in words, for the tables' captions."""
        if self.value is not None:
            return f"{self.metric} {'≥' if self.higher else '≤'} {self.value:g}"
        what = f"|{self.metric} − {self.ideal:g}|" if self.ideal else self.metric
        return f"{what} ≤ {self.fraction:g} × its initial value"


@dataclass(frozen=True)
class Workload:
    """A problem with its injected noise and target, tuned on ``metric`` (lower is better), run for
    ``horizons[cluster]`` simulated seconds with about ``evals`` evaluations per run."""

    label: str
    problem: dict[str, Any]
    target: Target
    metric: str
    horizons: dict[str, float]
    noise: dict[str, Any] = field(default_factory=lambda: {"name": "none"})
    dtype: str = "float64"
    evals: int = 40


@dataclass(frozen=True)
class Method:
    """A method: its ``[algorithm]`` section, the topology it runs on (a graph for gossip, ``server`` for the
    rest), its ``[compression]`` (None: none), the starting step axis of its tuning (``key``), parameters set to
    ``max(1, round(factor·n))`` for n workers (``per_n``) and ``derive(point)``: the algorithm settings a point
    of the axis stands for (Bi²Clip's thresholds follow its step)."""

    label: str
    algorithm: dict[str, Any]
    axis: tuple[float, ...]
    topology: str = "server"
    compression: dict[str, Any] | None = None
    key: str = "lr"
    per_n: dict[str, float] = field(default_factory=dict)
    derive: Callable[[dict[str, float]], dict[str, Any]] | None = None

    def section(self, n: int, point: Mapping[str, float]) -> dict[str, Any]:
        """The ``[algorithm]`` section for n workers at the grid ``point``."""
        out = copy.deepcopy(self.algorithm)
        out.update({k: max(1, round(f * n)) for k, f in self.per_n.items()})
        out.update(self.derive(dict(point)) if self.derive else dict(point))
        return out


@dataclass(frozen=True)
class Recipe:
    """Everything a cross-family study varies: workloads, methods, clusters (label → ``[cluster]`` section),
    n, the evaluation and tuning seeds and the grid's growth."""

    workloads: dict[str, Workload]
    methods: dict[str, Method]
    clusters: dict[str, dict[str, Any]]
    n: int
    seeds: tuple[int, ...]
    tune_seeds: tuple[int, ...]
    max_extensions: int = 3

    def __post_init__(self) -> None:
        """Every workload has a horizon on every cluster (else a one-line ConfigError)."""
        for w in self.workloads.values():
            missing = [c for c in self.clusters if not 0 < w.horizons.get(c, 0) < math.inf]
            if missing:
                raise ConfigError(f"crossfamily recipe: workload '{w.label}' has no horizon on {', '.join(missing)}")

    def settings(self) -> list[tuple[str, str]]:
        """``(workload, cluster)`` of every table cell column, cluster-major."""
        return [(w, c) for c in self.clusters for w in self.workloads]


# ---- the methods ----------------------------------------------------------------------------------------
#: Starting step axes (each grows past an edge holding the winner): normalized and sign steps move the iterate by
#: about the step, plain and clipped SGD steps multiply a gradient (E4's winners on least squares: 0.03 to 0.9).
STEPS = (0.01, 0.03, 0.1)
SGD_STEPS = (0.03, 0.1, 0.3)
#: Top-10% (the compressed-gossip study's top-k, docs/compression.md; CHOCO's consensus step γ = 0.1 won there).
TOP_K = {"name": "top-k", "fraction": 0.1}


def bi2clip(point: dict[str, float], u: float = 1.0, local_steps: int = 1) -> dict[str, Any]:
    """Bi²Clip at step ``lr`` with the TailOPT study's thresholds (:func:`~..tailopt_local_updates.recipe.point`):
    inner (u, u/20), outer scaled to a round's largest move H·lr·u."""
    move = local_steps * point["lr"] * u
    return {"lr": point["lr"], "u": u, "d": u / 20, "outer_lr": 1.0, "outer_u": move / 2, "outer_d": move / 40}


def _local(name: str, h: int) -> Method:
    derive = (lambda p: bi2clip(p, local_steps=h)) if name == "bi2clip" else None
    return Method(f"{name} H={h}", {"name": name, "local_steps": h, "clients": 1.0}, SGD_STEPS, derive=derive)


#: The issue's methods (``tailtamer list`` names), one row each; labels are the tables' row names.
METHODS: dict[str, Method] = {
    m.label: m
    for m in (
        Method("gt-nsgdm ring", {"name": "gt-nsgdm", "beta": 0.9}, STEPS, topology="ring"),
        Method("gt-nsgdm exp", {"name": "gt-nsgdm", "beta": 0.9}, STEPS, topology="exponential"),
        Method(
            "gt-nsgdm-choco top-k",
            {"name": "gt-nsgdm-choco", "beta": 0.9, "gamma": 0.1},
            STEPS,
            topology="ring",
            compression=TOP_K,
        ),
        _local("bi2clip", 1),
        _local("bi2clip", 8),
        _local("fedavg", 1),
        _local("fedavg", 8),
        Method("clipped-asgd", {"name": "clipped-asgd", "operator": {"name": "l2clip", "gamma": 1.0}}, SGD_STEPS),
        Method("ringmaster", {"name": "ringmaster", "variant": "discard"}, SGD_STEPS, per_n={"R": 1.0}),
        Method("fedbuff", {"name": "fedbuff", "lr": 1.0, "local_steps": 2, "K": 4}, (0.05, 0.15, 0.45), key="local_lr"),
        Method("ef21 top-k", {"name": "ef21"}, SGD_STEPS, compression=TOP_K),
        Method("dsignsgd", {"name": "dsignsgd"}, (0.001, 0.003, 0.01)),
        Method("sync-sgd", {"name": "sync-sgd"}, SGD_STEPS),
    )
}

#: The issue's three presets (:mod:`tailtamer.cluster`): 10 µs and 100 Gb/s; 50 ms and 1 Gb/s; 20 ms, 100 Mb/s
#: and one worker 10× slower.
PRESETS: dict[str, dict[str, Any]] = {p: {"name": p} for p in ("datacenter", "cross-region", "edge")}

#: Least squares as in E4 (Mishchenko et al. 2022: d = 400, 10,000 rows, A ~ U[0,1]/√d, batch 32) with Student-t
#: noise of scale 0.1; its gap falls fast along A's mean direction, then slowly (a tuned method is near 11% of
#: the initial gap by 100 steps): the target, 20% of the initial gap, is about getting there first.
LS = {"name": "least-squares", "dim": 400, "samples": 10_000, "batch": 32}
LS_TARGET = Target("gap", fraction=0.2)
DIGITS_TARGET = Target("val_acc", higher=True, value=0.9)


def _ls(df: float, horizons: dict[str, float]) -> Workload:
    noise = {"name": "student-t", "df": df, "scale": 0.1}
    return Workload(f"ls ν={df:g}", LS, LS_TARGET, "gap", horizons, noise, evals=100)


#: Simulated seconds per cluster: about 400 lockstep steps on datacenter, 270 on cross-region (two 50 ms gossips a
#: step) and 220 on edge (the 10× straggler's 0.5 s a step); an event-driven method makes 16 times as many updates
#: on datacenter, about 4,000 on cross-region and 20,000 on edge (the straggler is not waited for).
LS_HORIZONS = {"datacenter": 4.0, "cross-region": 30.0, "edge": 120.0}

#: The study at CPU scale (``tailtamer study crossfamily [--tune]``; docs/crossfamily.md gives its cost).
CPU = Recipe(
    workloads={
        "ls-t1.5": _ls(1.5, LS_HORIZONS),
        "ls-t2.5": _ls(2.5, LS_HORIZONS),
        "digits": Workload(
            "digits CNN",
            {"name": "digits-cnn", "batch_size": 32},
            DIGITS_TARGET,
            "val_loss",
            {"datacenter": 3.0, "cross-region": 25.0, "edge": 100.0},
            dtype="float32",
            evals=50,
        ),
    },
    methods=METHODS,
    clusters=PRESETS,
    n=16,
    seeds=(0, 1),
    tune_seeds=(100,),
    max_extensions=2,
)

#: Seconds, not minutes: a small least-squares problem, 4 workers, one method of each family, two presets.
SMOKE = replace(
    CPU,
    workloads={
        "ls-t1.5": Workload(
            "ls ν=1.5",
            {"name": "least-squares", "dim": 20, "samples": 200, "batch": 8},
            Target("gap", fraction=0.5),
            "gap",
            {"datacenter": 1.0, "edge": 10.0},
            {"name": "student-t", "df": 1.5, "scale": 0.1},
            evals=10,
        )
    },
    methods={k: METHODS[k] for k in ("gt-nsgdm ring", "fedavg H=8", "clipped-asgd", "ef21 top-k")},
    clusters={k: PRESETS[k] for k in ("datacenter", "edge")},
    n=4,
    seeds=(0,),
    max_extensions=1,
)
