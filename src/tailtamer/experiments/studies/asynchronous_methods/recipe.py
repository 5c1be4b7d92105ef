"""The E4 recipe as data: :class:`Recipe` (workloads, methods, worker counts, seeds, the straggler sweeps and
the robustness heatmaps) and its four declared values, :data:`FULL` (the spec's CPU recipe E4′), :data:`CPU`
(the reduced version docs/async.md reports), :data:`SST2` (the full recipe's SST-2 part) and :data:`SMOKE`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any

from ....errors import ConfigError


@dataclass(frozen=True)
class Workload:
    """A problem with its injected noise, the metric tuned on (lower is better) and the run length."""

    problem: dict[str, Any]
    metric: str
    noise: dict[str, Any] = field(default_factory=lambda: {"name": "none"})
    horizon: float = 300.0  # simulated seconds
    eval_every: int = 25  # server updates
    dtype: str = "float64"
    accuracy: str | None = None  # a second metric the tables show (val_acc for classifiers)


@dataclass(frozen=True)
class Method:
    """A method: its ``[algorithm]`` section, the starting step axis of its tuning (``key``), and parameters
    set to ``max(1, round(factor·n))`` for n workers (``per_n``)."""

    algorithm: dict[str, Any]
    axis: tuple[float, ...]
    key: str = "lr"
    per_n: dict[str, float] = field(default_factory=dict)

    def section(self, n: int, params: dict[str, Any]) -> dict[str, Any]:
        """The algorithm section for n workers with ``params`` (dotted keys reach nested tables:
        ``operator.gamma``, ``compensation.lam``, ``delay.R``)."""
        out = copy.deepcopy(self.algorithm)
        out.update({k: max(1, round(f * n)) for k, f in self.per_n.items()})
        for key, value in params.items():
            *head, last = key.split(".")
            table = out
            for h in head:
                table = table.setdefault(h, {})
            table[last] = value
        return out


@dataclass(frozen=True)
class Heatmap:
    """A robustness grid: final metric over ``steps`` × ``values`` of ``param`` for one method (``base``:
    extra algorithm settings, e.g. the threshold delay rule)."""

    method: str
    param: str
    label: str
    values: tuple[float, ...]
    steps: tuple[float, ...]
    workload: str
    n: int
    base: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LongSweep:
    """The straggler sweep again with a horizon long enough for the straggler to return several times, so the
    largest delay τ_max really grows with k (in a 100 s run a 100× straggler never returns)."""

    workloads: tuple[str, ...]
    factors: tuple[float, ...]
    horizon: float
    methods: tuple[str, ...]
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class Recipe:
    """Everything an E4 study varies."""

    workloads: dict[str, Workload]
    methods: dict[str, Method]
    workers: tuple[int, ...]
    seeds: tuple[int, ...]
    tune_seeds: tuple[int, ...]
    straggler_factors: tuple[float, ...]
    straggler_workloads: tuple[str, ...]
    straggler_n: int
    heatmaps: dict[str, Heatmap]
    heatmap_seeds: tuple[int, ...]
    max_extensions: int = 4
    long_sweep: LongSweep | None = None
    workers_at: dict[str, tuple[int, ...]] = field(default_factory=dict)  # fewer n for some workloads
    seeds_at: dict[str, tuple[int, ...]] = field(default_factory=dict)  # fewer seeds for some workloads

    def __post_init__(self) -> None:
        """Every workload and method a sweep or heatmap names is declared (else a one-line ConfigError)."""
        ls = self.long_sweep
        used = {
            "workload": set(self.straggler_workloads)
            | {h.workload for h in self.heatmaps.values()}
            | set(ls.workloads if ls else ()),
            "method": {h.method for h in self.heatmaps.values()} | set(ls.methods if ls else ()),
        }
        for kind, known in (("workload", self.workloads), ("method", self.methods)):
            missing = sorted(used[kind] - set(known))
            if missing:
                raise ConfigError(
                    f"e4 recipe: unknown {kind} {', '.join(map(repr, missing))}; declared: {', '.join(known)}"
                )

    def ns(self, workload: str) -> tuple[int, ...]:
        return self.workers_at.get(workload, self.workers)

    def seeds_for(self, workload: str) -> tuple[int, ...]:
        return self.seeds_at.get(workload, self.seeds)

    def keys(self) -> list[str]:
        """``workload/n<n>`` for every tuned setting."""
        return [f"{w}/n{n}" for w in self.workloads for n in self.ns(w)]


# ---- the recipe ---------------------------------------------------------------------------------------
#: Least squares as in Mishchenko et al. 2022 (d = 400, 10,000 rows, A ~ U[0,1]/√d, batch 32 rows).
LS = {"name": "least-squares", "dim": 400, "samples": 10_000, "batch": 32}
STEPS = (0.03, 0.1, 0.3)


def _ls(noise: dict[str, Any], horizon: float) -> Workload:
    return Workload(LS, "gap", noise, horizon)


def _methods(local_steps: int) -> dict[str, Method]:
    return {
        "asgd": Method({"name": "asgd"}, STEPS),
        "delay-adaptive": Method({"name": "delay-adaptive-asgd"}, STEPS),
        "ringmaster": Method({"name": "ringmaster", "variant": "discard"}, STEPS, per_n={"R": 1.0}),
        "rennala": Method({"name": "rennala"}, STEPS, per_n={"B": 0.5}),
        "nm-asgd": Method({"name": "nm-asgd", "alpha": 0.1}, (0.003, 0.01, 0.03), per_n={"R": 1.0}),
        "clipped-asgd": Method({"name": "clipped-asgd", "operator": {"name": "l2clip", "gamma": 1.0}}, STEPS),
        "dc-asgd": Method({"name": "dc-asgd", "compensation": {"name": "dc", "lam": 0.04}}, STEPS),
        "fedbuff": Method(
            {"name": "fedbuff", "lr": 1.0, "local_steps": local_steps, "K": 4}, (0.015, 0.05, 0.15), key="local_lr"
        ),
        "sync-sgd": Method({"name": "sync-sgd"}, STEPS),
        "m-sync": Method({"name": "m-sync"}, STEPS, per_n={"m": 0.5}),
    }


def _heatmaps(workload: str, n: int) -> dict[str, Heatmap]:
    steps = (0.01, 0.03, 0.1, 0.3, 1.0)
    return {
        "ringmaster-R": Heatmap("ringmaster", "R", "R", (2, 4, 8, 16, 32), steps, workload, n),
        "ringmaster-stop-R": Heatmap(
            "ringmaster", "R", "R (stop)", (2, 4, 8, 16, 32), steps, workload, n, base={"variant": "stop"}
        ),
        "threshold-R": Heatmap(
            "asgd",
            "delay.R",
            "threshold R",
            (2, 4, 8, 16, 32),
            steps,
            workload,
            n,
            base={"delay": {"name": "threshold"}},
        ),
        "clip-lambda": Heatmap(
            "clipped-asgd", "operator.gamma", "clip level λ", (0.1, 0.3, 1.0, 3.0, 10.0), steps, workload, n
        ),
        "dc-lambda": Heatmap("dc-asgd", "compensation.lam", "DC λ", (0.01, 0.04, 0.2, 1.0, 5.0), steps, workload, n),
    }


#: The spec's CPU recipe E4′ in full (``tailtamer study e4 --tune``; hours on one core).
FULL = Recipe(
    workloads={
        "ls-none": _ls({"name": "none"}, 300.0),
        "ls-t2.5": _ls({"name": "student-t", "df": 2.5, "scale": 0.1}, 300.0),
        "ls-t1.5": _ls({"name": "student-t", "df": 1.5, "scale": 0.1}, 300.0),
        "digits": Workload(
            {"name": "digits-cnn", "batch_size": 32}, "val_loss", horizon=300.0, dtype="float32", accuracy="val_acc"
        ),
        "sst2": Workload(
            {"name": "sst2", "model": "tfidf", "max_vocab": 20000, "batch_size": 32},
            "val_loss",
            horizon=300.0,
            eval_every=50,
            dtype="float32",
            accuracy="val_acc",
        ),
    },
    methods=_methods(5),
    workers=(8, 32),
    seeds=(0, 1, 2, 3, 4),
    tune_seeds=(100, 101),
    straggler_factors=(1.0, 10.0, 100.0, 1000.0),
    straggler_workloads=("ls-none", "ls-t2.5", "ls-t1.5", "digits"),
    straggler_n=8,
    heatmaps={f"{k}/{w}": h for w in ("ls-none", "ls-t1.5") for k, h in _heatmaps(w, 8).items()},
    heatmap_seeds=(0, 1, 2, 3, 4),
    long_sweep=LongSweep(
        ("ls-none", "ls-t1.5"),
        (1.0, 3.0, 10.0, 30.0, 100.0),
        3000.0,
        ("asgd", "delay-adaptive", "ringmaster", "nm-asgd", "clipped-asgd", "dc-asgd"),
        (0, 1, 2, 3, 4),
    ),
)

#: What docs/async.md reports (``tailtamer study e4-cpu``): 100 simulated seconds (40 for SST-2), FedBuff
#: Q = 2, one tuning seed, SST-2 a smaller model at n = 8 only with 3 seeds, heatmaps on 2 seeds, the
#: straggler sweep on least squares only.
CPU = replace(
    FULL,
    workloads={
        **{k: replace(w, horizon=100.0) for k, w in FULL.workloads.items() if k.startswith("ls")},
        "digits": replace(FULL.workloads["digits"], horizon=100.0),
        "sst2": Workload(
            {"name": "sst2", "batch_size": 16, "d_model": 32, "ffn": 64, "context": 32},
            "val_loss",
            horizon=40.0,
            eval_every=25,
            dtype="float32",
            accuracy="val_acc",
        ),
    },
    methods=_methods(2),
    tune_seeds=(100,),
    straggler_workloads=("ls-none", "ls-t1.5"),
    long_sweep=LongSweep(
        ("ls-none", "ls-t1.5"),
        (1.0, 3.0, 10.0, 30.0),
        600.0,
        ("asgd", "delay-adaptive", "ringmaster", "nm-asgd", "clipped-asgd", "dc-asgd"),
        (0, 1, 2),
    ),
    heatmaps={f"{k}/ls-t1.5": h for k, h in _heatmaps("ls-t1.5", 8).items()},
    heatmap_seeds=(0, 1),
    workers_at={"sst2": (8,)},
    seeds_at={"sst2": (0, 1, 2)},
    max_extensions=3,
)

#: The full recipe's SST-2 part on its own (``tailtamer study e4-sst2 --tune``): the linear TF-IDF model
#: (issue 29; the one-layer transformer before it stayed at chance), 300 s, n ∈ {8, 32}, 5 seeds, 2 tuning
#: seeds, Q = 5. No straggler sweep or heatmaps (the full recipe has none on SST-2 either).
SST2 = replace(FULL, workloads={"sst2": FULL.workloads["sst2"]}, straggler_workloads=(), heatmaps={}, long_sweep=None)

#: A minute-long smoke version of the CPU recipe (small problem, 4 workers, 4 methods).
SMOKE = replace(
    CPU,
    workloads={
        "ls-t1.5": Workload(
            {"name": "least-squares", "dim": 50, "samples": 500, "batch": 8},
            "gap",
            {"name": "student-t", "df": 1.5, "scale": 0.1},
            20.0,
            10,
        )
    },
    methods={k: CPU.methods[k] for k in ("asgd", "ringmaster", "clipped-asgd", "sync-sgd")},
    workers=(4,),
    seeds=(0, 1),
    straggler_factors=(1.0, 100.0),
    straggler_workloads=("ls-t1.5",),
    straggler_n=4,
    heatmaps={
        "clip-lambda/ls-t1.5": replace(_heatmaps("ls-t1.5", 4)["clip-lambda"], values=(0.3, 3.0), steps=(0.03, 0.3))
    },
    heatmap_seeds=(0,),
    max_extensions=1,
    long_sweep=LongSweep(("ls-t1.5",), (1.0, 10.0), 40.0, ("asgd", "clipped-asgd"), (0,)),
)
