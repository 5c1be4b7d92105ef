"""E5: the SDE study of compressed and sign methods under (L0, L1)-smoothness and heavy tails
(docs/compression.md §5, recipe E5′; results in docs/sde.md).

The study is *data*: :data:`STUDY` is a list of :class:`Table` declarations — a base lab config, row and column
overrides, and the metric of a cell — so it ports to the Study platform as it is. :func:`run_study` runs every
distinct cell once (cells shared by tables are run once; finished cells are kept in ``results.json`` and not
rerun), and writes every table as Markdown.

    python -m tailtamer.experiments.e5 [--out runs/e5] [--quick]

Setup (E5′): f = x⁴/4 ((3, 3)-smooth), d = 1, x0 = 2, σ = 1, N = 1 worker unless a table says otherwise,
M = 1000 paths, 10⁴ steps, η0 = 0.1; Bernoulli compression with ω ∈ {0, 1, 4, 9}; a path blows up when
|x| > 1e6 or NaN.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..sde import build_lab, run_lab
from ..engine.atomic import atomic_write_text

ETA0, STEPS, PATHS = 0.1, 10_000, 1000

BASE: dict[str, Any] = {"problem": {"name": "quartic", "dim": 1, "x0": 2.0},
                        "method": {"workers": 1, "lr": ETA0},
                        "noise": {"scale": 1.0},
                        "sde": {"paths": PATHS, "horizon": STEPS * ETA0, "seed": 0, "record": 100}}

TAILS: dict[str, dict[str, Any]] = {
    "ν = 1 (Cauchy)": {"noise": {"name": "cauchy"}},
    "ν = 1.5": {"noise": {"name": "student-t", "df": 1.5}},
    "ν = 2.5": {"noise": {"name": "student-t", "df": 2.5}},
    "ν = 5": {"noise": {"name": "student-t", "df": 5.0}},
    "Gaussian": {"noise": {"name": "gaussian"}},
}
FINITE_VARIANCE = {k: v for k, v in TAILS.items() if k in ("ν = 2.5", "ν = 5", "Gaussian")}


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


def omega(w: float) -> dict[str, Any]:
    return {"method": {"omega": w}}


@dataclass(frozen=True)
class Table:
    """One table of the study: cell (r, c) runs ``base`` ⊕ ``fixed`` ⊕ ``rows[r]`` ⊕ ``cols[c]`` and shows
    ``metric`` (a column may name its own metric under the key ``"metric"``, e.g. ``("blown_by", 1000)``)."""

    name: str
    title: str
    rows: dict[str, dict[str, Any]]
    cols: dict[str, dict[str, Any]]
    metric: tuple[Any, ...]
    fixed: dict[str, Any] = field(default_factory=dict)
    sde: bool = False
    note: str = ""


def _blow_up_table(w: float) -> Table:
    rows = dict(DCSGD_RULES)
    rows.update({k: v for k, v in SIGN_RULES.items()})
    return Table(f"blow_up_omega{w:g}", f"Blow-up fraction, Bernoulli ω = {w:g} (DSignSGD rows: no compression)",
                 {k: (v if "dcsgd" in json.dumps(v) else {**v, "sign": True}) for k, v in rows.items()},
                 TAILS, ("blow_up",), omega(w))


def _median_table(w: float) -> Table:
    t = _blow_up_table(w)
    return Table(f"median_final_omega{w:g}", f"Median final f over the 1000 paths (∞: more than half blew up), "
                 f"Bernoulli ω = {w:g}", t.rows, t.cols, ("median_final",), t.fixed)


LAW_ROWS = {f"a = {a:g}, {tail} (1.5aν = {1.5 * a * nu:g}: {'a.s.' if 1.5 * a * nu <= 1 else 'p < 1'})":
            {"method": {"name": "dcsgd", "schedule": poly(a)}, **TAILS[tail]}
            for a in (0.6, 1.0) for tail, nu in (("ν = 1 (Cauchy)", 1.0), ("ν = 1.5", 1.5), ("ν = 2.5", 2.5))}

STUDY: list[Table] = [
    *[_blow_up_table(w) for w in (0.0, 1.0, 4.0, 9.0)],
    *[_median_table(w) for w in (0.0, 4.0)],
    Table("blow_up_law", "Blow-up law (compression.md §5): fraction blown up by step K, DSGD, η0 (k+1)^(−a)",
          LAW_ROWS, {f"K = {k}": {"metric": ("blown_by", k)} for k in (100, 1000, 10_000)}, ("blown_by", 10_000),
          omega(0.0)),
    Table("sde_match", "Discrete against SDE for ν > 2 (η = 0.01, t ≤ 5, N = 4, 1000 paths): gap = "
          "max_t |E f_disc − E f_SDE|; final E f discrete / SDE",
          {"DSGD": {"method": {"name": "dsgd"}}, "DCSGD ω = 1": {"method": {"name": "dcsgd", "omega": 1.0}},
           "DCSGD ω = 4": {"method": {"name": "dcsgd", "omega": 4.0}}, "DSignSGD": {"method": {"name": "dsignsgd"}}},
          FINITE_VARIANCE, ("gap",),
          {"method": {"lr": 0.01, "workers": 4}, "sde": {"horizon": 5.0}}, sde=True),
    Table("sign_speedup", "DSignSGD speed-up in N on the quartic (constant η = 0.01, 2000 steps): E f over paths "
          "and the last 20% of steps, ratio to N = 1",
          {f"N = {n}": {"method": {"workers": n}} for n in (1, 4, 16)},
          {"Gaussian": TAILS["Gaussian"], "ν = 1.5": TAILS["ν = 1.5"], "ν = 1 (Cauchy)": TAILS["ν = 1 (Cauchy)"]},
          ("stationary",), {"method": {"name": "dsignsgd", "lr": 0.01}, "sde": {"horizon": 20.0}}),
    Table("sign_speedup_cosh", "DSignSGD speed-up in N at stationarity on f = cosh x (curvature 1 at x* = 0; "
          "constant η = 0.01, 2000 steps): E (f − f*) over paths and the last 20% of steps, ratio to N = 1",
          {f"N = {n}": {"method": {"workers": n}} for n in (1, 4, 16)},
          {"Gaussian": TAILS["Gaussian"], "ν = 1.5": TAILS["ν = 1.5"], "ν = 1 (Cauchy)": TAILS["ν = 1 (Cauchy)"]},
          ("stationary",), {"problem": {"name": "cosh", "dim": 1, "x0": 2.0},
                            "method": {"name": "dsignsgd", "lr": 0.01}, "sde": {"horizon": 20.0}}),
]


def merge(*parts: dict[str, Any]) -> dict[str, Any]:
    """Section-wise merge of config fragments (later wins); the ``metric`` and ``sign`` markers are dropped."""
    out: dict[str, Any] = {}
    for p in parts:
        for section, body in p.items():
            if section in ("metric", "sign"):
                continue
            out.setdefault(section, {}).update(copy.deepcopy(body))
    return out


def cell_config(table: Table, row: str, col: str, quick: bool = False) -> dict[str, Any]:
    cfg = merge(BASE, table.fixed, table.rows[row], table.cols[col])
    if table.rows[row].get("sign"):
        cfg["method"].pop("omega", None)              # DSignSGD: no compressor
    if quick:
        cfg["sde"]["paths"] = min(cfg["sde"]["paths"], 100)
        cfg["sde"]["horizon"] = cfg["sde"]["horizon"] / 10
    return cfg


def metric(spec: tuple[Any, ...], res: dict[str, Any]) -> float | str:
    """A cell's value from a lab result."""
    d = res["discrete"]
    kind = spec[0]
    if kind == "blow_up":
        return d["blow_up_fraction"]
    if kind == "blown_by":
        steps = [round(t / res["eta"]) for t in res["t"]]
        at = max((i for i, k in enumerate(steps) if k <= spec[1]), default=0)
        return d["blown_at"][at]
    if kind == "median_final":
        v = d["quantiles"]["0.5"][-1]
        return math.inf if v is None or v > 1e300 else v      # (results before the posinf fix hold 1.8e308)
    if kind == "gap":
        return f"{res['gap']:.2g} ({d['mean'][-1]:.3g} / {res['sde']['mean'][-1]:.3g})"
    if kind == "stationary":
        tail = [v for v in d["mean"][int(0.8 * len(d["mean"])):] if v is not None]
        return sum(tail) / len(tail) - (res.get("f_star") or 0.0) if tail else math.inf
    raise KeyError(kind)


def run_study(out: Path, quick: bool = False, only: list[str] | None = None) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    store = out / "results.json"
    cache: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}
    tables: dict[str, Any] = {}
    for table in STUDY:
        if only and table.name not in only:
            continue
        cells = {}
        for row in table.rows:
            for col in table.cols:
                cfg = cell_config(table, row, col, quick)
                key = json.dumps([cfg, table.sde], sort_keys=True)
                if key not in cache:
                    t0 = time.time()
                    cache[key] = run_lab(build_lab(cfg), sde=table.sde)
                    cache[key]["seconds"] = time.time() - t0
                    atomic_write_text(store, json.dumps(cache))
                cells[(row, col)] = metric(table.cols[col].get("metric", table.metric), cache[key])
        tables[table.name] = cells
        md = markdown(table, cells)
        print(md, flush=True)
        atomic_write_text(out / f"{table.name}.md", md)
    return tables


def _fmt(v: float | str) -> str:
    return v if isinstance(v, str) else ("∞" if math.isinf(v) else f"{v:.3g}")


def markdown(table: Table, cells: dict[tuple[str, str], Any]) -> str:
    cols = list(table.cols)
    lines = [f"**{table.title}**", "", "| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for row in table.rows:
        vals = [cells[(row, c)] for c in cols]
        if table.metric[0] == "stationary":
            base = {c: cells[(next(iter(table.rows)), c)] for c in cols}
            lines.append(f"| {row} | " + " | ".join(f"{_fmt(v)} (×{base[c] / v:.2g})" for c, v in zip(cols, vals))
                         + " |")
        else:
            lines.append(f"| {row} | " + " | ".join(_fmt(v) for v in vals) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    import torch

    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/e5")
    ap.add_argument("--quick", action="store_true", help="100 paths and a tenth of the horizon")
    ap.add_argument("--only", action="append", help="table name(s) to run")
    args = ap.parse_args(argv)
    run_study(Path(args.out), args.quick, args.only)


if __name__ == "__main__":
    main()
