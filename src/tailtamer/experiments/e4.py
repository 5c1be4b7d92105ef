"""E4 at CPU scale: asynchronous methods with stragglers under heavy-tailed noise (docs/async.md).

Least squares as in Mishchenko et al. 2022 (d = 400, 10,000 rows, A ~ U[0,1]/√d, batch 32) with injected
Student-t gradient noise (scale 0.1, ν ∈ {1.5, 2.5}, or none), 8 and 32 workers with the ``sqrt`` compute
times of ringmaster-lmo (τ_i = 1 + √(i+1), half-normal jitter) and the last worker a straggler, 2 paired seeds
(the j-th job of worker i takes the same time and draws the same noise under every method; one seed at
n = 32), a horizon of
``HORIZON`` simulated seconds. Every method's step is tuned on seed 0 at n = 8 for each noise (grid
``Method.grid``) and reused at n = 32 and in the straggler sweep (factor ∈ {1, 10, 100, 1000}, n = 8,
ν = 2.5). The metric is the optimality gap f(x) − f* at the horizon (a diverged run counts as inf).

The study is one declarative value, :data:`STUDY` (what varies, over which values, and which runs share
a tuned step), so it ports to the ``Study`` platform; :func:`plan` expands it into run folders and
:func:`run` executes them one after another in this process (1 thread), skipping finished folders.

    python -m tailtamer.experiments.e4 --out runs/e4            # the CPU recipe (≈ 40 min on 2 loaded cores)
    python -m tailtamer.experiments.e4 --out runs/e4q --quick    # a 1-minute smoke version
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine.run_dir import SUMMARY, atomic_write_json, read_metrics
from ..errors import NonFiniteError
from .runner import run_config


@dataclass(frozen=True)
class Method:
    """One method of the study: its ``[algorithm]`` section, the step grid tuned on seed 0, and parameters
    set to ``max(1, round(factor·n))`` for n workers (``per_n``)."""

    algorithm: dict[str, Any]
    grid: tuple[float, ...]
    key: str = "lr"
    per_n: dict[str, float] = field(default_factory=dict)

    def section(self, n: int, step: float) -> dict[str, Any]:
        out = {**copy.deepcopy(self.algorithm), self.key: step}
        out.update({k: max(1, round(f * n)) for k, f in self.per_n.items()})
        return out


@dataclass(frozen=True)
class Study:
    """E4's declaration: fixed sections, the axes, the tuning rule and the straggler sweep."""

    problem: dict[str, Any]
    noises: dict[str, dict[str, Any]]
    workers: tuple[int, ...]
    seeds: tuple[int, ...]
    horizon: float
    eval_every: int
    methods: dict[str, Method]
    straggler_factors: tuple[float, ...]
    sweep_n: int
    sweep_noise: str
    tune_n: int           # the n whose seed-0 runs choose each (method, noise)'s step
    seeds_at: dict[int, tuple[int, ...]] = field(default_factory=dict)   # fewer seeds for some n

    def seeds_for(self, n: int) -> tuple[int, ...]:
        return self.seeds_at.get(n, self.seeds)


LR = (0.01, 0.03, 0.1, 0.3, 1.0)
STUDY = Study(
    problem={"name": "least-squares", "dim": 400, "samples": 10_000, "batch": 32},
    noises={"none": {"name": "none"},
            "t2.5": {"name": "student-t", "df": 2.5, "scale": 0.1},
            "t1.5": {"name": "student-t", "df": 1.5, "scale": 0.1}},
    workers=(8, 32), seeds=(0, 1), horizon=100.0, eval_every=25,
    methods={
        "asgd": Method({"name": "asgd"}, LR),
        "delay-adaptive": Method({"name": "delay-adaptive-asgd"}, LR),
        "ringmaster": Method({"name": "ringmaster", "variant": "discard"}, LR, per_n={"R": 1.0}),
        "rennala": Method({"name": "rennala"}, LR, per_n={"B": 0.5}),
        "nm-asgd": Method({"name": "nm-asgd", "alpha": 0.1}, (0.001, 0.003, 0.01, 0.03, 0.1), per_n={"R": 1.0}),
        "clipped-asgd": Method({"name": "clipped-asgd", "operator": {"name": "l2clip", "gamma": 1.0}}, LR),
        "dc-asgd": Method({"name": "dc-asgd", "compensation": {"name": "dc", "lam": 0.04}}, LR),
        "fedbuff": Method({"name": "fedbuff", "lr": 1.0, "local_steps": 2, "K": 4}, tuple(v / 2 for v in LR),
                          key="local_lr"),
        "sync-sgd": Method({"name": "sync-sgd"}, LR),
        "m-sync": Method({"name": "m-sync"}, LR, per_n={"m": 0.5}),
    },
    straggler_factors=(1.0, 10.0, 100.0, 1000.0), sweep_n=8, sweep_noise="t2.5", tune_n=8, seeds_at={32: (0,)})

QUICK = Study(problem={"name": "least-squares", "dim": 50, "samples": 500, "batch": 8},
              noises={"none": {"name": "none"}, "t1.5": {"name": "student-t", "df": 1.5, "scale": 0.1}},
              workers=(4,), seeds=(0, 1), horizon=20.0, eval_every=10,
              methods={k: STUDY.methods[k] for k in ("asgd", "ringmaster", "clipped-asgd", "sync-sgd")},
              straggler_factors=(1.0, 100.0), sweep_n=4, sweep_noise="t1.5", tune_n=4)


def config(study: Study, method: str, noise: str, n: int, seed: int, step: float, factor: float) -> dict[str, Any]:
    return {"problem": dict(study.problem), "algorithm": study.methods[method].section(n, step),
            "topology": {"name": "server", "n": n}, "noise": dict(study.noises[noise]),
            "timing": {"name": "straggler", "factor": factor, "workers": [n - 1]},
            "run": {"steps": 10 ** 7, "time": study.horizon, "eval_every": study.eval_every, "seed": seed}}


def label(method: str, noise: str, n: int, seed: int, step: float, factor: float) -> str:
    return f"{method}/{noise}/n{n}/k{factor:g}/s{seed}/step{step:g}"


def final_gap(folder: Path) -> float:
    """The gap at the horizon, or inf for a diverged or huge run."""
    s = json.loads((folder / SUMMARY).read_text())
    if s.get("status") != "finished":
        return math.inf
    g = s["metrics"].get("gap", math.inf)
    return g if math.isfinite(g) else math.inf


def execute(study: Study, out: Path, method: str, noise: str, n: int, seed: int, step: float,
            factor: float) -> float:
    folder = out / "runs" / label(method, noise, n, seed, step, factor)
    if not (folder / SUMMARY).exists():
        if folder.exists():
            import shutil

            shutil.rmtree(folder)
        try:
            run_config(config(study, method, noise, n, seed, step, factor), folder, progress=False, plot=False)
        except NonFiniteError:
            pass
    return final_gap(folder)


def run(study: Study, out: Path) -> dict[str, Any]:
    """Tune, run and summarise the whole study into ``out/e4.json``."""
    import torch

    torch.set_num_threads(1)
    out = Path(out)
    t0 = time.time()
    tuned: dict[str, dict[str, float]] = {}
    for noise in study.noises:
        for method, m in study.methods.items():
            gaps = {step: execute(study, out, method, noise, study.tune_n, study.seeds[0], step, 1.0)
                    for step in m.grid}
            best = min(m.grid, key=lambda s: (gaps[s], s))
            tuned.setdefault(noise, {})[method] = best
            edge = best in (m.grid[0], m.grid[-1])
            print(f"[{time.time() - t0:6.0f}s] tuned {method} {noise}: {m.key} = {best:g}"
                  f"{' (grid edge)' if edge else ''}", flush=True)
    table: dict[str, Any] = {}
    for noise in study.noises:
        for n in study.workers:
            for method in study.methods:
                step = tuned[noise][method]
                gaps = [execute(study, out, method, noise, n, s, step, 1.0) for s in study.seeds_for(n)]
                table[f"{method}/{noise}/n{n}"] = summarize(gaps, step)
        print(f"[{time.time() - t0:6.0f}s] main grid {noise} done", flush=True)
    sweep: dict[str, Any] = {}
    for method in study.methods:
        step = tuned[study.sweep_noise][method]
        for k in study.straggler_factors:
            gaps = [execute(study, out, method, study.sweep_noise, study.sweep_n, s, step, k)
                    for s in study.seeds_for(study.sweep_n)]
            sweep[f"{method}/k{k:g}"] = summarize(gaps, step)
    print(f"[{time.time() - t0:6.0f}s] straggler sweep done", flush=True)
    result = {"tuned": tuned, "table": table, "sweep": sweep, "seconds": round(time.time() - t0, 1),
              "horizon": study.horizon, "seeds": list(study.seeds)}
    atomic_write_json(out / "e4.json", result)
    return result


def summarize(gaps: list[float], step: float) -> dict[str, Any]:
    finite = [g for g in gaps if math.isfinite(g)]
    return {"step": step, "gaps": gaps, "diverged": len(gaps) - len(finite),
            "median": statistics.median(gaps) if gaps else math.inf,
            "mean": statistics.fmean(finite) if len(finite) == len(gaps) else math.inf}


def curves(study: Study, out: Path, method: str, noise: str, n: int, factor: float, step: float) -> list[list[dict]]:
    return [read_metrics(out / "runs" / label(method, noise, n, s, step, factor)) for s in study.seeds_for(n)]


def plot(study: Study, out: Path, figures: Path) -> list[Path]:
    """Gap against simulated time (per noise, n = 8), and the final gap against the straggler factor."""
    from ..plots import _pyplot

    plt = _pyplot()
    res = json.loads((Path(out) / "e4.json").read_text())
    figures.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in study.workers:
        fig, axes = plt.subplots(1, len(study.noises), figsize=(5 * len(study.noises), 3.8), squeeze=False)
        for ax, noise in zip(axes[0], study.noises):
            for method in study.methods:
                step = res["tuned"][noise][method]
                runs = curves(study, out, method, noise, n, 1.0, step)
                if not all(runs) or any(len(r) != len(runs[0]) for r in runs):
                    rows = runs[0]
                    t = [r["time"] for r in rows]
                    v = [r["gap"] for r in rows]
                else:
                    t = [statistics.fmean(r[i]["time"] for r in runs) for i in range(len(runs[0]))]
                    v = [statistics.median(r[i]["gap"] for r in runs) for i in range(len(runs[0]))]
                ax.plot(t, v, label=method)
            ax.set_yscale("log")
            ax.set_xlabel("simulated time")
            ax.set_ylabel("f(x) − f*")
            ax.set_title(f"{noise}, n = {n}")
            ax.grid(alpha=0.3)
        axes[0][-1].legend(fontsize=7)
        fig.tight_layout()
        path = figures / f"e4_gap_time_n{n}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for method in study.methods:
        ks = list(study.straggler_factors)
        ax.plot(ks, [res["sweep"][f"{method}/k{k:g}"]["median"] for k in ks], marker="o", label=method)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("straggler factor (last worker k× slower)")
    ax.set_ylabel(f"median f(x) − f* at t = {study.horizon:g}")
    ax.set_title(f"{study.sweep_noise}, n = {study.sweep_n}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = figures / "e4_straggler.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return paths + [path]


def markdown(study: Study, out: Path) -> str:
    """The result tables (median gap over seeds; diverged runs counted)."""
    res = json.loads((Path(out) / "e4.json").read_text())
    fmt = lambda c: ("diverged" if math.isinf(c["median"]) else f"{c['median']:.4f}" if c["median"] < 100
                     else f"{c['median']:.2g}") + \
        (f" ({c['diverged']}/{len(c['gaps'])} div.)" if c["diverged"] else "")  # noqa: E731
    cols = [f"{noise}, n={n}" for noise in study.noises for n in study.workers]
    lines = ["| method | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for method in study.methods:
        cells = [fmt(res["table"][f"{method}/{noise}/n{n}"]) for noise in study.noises for n in study.workers]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "| method | " + " | ".join(f"k = {k:g}" for k in study.straggler_factors) + " |",
              "|---" * (len(study.straggler_factors) + 1) + "|"]
    for method in study.methods:
        lines.append(f"| {method} | " + " | ".join(fmt(res["sweep"][f"{method}/k{k:g}"])
                                                   for k in study.straggler_factors) + " |")
    lines += ["", "Tuned steps (seed 0, n = %d): " % study.tune_n + "; ".join(
        f"{noise}: " + ", ".join(f"{m} {v:g}" for m, v in res["tuned"][noise].items()) for noise in study.noises)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="E4 at CPU scale (asynchronous methods, docs/async.md)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--figures", default=None, help="where the PNGs go (default: OUT/figures)")
    args = ap.parse_args(argv)
    study = QUICK if args.quick else STUDY
    out = Path(args.out)
    run(study, out)
    plot(study, out, Path(args.figures) if args.figures else out / "figures")
    print(markdown(study, out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
