"""E4: asynchronous methods with stragglers under heavy-tailed noise (docs/async.md, spec async.md §3 "E4′").

The recipe is one frozen value, :class:`Recipe`; :func:`study` turns a recipe into a :class:`~.study.Study`
(``tailtamer study e4 [--tune]``). Its runs, under the study root:

- ``tune/<workload>/n<n>/<method>/<key>=<v>/seed<s>``: each method's step tuned per workload and worker
  count on a growing grid (:mod:`~tailtamer.experiments.tuning`), scored by the mean final metric over
  the tuning seeds (lower is better: ``gap`` for least squares, ``val_loss`` for the models);
- ``main/<workload>/n<n>/<method>/<key>=<v>/seed<s>``: every method at its tuned step on the evaluation
  seeds (paired: the j-th job of worker i takes the same time and draws the same noise under every method);
- ``straggler/<workload>/k<k>/<method>/...``: the last worker k× slower, k ∈ {1, 10, 100, 1000};
- ``long-sweep/<workload>/k<k>/<method>/...``: the same with a horizon long enough for τ_max to grow with k;
- ``heatmap/<name>/<step>,<param>/seed<s>``: robustness grids over (step, R) and (step, λ).

Three declarations: :data:`STUDY` (``e4``) is the spec's CPU recipe in full (5 workloads, n ∈ {8, 32}, 5
seeds, 300 simulated seconds, FedBuff Q = 5); :data:`CPU_STUDY` (``e4-cpu``) is the reduced version that
docs/async.md reports (its reductions are listed there and in :data:`CPU`); :data:`SMOKE_STUDY`
(``e4-smoke``) runs in seconds. ``python -m tailtamer.experiments.e4 --out DIR [--quick]`` (the former
driver's command) runs ``e4-cpu`` (``e4-smoke``) with ``--tune``.
"""
from __future__ import annotations

import copy
import json
import math
import statistics
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .study import Grid, Plot, Section, Study

Job = tuple[Path, dict[str, Any]]


@dataclass(frozen=True)
class Workload:
    """A problem with its injected noise, the metric tuned on (lower is better) and the run length."""

    problem: dict[str, Any]
    metric: str
    noise: dict[str, Any] = field(default_factory=lambda: {"name": "none"})
    horizon: float = 300.0          # simulated seconds
    eval_every: int = 25            # server updates
    dtype: str = "float64"
    accuracy: str | None = None     # a second metric the tables show (val_acc for classifiers)


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
    workers_at: dict[str, tuple[int, ...]] = field(default_factory=dict)   # fewer n for some workloads
    seeds_at: dict[str, tuple[int, ...]] = field(default_factory=dict)     # fewer seeds for some workloads

    def __post_init__(self) -> None:
        """Every workload and method a sweep or heatmap names is declared (else a one-line ConfigError)."""
        from ..errors import ConfigError

        ls = self.long_sweep
        used = {"workload": set(self.straggler_workloads) | {h.workload for h in self.heatmaps.values()}
                | set(ls.workloads if ls else ()),
                "method": {h.method for h in self.heatmaps.values()} | set(ls.methods if ls else ())}
        for kind, known in (("workload", self.workloads), ("method", self.methods)):
            missing = sorted(used[kind] - set(known))
            if missing:
                raise ConfigError(f"e4 recipe: unknown {kind} {', '.join(map(repr, missing))}; "
                                  f"declared: {', '.join(known)}")

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
        "fedbuff": Method({"name": "fedbuff", "lr": 1.0, "local_steps": local_steps, "K": 4},
                          (0.015, 0.05, 0.15), key="local_lr"),
        "sync-sgd": Method({"name": "sync-sgd"}, STEPS),
        "m-sync": Method({"name": "m-sync"}, STEPS, per_n={"m": 0.5}),
    }


def _heatmaps(workload: str, n: int) -> dict[str, Heatmap]:
    steps = (0.01, 0.03, 0.1, 0.3, 1.0)
    return {
        "ringmaster-R": Heatmap("ringmaster", "R", "R", (2, 4, 8, 16, 32), steps, workload, n),
        "ringmaster-stop-R": Heatmap("ringmaster", "R", "R (stop)", (2, 4, 8, 16, 32), steps, workload, n,
                                     base={"variant": "stop"}),
        "threshold-R": Heatmap("asgd", "delay.R", "threshold R", (2, 4, 8, 16, 32), steps, workload, n,
                               base={"delay": {"name": "threshold"}}),
        "clip-lambda": Heatmap("clipped-asgd", "operator.gamma", "clip level λ", (0.1, 0.3, 1.0, 3.0, 10.0),
                               steps, workload, n),
        "dc-lambda": Heatmap("dc-asgd", "compensation.lam", "DC λ", (0.01, 0.04, 0.2, 1.0, 5.0), steps,
                             workload, n),
    }


#: The spec's CPU recipe E4′ in full (``tailtamer study e4 --tune``; hours on one core).
FULL = Recipe(
    workloads={"ls-none": _ls({"name": "none"}, 300.0),
               "ls-t2.5": _ls({"name": "student-t", "df": 2.5, "scale": 0.1}, 300.0),
               "ls-t1.5": _ls({"name": "student-t", "df": 1.5, "scale": 0.1}, 300.0),
               "digits": Workload({"name": "digits-cnn", "batch_size": 32}, "val_loss", horizon=300.0,
                                  dtype="float32", accuracy="val_acc"),
               "sst2": Workload({"name": "sst2", "model": "tfidf", "max_vocab": 20000, "batch_size": 32}, "val_loss",
                                horizon=300.0, eval_every=50, dtype="float32", accuracy="val_acc")},
    methods=_methods(5), workers=(8, 32), seeds=(0, 1, 2, 3, 4), tune_seeds=(100, 101),
    straggler_factors=(1.0, 10.0, 100.0, 1000.0), straggler_workloads=("ls-none", "ls-t2.5", "ls-t1.5", "digits"),
    straggler_n=8, heatmaps={f"{k}/{w}": h for w in ("ls-none", "ls-t1.5") for k, h in _heatmaps(w, 8).items()},
    heatmap_seeds=(0, 1, 2, 3, 4),
    long_sweep=LongSweep(("ls-none", "ls-t1.5"), (1.0, 3.0, 10.0, 30.0, 100.0), 3000.0,
                         ("asgd", "delay-adaptive", "ringmaster", "nm-asgd", "clipped-asgd", "dc-asgd"), (0, 1, 2, 3, 4)))

#: What docs/async.md reports (``tailtamer study e4-cpu``): 100 simulated seconds (40 for SST-2), FedBuff
#: Q = 2, one tuning seed, SST-2 a smaller model at n = 8 only with 3 seeds, heatmaps on 2 seeds, the
#: straggler sweep on least squares only.
CPU = replace(
    FULL,
    workloads={**{k: replace(w, horizon=100.0) for k, w in FULL.workloads.items() if k.startswith("ls")},
               "digits": replace(FULL.workloads["digits"], horizon=100.0),
               "sst2": Workload({"name": "sst2", "batch_size": 16, "d_model": 32, "ffn": 64, "context": 32},
                                "val_loss", horizon=40.0, eval_every=25, dtype="float32", accuracy="val_acc")},
    methods=_methods(2), tune_seeds=(100,), straggler_workloads=("ls-none", "ls-t1.5"),
    long_sweep=LongSweep(("ls-none", "ls-t1.5"), (1.0, 3.0, 10.0, 30.0), 600.0,
                         ("asgd", "delay-adaptive", "ringmaster", "nm-asgd", "clipped-asgd", "dc-asgd"), (0, 1, 2)),
    heatmaps={f"{k}/ls-t1.5": h for k, h in _heatmaps("ls-t1.5", 8).items()}, heatmap_seeds=(0, 1),
    workers_at={"sst2": (8,)}, seeds_at={"sst2": (0, 1, 2)}, max_extensions=3)

#: The full recipe's SST-2 part on its own (``tailtamer study e4-sst2 --tune``): the linear TF-IDF model
#: (issue 29; the one-layer transformer before it stayed at chance), 300 s, n ∈ {8, 32}, 5 seeds, 2 tuning
#: seeds, Q = 5. No straggler sweep or heatmaps (the full recipe has none on SST-2 either).
SST2 = replace(FULL, workloads={"sst2": FULL.workloads["sst2"]}, straggler_workloads=(), heatmaps={},
               long_sweep=None)

#: A minute-long smoke version of the CPU recipe (small problem, 4 workers, 4 methods).
SMOKE = replace(
    CPU, workloads={"ls-t1.5": Workload({"name": "least-squares", "dim": 50, "samples": 500, "batch": 8}, "gap",
                                        {"name": "student-t", "df": 1.5, "scale": 0.1}, 20.0, 10)},
    methods={k: CPU.methods[k] for k in ("asgd", "ringmaster", "clipped-asgd", "sync-sgd")}, workers=(4,),
    seeds=(0, 1), straggler_factors=(1.0, 100.0), straggler_workloads=("ls-t1.5",), straggler_n=4,
    heatmaps={"clip-lambda/ls-t1.5": replace(_heatmaps("ls-t1.5", 4)["clip-lambda"], values=(0.3, 3.0),
                                             steps=(0.03, 0.3))},
    heatmap_seeds=(0,), max_extensions=1,
    long_sweep=LongSweep(("ls-t1.5",), (1.0, 10.0), 40.0, ("asgd", "clipped-asgd"), (0,)))


# ---- configs and folders ------------------------------------------------------------------------------
def fmt(v: float) -> str:
    return f"{v:.4g}"


def config(recipe: Recipe, workload: str, method: str, n: int, seed: int, params: dict[str, Any],
           factor: float = 1.0) -> dict[str, Any]:
    """The config of one run: ``params`` set in the method's algorithm section; the last worker ``factor``×
    slower than the ``sqrt`` times of ringmaster-lmo."""
    w = recipe.workloads[workload]
    return {"problem": copy.deepcopy(w.problem), "algorithm": recipe.methods[method].section(n, params),
            "topology": {"name": "server", "n": n}, "noise": dict(w.noise),
            "timing": {"name": "straggler", "factor": float(factor), "workers": [n - 1]},
            "run": {"steps": 10 ** 7, "time": w.horizon, "eval_every": w.eval_every, "seed": seed,
                    "dtype": w.dtype}}


def default_step(recipe: Recipe, method: str) -> dict[str, float]:
    """The middle of a method's starting axis (used where no tuned value is recorded)."""
    m = recipe.methods[method]
    return {m.key: m.axis[len(m.axis) // 2]}


def step_of(recipe: Recipe, tuned: dict[str, Any], key: str, method: str) -> dict[str, float]:
    return dict(tuned.get(key, {}).get(method) or default_step(recipe, method))


def _label(params: dict[str, float]) -> str:
    return ",".join(f"{k}={fmt(v)}" for k, v in params.items())


def main_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    jobs = []
    for key in recipe.keys():
        w, n = key.split("/")[0], int(key.split("/n")[1])
        for m in recipe.methods:
            p = step_of(recipe, tuned, key, m)
            jobs += [(root / "main" / key / m / _label(p) / f"seed{s}", config(recipe, w, m, n, s, p))
                     for s in recipe.seeds_for(w)]
    return jobs


def straggler_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    jobs, n = [], recipe.straggler_n
    for w in recipe.straggler_workloads:
        for k in recipe.straggler_factors:
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                jobs += [(root / "straggler" / w / f"k{k:g}" / m / _label(p) / f"seed{s}",
                          config(recipe, w, m, n, s, p, k)) for s in recipe.seeds_for(w)]
    return jobs


def long_sweep_jobs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """The long straggler sweep at n = ``straggler_n``, each method at its tuned step."""
    ls, n, jobs = recipe.long_sweep, recipe.straggler_n, []
    if ls is None:
        return jobs
    for w in ls.workloads:
        for k in ls.factors:
            for m in ls.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                for s in ls.seeds:
                    cfg = config(recipe, w, m, n, s, p, k)
                    cfg["run"]["time"] = ls.horizon
                    jobs.append((root / "long-sweep" / w / f"k{k:g}" / m / _label(p) / f"seed{s}", cfg))
    return jobs


def heatmap_folder(root: Path, name: str, step: float, value: float) -> Path:
    return root / "heatmap" / name / f"step={fmt(step)},value={fmt(value)}"


def heatmap_jobs(recipe: Recipe, root: Path) -> list[Job]:
    jobs = []
    for name, h in recipe.heatmaps.items():
        key = recipe.methods[h.method].key
        for step in h.steps:
            for v in h.values:
                p = {**h.base, key: step, h.param: v}
                jobs += [(heatmap_folder(root, name, step, v) / f"seed{s}",
                          config(recipe, h.workload, h.method, h.n, s, _flat(p))) for s in recipe.heatmap_seeds]
    return jobs


def _flat(params: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"delay": {"name": "threshold"}, "lr": 0.1}`` → ``{"delay.name": "threshold", "lr": 0.1}``."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def runs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """Every run of the study (main table, straggler sweep, heatmaps) at the ``tuned`` steps."""
    root = Path(root)
    return (main_jobs(recipe, root, tuned) + straggler_jobs(recipe, root, tuned) + heatmap_jobs(recipe, root)
            + long_sweep_jobs(recipe, root, tuned))


def _collect(winners: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """``{"workload/n8/method": point}`` → ``{"workload/n8": {method: point}}``."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, point in winners.items():
        setting, method = key.rsplit("/", 1)
        out.setdefault(setting, {})[method] = point
    return out


def grid(recipe: Recipe, root: Path) -> Grid:
    """Each method's step per workload and n, starting from ``Method.axis`` and growing past an edge holding
    the winner (at most ``max_extensions`` values per side)."""
    def parts(key: str) -> tuple[str, int, str]:
        w, n, m = key.split("/")
        return w, int(n[1:]), m

    return Grid(axes={f"{k}/{m}": {meth.key: meth.axis} for k in recipe.keys() for m, meth in recipe.methods.items()},
                seeds=recipe.tune_seeds,
                folder=lambda root, k, p: Path(root) / "tune" / k / _label(p),
                config=lambda k, p, s: config(recipe, parts(k)[0], parts(k)[2], parts(k)[1], s, p),
                metric=lambda k: recipe.workloads[parts(k)[0]].metric, max_extensions=recipe.max_extensions,
                collect=_collect)


# ---- report ---------------------------------------------------------------------------------------------
def final(folder: Path, metric: str) -> float:
    """A finished run's final ``metric``; ∞ for a diverged run or a missing one."""
    path = folder / "summary.json"
    if not path.exists():
        return math.nan
    s = json.loads(path.read_text())
    v = s.get("metrics", {}).get(metric, math.inf) if s.get("status") == "finished" else math.inf
    return v if v == v and math.isfinite(v) else math.inf


def cell(folders: list[Path], metric: str) -> dict[str, Any]:
    vals = [final(f, metric) for f in folders]
    vals = [v for v in vals if v == v]                       # runs not done yet are left out
    div = sum(math.isinf(v) for v in vals)
    return {"values": vals, "diverged": div, "median": statistics.median(vals) if vals else math.nan}


def show(c: dict[str, Any], digits: int = 4) -> str:
    m = c["median"]
    if m != m:
        return "—"
    text = "diverged" if math.isinf(m) else (f"{m:.{digits}f}" if abs(m) < 100 else f"{m:.2g}")
    return text + (f" ({c['diverged']}/{len(c['values'])} div.)" if c["diverged"] and not math.isinf(m) else "")


def _seed_folders(folder: Path) -> list[Path]:
    return sorted(folder.glob("seed*")) if folder.exists() else []


def main_table(recipe: Recipe, root: Path, tuned: dict[str, Any], metric_of=lambda w: w.metric,
               only=lambda w: True) -> str:
    """Median final ``metric_of(workload)`` of every method (rows) per tuned setting (columns) of the workloads
    ``only`` keeps."""
    keys = [k for k in recipe.keys() if only(recipe.workloads[k.split("/")[0]])]
    cols = [f"{k.split('/')[0]}, n={k.split('/n')[1]}" for k in keys]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for m in recipe.methods:
        cells = []
        for k in keys:
            w = recipe.workloads[k.split("/")[0]]
            folder = root / "main" / k / m / _label(step_of(recipe, tuned, k, m))
            cells.append(show(cell(_seed_folders(folder), metric_of(w))))
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _main_section(recipe: Recipe):
    def body(root: Path, tuned: Any) -> str:
        ms = sorted({w.metric for w in recipe.workloads.values()})
        text = (f"Median final metric over seeds ({', '.join(ms)}; lower is better; "
                f"'diverged' = a non-finite run):\n\n" + main_table(recipe, root, tuned))
        if any(w.accuracy for w in recipe.workloads.values()):
            text += ("\n\nMedian final held-out accuracy (model workloads):\n\n"
                     + main_table(recipe, root, tuned, lambda w: w.accuracy, only=lambda w: bool(w.accuracy)))
        return text
    return body


def _tuning_section(recipe: Recipe):
    def body(root: Path, tuned: Any) -> str:
        path = root / "tuning.json"
        recs = json.loads(path.read_text()) if path.exists() else {}
        lines = ["| setting | " + " | ".join(recipe.methods) + " |", "|---" * (len(recipe.methods) + 1) + "|"]
        for k in recipe.keys():
            row = []
            for m in recipe.methods:
                r = recs.get(f"{k}/{m}")
                p = step_of(recipe, tuned, k, m)
                edge = f" (edge: {', '.join(r['at_edge'])})" if r and r.get("at_edge") else ""
                axis = list(r["axes"].values())[0] if r else []
                grown = f" [{fmt(axis[0])}…{fmt(axis[-1])}]" if axis else ""
                row.append(", ".join(fmt(v) for v in p.values()) + grown + edge)
            lines.append(f"| {k} | " + " | ".join(row) + " |")
        return ("Tuned step (FedBuff: its local step) per setting; [the grid's range after growing]; "
                "an edge still holding the winner is named.\n\n" + "\n".join(lines))
    return body


def _straggler_section(recipe: Recipe):
    def body(root: Path, tuned: Any) -> str | None:
        if not recipe.straggler_workloads:
            return None
        n, ks, out = recipe.straggler_n, recipe.straggler_factors, []
        for w in recipe.straggler_workloads:
            metric = recipe.workloads[w].metric
            lines = [f"{w}, n = {n}, median final {metric}:", "",
                     "| method | " + " | ".join(f"k = {k:g}" for k in ks) + f" | k={ks[-1]:g} / k={ks[0]:g} |",
                     "|---" * (len(ks) + 2) + "|"]
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                cs = [cell(_seed_folders(root / "straggler" / w / f"k{k:g}" / m / _label(p)), metric) for k in ks]
                ratio = cs[-1]["median"] / cs[0]["median"] if cs[0]["median"] else math.nan
                lines.append(f"| {m} | " + " | ".join(show(c) for c in cs) + f" | {ratio:.3g} |")
            out.append("\n".join(lines))
        return "\n\n".join(out)
    return body


def _long_sweep_section(recipe: Recipe):
    def body(root: Path, tuned: Any) -> str | None:
        ls, n = recipe.long_sweep, recipe.straggler_n
        if ls is None:
            return None
        out = []
        for w in ls.workloads:
            metric = recipe.workloads[w].metric
            lines = [f"{w}, n = {n}, horizon {ls.horizon:g} s: median final {metric} (median largest delay τ_max)", "",
                     "| method | " + " | ".join(f"k = {k:g}" for k in ls.factors) + " |", "|---" * (len(ls.factors) + 1) + "|"]
            for m in ls.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                row = []
                for k in ls.factors:
                    folders = _seed_folders(root / "long-sweep" / w / f"k{k:g}" / m / _label(p))
                    delays = [json.loads((f / "summary.json").read_text())["metrics"].get("max_delay", math.nan)
                              for f in folders if (f / "summary.json").exists()]
                    tau = f" (τ_max {statistics.median(delays):g})" if delays else ""
                    row.append(show(cell(folders, metric)) + tau)
                lines.append(f"| {m} | " + " | ".join(row) + " |")
            out.append("\n".join(lines))
        return "\n\n".join(out)
    return body


def heatmap_grid(recipe: Recipe, root: Path, name: str) -> list[list[float]]:
    """Median final metric per (value, step) of heatmap ``name`` (rows: values, columns: steps)."""
    h = recipe.heatmaps[name]
    metric = recipe.workloads[h.workload].metric
    return [[cell(_seed_folders(heatmap_folder(root, name, s, v)), metric)["median"] for s in h.steps]
            for v in h.values]


def _heatmap_section(recipe: Recipe):
    def body(root: Path, tuned: Any) -> str | None:
        out = []
        for name, h in recipe.heatmaps.items():
            g = heatmap_grid(recipe, root, name)
            metric = recipe.workloads[h.workload].metric
            finite = sum(math.isfinite(v) for row in g for v in row)
            lines = [f"{h.method} on {h.workload}, n = {h.n}: median final {metric} "
                     f"({finite} of {len(g) * len(h.steps)} cells finite)", "",
                     f"| {h.label} \\ step | " + " | ".join(fmt(s) for s in h.steps) + " |",
                     "|---" * (len(h.steps) + 1) + "|"]
            lines += [f"| {fmt(v)} | " + " | ".join(show({"median": x, "diverged": 0, "values": [x]}) for x in row)
                      + " |" for v, row in zip(h.values, g)]
            out.append("\n".join(lines))
        return "\n\n".join(out) or None
    return body


def _curves(folders: list[Path], metric: str) -> tuple[list[float], list[float]]:
    """Mean time and median metric per evaluation, over the seeds that reached it."""
    from ..engine.run_dir import read_metrics

    rows = [read_metrics(f) for f in folders]
    rows = [r for r in rows if r]
    if not rows:
        return [], []
    length = min(len(r) for r in rows)
    t = [statistics.fmean(r[i]["time"] for r in rows) for i in range(length)]
    v = [statistics.median(r[i].get(metric, math.nan) for r in rows) for i in range(length)]
    return t, v


def _draw_curves(recipe: Recipe):
    def draw(root: Path, path: Path, tuned: Any) -> None:
        from ..plots import panels, save

        keys = recipe.keys()
        fig, axes = panels(len(keys), 3, 4.6, 3.4)
        for ax, k in zip(axes, keys):
            w = recipe.workloads[k.split("/")[0]]
            for m in recipe.methods:
                t, v = _curves(_seed_folders(root / "main" / k / m / _label(step_of(recipe, tuned, k, m))), w.metric)
                ax.plot(t, v, label=m, lw=1.2)
            ax.set_yscale("log")
            ax.set_xlabel("simulated time")
            ax.set_title(f"{k}: {w.metric}", fontsize=9)
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=6)
        save(fig, path, dpi=90)
    return draw


def _draw_straggler(recipe: Recipe):
    def draw(root: Path, path: Path, tuned: Any) -> None:
        from ..plots import panels, save

        ws, n, ks = recipe.straggler_workloads, recipe.straggler_n, list(recipe.straggler_factors)
        if not ws:
            return
        fig, axes = panels(len(ws), len(ws), 5.0, 3.8)
        for ax, w in zip(axes, ws):
            metric = recipe.workloads[w].metric
            for m in recipe.methods:
                p = step_of(recipe, tuned, f"{w}/n{n}", m)
                ys = [cell(_seed_folders(root / "straggler" / w / f"k{k:g}" / m / _label(p)), metric)["median"]
                      for k in ks]
                ax.plot(ks, ys, marker="o", label=m)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("straggler factor k (last worker k× slower)")
            ax.set_ylabel(f"median final {metric}")
            ax.set_title(f"{w}, n = {n}")
            ax.grid(alpha=0.3)
        axes[-1].legend(fontsize=6)
        save(fig, path, dpi=90)
    return draw


def _draw_heatmaps(recipe: Recipe):
    def draw(root: Path, path: Path, tuned: Any) -> None:
        import numpy as np

        from ..plots import panels, save

        names = list(recipe.heatmaps)
        if not names:
            return
        fig, axes = panels(len(names), 3, 4.4, 3.6)
        for ax, name in zip(axes, names):
            h = recipe.heatmaps[name]
            g = np.array(heatmap_grid(recipe, root, name), dtype=float)
            shown = np.log10(np.where(np.isfinite(g), g, np.nan))
            im = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(h.steps)), [fmt(s) for s in h.steps], fontsize=7)
            ax.set_yticks(range(len(h.values)), [fmt(v) for v in h.values], fontsize=7)
            for (i, j), x in np.ndenumerate(g):
                if not np.isfinite(x):
                    ax.text(j, i, "div", ha="center", va="center", fontsize=6, color="red")
            ax.set_xlabel("step")
            ax.set_ylabel(h.label)
            ax.set_title(f"{h.method}, {h.workload}: log10 final {recipe.workloads[h.workload].metric}", fontsize=8)
            fig.colorbar(im, ax=ax)
        save(fig, path, dpi=90)
    return draw


#: The published expectations of spec async.md §3 (E4′ "Expected" and the findings it traces to).
EXPECTATIONS = {
    "tau_max": "Plain ASGD degrades as τ_max grows; clipped, delay-adaptive and Ringmaster-type methods stay flat "
               "(Koloskova et al. 2022; Erickson & Johansson)",
    "heavy_tails": "Under ν ≤ 2, methods without clipping or normalization diverge or stall; normalized and clipped "
                   "variants converge (spec E4′)",
    "sync": "Sync wall-clock is dominated by the straggler; m-Sync recovers most of the gap (Begunov & Tyurin 2026)",
    "async_vs_minibatch": "Async SGD beats minibatch SGD (Mishchenko et al. 2022); Ringmaster faster than "
                          "delay-adaptive ASGD and Rennala (Maranjyan et al. 2025)",
    "fedbuff": "FedBuff faster than synchronous FL (Nguyen et al. 2022)",
    "robustness": "Ringmaster / clipped methods more robust to hyper-parameters (heatmaps; Ringmaster page, 2602.18002)",
}


def study(name: str, recipe: Recipe, about: str, heading: str, tuned: dict[str, Any], seconds: float) -> Study:
    return Study(
        name=name, about=about, tuned=tuned, runs=lambda root, t: runs(recipe, Path(root), t),
        grid=lambda root: grid(recipe, Path(root)), heading=heading,
        sections=(Section("Final metric at the horizon (main grid, tuned steps)", _main_section(recipe)),
                  Section("Tuned steps", _tuning_section(recipe)),
                  Section("Straggler sweep", _straggler_section(recipe)),
                  Section("Straggler sweep with a long horizon (τ_max grows with k)", _long_sweep_section(recipe)),
                  Section("Robustness heatmaps", _heatmap_section(recipe))),
        plots=(Plot("e4_curves.png", _draw_curves(recipe)), Plot("e4_straggler.png", _draw_straggler(recipe)),
               Plot("e4_heatmaps.png", _draw_heatmaps(recipe))),
        published={"expectations": EXPECTATIONS}, seconds_per_run=seconds, report_file=f"{name}-report.md",
        run_plots=False)


#: The recorded winners of ``tailtamer study e4-cpu --tune`` (docs/async.md).
CPU_TUNED: dict[str, dict[str, dict[str, float]]] = {
    "ls-none/n8": {"asgd": {"lr": 0.3}, "delay-adaptive": {"lr": 0.3}, "ringmaster": {"lr": 0.9}, "rennala": {"lr":
        2.7}, "nm-asgd": {"lr": 0.01}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.3}, "fedbuff": {"local_lr":
        4.05}, "sync-sgd": {"lr": 2.7}, "m-sync": {"lr": 2.7}},
    "ls-none/n32": {"asgd": {"lr": 0.1}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.1}, "rennala": {"lr":
        2.7}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.1}, "fedbuff": {"local_lr":
        0.45}, "sync-sgd": {"lr": 2.7}, "m-sync": {"lr": 2.7}},
    "ls-t2.5/n8": {"asgd": {"lr": 0.1}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.1}, "rennala": {"lr":
        0.3}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.1}, "fedbuff": {"local_lr":
        0.15}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "ls-t2.5/n32": {"asgd": {"lr": 0.03}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.03}, "rennala":
        {"lr": 0.9}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.03}, "fedbuff":
        {"local_lr": 0.15}, "sync-sgd": {"lr": 0.9}, "m-sync": {"lr": 0.9}},
    "ls-t1.5/n8": {"asgd": {"lr": 0.03}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.03}, "rennala":
        {"lr": 0.1}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.03}, "fedbuff":
        {"local_lr": 0.15}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "ls-t1.5/n32": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.03}, "rennala":
        {"lr": 0.9}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.009}, "fedbuff":
        {"local_lr": 0.15}, "sync-sgd": {"lr": 0.9}, "m-sync": {"lr": 0.3}},
    "digits/n8": {"asgd": {"lr": 0.1}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.1}, "rennala": {"lr":
        0.3}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.03}, "fedbuff": {"local_lr":
        0.45}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "digits/n32": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.03}, "rennala":
        {"lr": 0.3}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.03}, "dc-asgd": {"lr": 0.009}, "fedbuff":
        {"local_lr": 0.15}, "sync-sgd": {"lr": 0.9}, "m-sync": {"lr": 0.3}},
    "sst2/n8": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.009}, "ringmaster": {"lr": 0.009}, "rennala":
        {"lr": 0.1}, "nm-asgd": {"lr": 0.01}, "clipped-asgd": {"lr": 0.009}, "dc-asgd": {"lr": 0.009}, "fedbuff":
        {"local_lr": 0.05}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.1}},
}

#: The recorded winners of ``tailtamer study e4-sst2 --tune`` (docs/async.md; docs/figures/e4-sst2.json).
SST2_TUNED: dict[str, dict[str, dict[str, float]]] = {
    "sst2/n8": {"asgd": {"lr": 0.03}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.03},
        "rennala": {"lr": 0.1}, "nm-asgd": {"lr": 0.003}, "clipped-asgd": {"lr": 0.009}, "dc-asgd": {"lr": 0.03},
        "fedbuff": {"local_lr": 0.45}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.1}},
    "sst2/n32": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.009}, "ringmaster": {"lr": 0.03},
        "rennala": {"lr": 0.3}, "nm-asgd": {"lr": 0.0009}, "clipped-asgd": {"lr": 0.0027},
        "dc-asgd": {"lr": 0.009}, "fedbuff": {"local_lr": 0.015}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
}

#: The recorded winners of ``tailtamer study e4 --tune`` (docs/async.md; docs/figures/e4.json): the full
#: recipe, tuned on 2 seeds (100, 101) on growing grids, 2026-11-21/22.
FULL_TUNED: dict[str, dict[str, dict[str, float]]] = {
    "ls-none/n8": {"asgd": {"lr": 0.3}, "delay-adaptive": {"lr": 0.9}, "ringmaster": {"lr": 0.9},
        "rennala": {"lr": 2.7}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.3},
        "fedbuff": {"local_lr": 4.05}, "sync-sgd": {"lr": 2.7}, "m-sync": {"lr": 2.7}},
    "ls-none/n32": {"asgd": {"lr": 0.1}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.3},
        "rennala": {"lr": 2.7}, "nm-asgd": {"lr": 0.01}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.1},
        "fedbuff": {"local_lr": 0.45}, "sync-sgd": {"lr": 2.7}, "m-sync": {"lr": 2.7}},
    "ls-t2.5/n8": {"asgd": {"lr": 0.03}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.03},
        "rennala": {"lr": 0.1}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.03},
        "fedbuff": {"local_lr": 0.05}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "ls-t2.5/n32": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.009}, "ringmaster": {"lr": 0.009},
        "rennala": {"lr": 0.3}, "nm-asgd": {"lr": 0.01}, "clipped-asgd": {"lr": 0.03}, "dc-asgd": {"lr": 0.009},
        "fedbuff": {"local_lr": 0.05}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "ls-t1.5/n8": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.009}, "ringmaster": {"lr": 0.009},
        "rennala": {"lr": 0.03}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.009},
        "fedbuff": {"local_lr": 0.015}, "sync-sgd": {"lr": 0.1}, "m-sync": {"lr": 0.1}},
    "ls-t1.5/n32": {"asgd": {"lr": 0.0027}, "delay-adaptive": {"lr": 0.009}, "ringmaster": {"lr": 0.009},
        "rennala": {"lr": 0.1}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.1}, "dc-asgd": {"lr": 0.0027},
        "fedbuff": {"local_lr": 0.015}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.1}},
    "digits/n8": {"asgd": {"lr": 0.03}, "delay-adaptive": {"lr": 0.1}, "ringmaster": {"lr": 0.1},
        "rennala": {"lr": 0.3}, "nm-asgd": {"lr": 0.09}, "clipped-asgd": {"lr": 0.3}, "dc-asgd": {"lr": 0.03},
        "fedbuff": {"local_lr": 0.15}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    "digits/n32": {"asgd": {"lr": 0.009}, "delay-adaptive": {"lr": 0.03}, "ringmaster": {"lr": 0.009},
        "rennala": {"lr": 0.3}, "nm-asgd": {"lr": 0.03}, "clipped-asgd": {"lr": 0.03}, "dc-asgd": {"lr": 0.009},
        "fedbuff": {"local_lr": 0.15}, "sync-sgd": {"lr": 0.3}, "m-sync": {"lr": 0.3}},
    **SST2_TUNED,                                       # the same jobs: the full run reused e4-sst2's folders
}

STUDY = study("e4", FULL, "E4 (spec E4'): 10 async methods x least squares (Student-t nu 1.5/2.5/none), digits CNN, "
              "SST-2; n = 8, 32; 5 seeds; straggler sweep; (step, R)/(step, lambda) heatmaps (about 2 h on 2 cores "
              "with --tune; without it, the recorded winners)",
              "## E4: asynchronous methods with stragglers (full CPU recipe)", FULL_TUNED, 4.0)
CPU_STUDY = study("e4-cpu", CPU, "E4 reduced to about an hour of one core (docs/async.md): 100 s horizons, "
                  "1 tuning seed, small SST-2 model at n = 8, heatmaps on least squares nu = 1.5",
                  "## E4 at CPU scale (reduced; docs/async.md)", CPU_TUNED, 1.6)
SST2_STUDY = study("e4-sst2", SST2, "E4's SST-2 workload as the full recipe has it: linear TF-IDF model, 300 s, "
                   "n = 8, 32, 5 seeds, 2 tuning seeds (use --tune: the recorded winners are the transformer's)",
                   "## E4 on SST-2 (the full recipe's SST-2 part)", SST2_TUNED, 20.0)
SMOKE_STUDY = study("e4-smoke", SMOKE, "E4 smoke test: small least squares, 4 workers, 4 methods (a few seconds)",
                    "## E4 smoke run", {}, 0.1)

STUDIES = (STUDY, CPU_STUDY, SST2_STUDY, SMOKE_STUDY)


def main(argv: list[str] | None = None) -> int:
    """``python -m tailtamer.experiments.e4``: the former ad-hoc driver, now ``tailtamer study e4-cpu --tune``
    (``--quick``: ``e4-smoke``)."""
    import argparse

    from .study import run_study

    ap = argparse.ArgumentParser(prog="python -m tailtamer.experiments.e4", description=main.__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    run_study(SMOKE_STUDY if args.quick else CPU_STUDY, Path(args.out), tune=True, workers=args.workers)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
