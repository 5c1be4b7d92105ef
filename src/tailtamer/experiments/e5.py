"""E5: the SDE study of compressed and sign methods under (L0, L1)-smoothness and heavy tails
(docs/compression.md §5, recipe E5′; results in docs/sde.md), declared on the study platform:
``tailtamer study e5`` (``e5-smoke``: the same cells, 50 paths and 1/100 of the horizons, for tests).

Every cell of every table is one SDE-lab run (:mod:`tailtamer.sde.lab`) in its own folder
``ROOT/cells/<method>-<noise>-d<dim>-<hash>`` (``config.toml`` + ``sde.json``, :mod:`tailtamer.sde.folders`);
tables share cells, a cell runs once, and a stopped study resumes at the next unfinished cell.

Setup (E5′, our choices where it offers several): f = Σ x_j⁴/4 ((3, 3)-smooth), d ∈ {1, 10}, x0 = 2·1, σ = 1,
N = 1 worker (the speed-up tables vary N, the SDE tables use N = 4), η0 = 0.1, Bernoulli compression with
ω ∈ {0, 1, 4, 9}. Seeds: R independent blocks of 1000 paths stacked in one run (``[sde] replicates``; R = 3 at
d = 1, 2 at d = 10); a blow-up cell shows the fraction over all R·1000 paths and the range over the blocks.
Horizons: 10³ steps for the blow-up tables, 10⁴ for the blow-up law, t = 5 (η = 0.01) for the SDE match,
2000 steps for the speed-up. A path blows up when |x| > 1e6 or NaN.
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from ..rundir.progress import SweepProgress
from ..sde.folders import Job, pending, read, run_folder
from .executors import resolve
from .study import Section, Study

ETA0, PATHS = 0.1, 1000
BLOW_STEPS, LAW_STEPS = 1000, 10_000
DIMS = (1, 10)
REPLICATES = {1: 3, 10: 2}
OMEGAS = (0.0, 1.0, 4.0, 9.0)
#: The law's decades (steps K at which the blown-up fraction is read).
LAW_K = (100, 1000, 10_000)

TAILS: dict[str, dict[str, Any]] = {
    "ν = 1 (Cauchy)": {"noise": {"name": "cauchy"}},
    "ν = 1.5": {"noise": {"name": "student-t", "df": 1.5}},
    "ν = 2.5": {"noise": {"name": "student-t", "df": 2.5}},
    "ν = 5": {"noise": {"name": "student-t", "df": 5.0}},
    "Gaussian": {"noise": {"name": "gaussian"}},
}
NU = {"ν = 1 (Cauchy)": 1.0, "ν = 1.5": 1.5, "ν = 2.5": 2.5, "ν = 5": 5.0, "Gaussian": math.inf}
FINITE_VARIANCE = {k: v for k, v in TAILS.items() if NU[k] > 2}
HEAVY = {k: TAILS[k] for k in ("Gaussian", "ν = 1.5", "ν = 1 (Cauchy)")}


def run_folders(jobs: Sequence[Job], workers: int | None = 1, label: str = "lab",
                log: Callable[[str], None] = print, executor: Any = None, **_: Any) -> list[Path]:
    """Run every unfinished ``(folder, lab config)`` on ``executor`` (a study's executor: the local process
    pool by default, or Ray; one thread per run), with the sweeps' progress (a bar on a terminal, else a line on
    the clock of :data:`~tailtamer.rundir.progress.SWEEP_LOG_EVERY`)."""
    todo = pending(jobs)
    executor = resolve(executor)
    workers = executor.slots(workers)
    bar = SweepProgress(len(todo), min(workers, max(len(todo), 1)), label)
    bar.start()
    try:
        with closing(executor.map(run_folder, [(str(f), c) for f, c in todo], workers)) as results:
            for done, folder in enumerate(results, 1):
                bar(done, len(todo), folder)
    finally:
        bar.finish()
    return [Path(f) for f, _ in jobs]


def poly(a: float) -> dict[str, Any]:
    return {"name": "poly", "power": a, "t0": 1.0}                 # η0 (k+1)^(−a)


DCSGD_RULES: dict[str, dict[str, Any]] = {
    "D(C)SGD constant η0": {"method": {"name": "dcsgd"}},
    "D(C)SGD η0/(k+1)^0.6": {"method": {"name": "dcsgd", "schedule": poly(0.6)}},
    "D(C)SGD η0/(k+1)": {"method": {"name": "dcsgd", "schedule": poly(1.0)}},
    "D(C)SGD oracle η0/(3 + 3‖∇f‖)": {"method": {"name": "dcsgd", "rule": "oracle", "L0": 3.0, "L1": 3.0}},
    "D(C)SGD normalized η0/(1 + ‖ĝ‖)": {"method": {"name": "dcsgd", "rule": "practical", "a": 1.0, "b": 1.0,
                                                   "alpha": 1.0}},
}
SIGN_RULES: dict[str, dict[str, Any]] = {
    "DSignSGD constant η0": {"method": {"name": "dsignsgd"}},
    "DSignSGD Robbins–Monro η0/(k+1)^0.6": {"method": {"name": "dsignsgd",
                                                       "schedule": {"name": "robbins-monro", "power": 0.6}}},
}


def base(d: int, steps: int, replicates: int = 1, eta: float = ETA0) -> dict[str, Any]:
    return {"problem": {"name": "quartic", "dim": d, "x0": 2.0}, "method": {"workers": 1, "lr": eta},
            "noise": {"scale": 1.0},
            "sde": {"paths": PATHS, "replicates": replicates, "horizon": steps * eta, "seed": 0, "record": 100,
                    "compare": False}}


@dataclass(frozen=True)
class Table:
    """Cell (r, c) runs ``fixed`` ⊕ ``rows[r]`` ⊕ ``cols[c]`` (section-wise) and shows ``metric`` (a column may
    name its own under the key ``"metric"``, e.g. ``("blown_by", 1000)``)."""

    name: str
    title: str
    rows: dict[str, dict[str, Any]]
    cols: dict[str, dict[str, Any]]
    metric: tuple[Any, ...]
    fixed: dict[str, Any] = field(default_factory=dict)

    def config(self, row: str, col: str, scale: float = 1.0, paths: int | None = None) -> dict[str, Any]:
        """A cell's lab config (``scale`` multiplies the horizon, ``paths`` replaces M: the smoke study)."""
        cfg = merge(self.fixed, self.rows[row], self.cols[col])
        if cfg["method"]["name"] != "dcsgd":
            cfg["method"].pop("omega", None)                       # no compressor outside DCSGD
        if scale != 1.0:
            cfg["sde"]["horizon"] = cfg["sde"]["horizon"] * scale
        if paths is not None:
            cfg["sde"]["paths"] = paths
        return cfg


def merge(*parts: dict[str, Any]) -> dict[str, Any]:
    """Section-wise merge of config fragments (later wins); the ``metric`` marker is dropped."""
    out: dict[str, Any] = {}
    for p in parts:
        for section, body in p.items():
            if section != "metric":
                out.setdefault(section, {}).update(copy.deepcopy(body))
    return out


def _blow_up_table(w: float, d: int) -> Table:
    return Table(f"blow_up_omega{w:g}_d{d}", f"Blow-up fraction by step {BLOW_STEPS}, d = {d}, Bernoulli ω = {w:g} "
                 f"(DSignSGD rows: no compression; {REPLICATES[d]} blocks of {PATHS} paths: all, and the range over "
                 "the blocks)", {**DCSGD_RULES, **SIGN_RULES}, TAILS, ("blow_up",),
                 merge(base(d, BLOW_STEPS, REPLICATES[d]), {"method": {"omega": w}}))


def _median_table(w: float, d: int) -> Table:
    t = _blow_up_table(w, d)
    return Table(f"median_final_omega{w:g}_d{d}", f"Median final f over the paths after {BLOW_STEPS} steps "
                 f"(∞: more than half blew up), d = {d}, Bernoulli ω = {w:g}", t.rows, t.cols, ("median_final",),
                 t.fixed)


LAW_ROWS = {f"a = {a:g}, {tail} (1.5aν = {1.5 * a * NU[tail]:g}: "
            f"{'a.s.' if 1.5 * a * NU[tail] <= 1 else 'p < 1'})": {"method": {"schedule": poly(a)}, **TAILS[tail]}
            for a in (0.6, 1.0) for tail in ("ν = 1 (Cauchy)", "ν = 1.5", "ν = 2.5")}
SDE_ROWS = {"DSGD": {"method": {"name": "dsgd"}}, "DCSGD ω = 1": {"method": {"name": "dcsgd", "omega": 1.0}},
            "DCSGD ω = 4": {"method": {"name": "dcsgd", "omega": 4.0}}, "DSignSGD": {"method": {"name": "dsignsgd"}}}
WORKERS = {f"N = {n}": {"method": {"workers": n}} for n in (1, 4, 16)}


def _sde_table(d: int) -> Table:
    return Table(f"sde_match_d{d}", f"Discrete against SDE for ν > 2, d = {d} (η = 0.01, t ≤ 5, N = 4, {PATHS} "
                 "paths): gap = max_t |E f_disc − E f_SDE|; final E f discrete / SDE", SDE_ROWS, FINITE_VARIANCE,
                 ("gap",), merge(base(d, 500, eta=0.01), {"method": {"workers": 4}, "sde": {"compare": True}}))


TABLES: tuple[Table, ...] = (
    *[_blow_up_table(w, d) for d in DIMS for w in OMEGAS],
    *[_median_table(w, d) for d in DIMS for w in (0.0, 4.0)],
    Table("blow_up_law", f"Blow-up law (compression.md §5): fraction blown up by step K, DSGD (ω = 0), d = 1, "
          f"η0 (k+1)^(−a), {REPLICATES[1]}·{PATHS} paths", LAW_ROWS,
          {f"K = {k}": {"metric": ("blown_by", k)} for k in LAW_K}, ("blown_by", LAW_STEPS),
          merge(base(1, LAW_STEPS, REPLICATES[1]), {"method": {"name": "dcsgd", "omega": 0.0}})),
    *[_sde_table(d) for d in DIMS],
    Table("sign_speedup", "DSignSGD speed-up in N on the quartic, d = 1 (constant η = 0.01, 2000 steps): E f over "
          "paths and the last 20% of steps, ratio to N = 1", WORKERS, HEAVY, ("stationary",),
          merge(base(1, 2000, eta=0.01), {"method": {"name": "dsignsgd"}})),
    Table("sign_speedup_cosh", "DSignSGD speed-up in N at stationarity on f = cosh x, d = 1 (curvature 1 at x* = 0; "
          "constant η = 0.01, 2000 steps): E (f − f*) over paths and the last 20% of steps, ratio to N = 1",
          WORKERS, HEAVY, ("stationary",),
          merge(base(1, 2000, eta=0.01), {"problem": {"name": "cosh"}, "method": {"name": "dsignsgd"}})),
)


# ---- cells and their folders -----------------------------------------------------------------------------
def folder(root: Path, cfg: dict[str, Any]) -> Path:
    """A cell's run folder: readable prefix + a hash of the whole config (cells shared by tables coincide)."""
    digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:10]
    noise = cfg["noise"]["name"] + (f"{cfg['noise']['df']:g}" if "df" in cfg["noise"] else "")
    return Path(root) / "cells" / f"{cfg['method']['name']}-{noise}-d{cfg['problem']['dim']}-{digest}"


def cells(root: Path, scale: float = 1.0, paths: int | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """Every distinct cell of every table, as ``(folder, lab config)`` jobs."""
    jobs: dict[Path, dict[str, Any]] = {}
    for t in TABLES:
        for row in t.rows:
            for col in t.cols:
                cfg = t.config(row, col, scale, paths)
                jobs.setdefault(folder(root, cfg), cfg)
    return list(jobs.items())


# ---- metrics and tables ----------------------------------------------------------------------------------
def metric(spec: tuple[Any, ...], res: dict[str, Any]) -> Any:
    """A cell's value from its ``sde.json``."""
    d = res["discrete"]
    kind = spec[0]
    if kind == "blow_up":
        return (d["blow_up_fraction"], d.get("blow_up_by_replicate", [d["blow_up_fraction"]]))
    if kind == "blown_by":
        steps = [round(t / res["eta"]) for t in res["t"]]
        at = max((i for i, k in enumerate(steps) if k <= spec[1]), default=0)
        return d["blown_at"][at]
    if kind == "median_final":
        v = d["quantiles"]["0.5"][-1]
        return math.inf if v is None else v
    if kind == "gap":
        return f"{res['gap']:.2g} ({d['mean'][-1]:.3g} / {res['sde']['mean'][-1]:.3g})"
    if kind == "stationary":
        tail = [v for v in d["mean"][int(0.8 * len(d["mean"])):] if v is not None]
        return sum(tail) / len(tail) - (res.get("f_star") or 0.0) if tail else math.inf
    raise KeyError(kind)


def values(table: Table, root: Path, scale: float = 1.0, paths: int | None = None) -> dict[tuple[str, str], Any]:
    """The cells of ``table`` that have run: (row, column) → metric."""
    out = {}
    for row in table.rows:
        for col in table.cols:
            res = read(folder(root, table.config(row, col, scale, paths)))
            if res is not None:
                out[(row, col)] = metric(table.cols[col].get("metric", table.metric), res)
    return out


def _fmt(v: Any) -> str:
    if v is None:
        return "…"
    if isinstance(v, tuple):
        whole, blocks = v
        spread = f" ({min(blocks):.3g}–{max(blocks):.3g})" if len(blocks) > 1 and min(blocks) != max(blocks) else ""
        return f"{whole:.3g}{spread}"
    return v if isinstance(v, str) else ("∞" if math.isinf(v) else f"{v:.3g}")


def markdown(table: Table, vals: dict[tuple[str, str], Any]) -> str:
    """The table as Markdown ("…": a cell not run yet)."""
    cols = list(table.cols)
    lines = [f"**{table.title}**", "", "| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    first = next(iter(table.rows))
    for row in table.rows:
        cells_ = []
        for c in cols:
            v = vals.get((row, c))
            ref = vals.get((first, c))
            ratio = table.metric[0] == "stationary" and v is not None and ref is not None and v > 0
            cells_.append(_fmt(v) + (f" (×{ref / v:.2g})" if ratio else ""))
        lines.append(f"| {row} | " + " | ".join(cells_) + " |")
    return "\n".join(lines) + "\n"


def hazard_ratios(p: list[float]) -> list[float]:
    """Λ(K_{i+1})/Λ(K_i) for Λ = −ln(1 − p) (measured), or NaN where a fraction is 0 or 1."""
    lam = [-math.log(1 - x) if 0 < x < 1 else math.nan for x in p]
    return [b / a if a and a == a and b == b else math.nan for a, b in zip(lam, lam[1:])]


def predicted_ratios(exponent: float, ks: tuple[int, ...] = LAW_K) -> list[float]:
    """Λ(K) ∝ Σ_{k ≤ K} k^(−1.5aν) (compression.md §5, one-kick hazard): ratios between the decades."""
    sums = [sum(k ** -exponent for k in range(1, kk + 1)) for kk in ks]
    return [b / a for a, b in zip(sums, sums[1:])]


def law_body(root: Path, scale: float = 1.0, paths: int | None = None) -> str:
    table = next(t for t in TABLES if t.name == "blow_up_law")
    vals = values(table, root, scale, paths)
    lines = [markdown(table, vals), "", "Hazard Λ = −ln(1 − p) between decades, measured against the one-kick "
             "prediction Λ(K) ∝ Σ_{k≤K} k^(−1.5aν):", "",
             "| row | measured Λ(10³)/Λ(10²), Λ(10⁴)/Λ(10³) | predicted |", "|---|---|---|"]
    for row, spec in table.rows.items():
        p = [vals.get((row, c)) for c in table.cols]
        if None in p:
            continue
        a = spec["method"]["schedule"]["power"]
        nu = NU[next(k for k, v in TAILS.items() if v == {"noise": spec["noise"]})]
        ratios = hazard_ratios(p)
        meas = "— (no path blew up)" if all(r != r for r in ratios) else ", ".join(f"{r:.2f}" for r in ratios)
        lines.append(f"| {row} | {meas} | {', '.join(f'{r:.2f}' for r in predicted_ratios(1.5 * a * nu))} |")
    return "\n".join(lines) + "\n"


def make_study(name: str, about: str, scale: float = 1.0, paths: int | None = None) -> Study:
    sections = []
    for t in TABLES:
        if t.name == "blow_up_law":
            sections.append(Section("", lambda root, tuned: law_body(root, scale, paths)))
        else:
            sections.append(Section("", lambda root, tuned, t=t: markdown(t, values(t, root, scale, paths))))
    return Study(name=name, about=about, tuned={}, runs=lambda root, tuned: cells(root, scale, paths),
                 heading=f"# {name}: compressed and sign methods and their SDEs under heavy tails (docs/sde.md)",
                 sections=tuple(sections), published=PUBLISHED, seconds_per_run=0.9 * scale,
                 execute=run_folders, pending=pending)


#: The published claims the study checks (docs/sde.md sets our numbers beside each).
PUBLISHED: dict[str, str] = {
    "v1": "DSignSGD converges under standard scheduler conditions, even with heavy-tailed noise; D(C)SGD with a "
          "pre-scheduled step fails unless the step carries an inverse dependence on ‖∇f‖; normalization matters "
          "most under pathological noise or unbiased compression (arXiv 2506.00181 v1 abstract)",
    "aistats25": "DCSGD is more vulnerable to noise than DSGD; DSignSGD is robust and shows a linear speed-up in N",
    "law": "pre-scheduled D(C)SGD, η_k = η0 k^(−a), blows up almost surely iff 1.5aν ≤ 1 (compression.md §5, [D])",
    "sde": "the first-order SDEs model the methods for ν > 2 (weak error O(η))",
}

STUDY = make_study("e5", "SDE lab: blow-up over tails × ω × step rules (d = 1, 10), the blow-up law, discrete vs "
                   "SDE, DSignSGD speed-up in N (docs/sde.md)")
SMOKE = make_study("e5-smoke", "E5's cells with 50 paths and 1/100 of the horizons (a test of the pipeline)",
                   scale=0.01, paths=50)
STUDIES = (STUDY, SMOKE)


def main(argv: list[str] | None = None) -> None:
    """``python -m tailtamer.experiments.e5 [--out DIR] [--workers K]``: the same as ``tailtamer study e5``."""
    import argparse

    from .study import run_study

    ap = argparse.ArgumentParser(description="E5, the same as `tailtamer study e5`")
    ap.add_argument("--out", default="runs/e5")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    print(run_study(STUDY, Path(args.out), workers=args.workers))


if __name__ == "__main__":
    main()
