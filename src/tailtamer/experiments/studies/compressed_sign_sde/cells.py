"""The E5 cells as data: the step rules, tails and worker counts, the :class:`Table` s of the study (each cell
one SDE-lab config) and the folder of each cell (a hash of its config, so tables that share a cell share its
folder)."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def poly(a: float) -> dict[str, Any]:
    """The step schedule η0 (k+1)^(−a)."""
    return {"name": "poly", "power": a, "t0": 1.0}  # η0 (k+1)^(−a)


DCSGD_RULES: dict[str, dict[str, Any]] = {
    "D(C)SGD constant η0": {"method": {"name": "dcsgd"}},
    "D(C)SGD η0/(k+1)^0.6": {"method": {"name": "dcsgd", "schedule": poly(0.6)}},
    "D(C)SGD η0/(k+1)": {"method": {"name": "dcsgd", "schedule": poly(1.0)}},
    "D(C)SGD oracle η0/(3 + 3‖∇f‖)": {"method": {"name": "dcsgd", "rule": "oracle", "L0": 3.0, "L1": 3.0}},
    "D(C)SGD normalized η0/(1 + ‖ĝ‖)": {
        "method": {"name": "dcsgd", "rule": "practical", "a": 1.0, "b": 1.0, "alpha": 1.0}
    },
}
SIGN_RULES: dict[str, dict[str, Any]] = {
    "DSignSGD constant η0": {"method": {"name": "dsignsgd"}},
    "DSignSGD Robbins–Monro η0/(k+1)^0.6": {
        "method": {"name": "dsignsgd", "schedule": {"name": "robbins-monro", "power": 0.6}}
    },
}


def base(d: int, steps: int, replicates: int = 1, eta: float = ETA0) -> dict[str, Any]:
    """The lab config every cell starts from: the quartic in ``d`` dimensions, ``steps`` steps of ``eta``."""
    return {
        "problem": {"name": "quartic", "dim": d, "x0": 2.0},
        "method": {"workers": 1, "lr": eta},
        "noise": {"scale": 1.0},
        "sde": {
            "paths": PATHS,
            "replicates": replicates,
            "horizon": steps * eta,
            "seed": 0,
            "record": 100,
            "compare": False,
        },
    }


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
            cfg["method"].pop("omega", None)  # no compressor outside DCSGD
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
    return Table(
        f"blow_up_omega{w:g}_d{d}",
        f"Blow-up fraction by step {BLOW_STEPS}, d = {d}, Bernoulli ω = {w:g} "
        f"(DSignSGD rows: no compression; {REPLICATES[d]} blocks of {PATHS} paths: all, and the range over "
        "the blocks)",
        {**DCSGD_RULES, **SIGN_RULES},
        TAILS,
        ("blow_up",),
        merge(base(d, BLOW_STEPS, REPLICATES[d]), {"method": {"omega": w}}),
    )


def _median_table(w: float, d: int) -> Table:
    t = _blow_up_table(w, d)
    return Table(
        f"median_final_omega{w:g}_d{d}",
        f"Median final f over the paths after {BLOW_STEPS} steps "
        f"(∞: more than half blew up), d = {d}, Bernoulli ω = {w:g}",
        t.rows,
        t.cols,
        ("median_final",),
        t.fixed,
    )


LAW_ROWS = {
    f"a = {a:g}, {tail} (1.5aν = {1.5 * a * NU[tail]:g}: {'a.s.' if 1.5 * a * NU[tail] <= 1 else 'p < 1'})": {
        "method": {"schedule": poly(a)},
        **TAILS[tail],
    }
    for a in (0.6, 1.0)
    for tail in ("ν = 1 (Cauchy)", "ν = 1.5", "ν = 2.5")
}
SDE_ROWS = {
    "DSGD": {"method": {"name": "dsgd"}},
    "DCSGD ω = 1": {"method": {"name": "dcsgd", "omega": 1.0}},
    "DCSGD ω = 4": {"method": {"name": "dcsgd", "omega": 4.0}},
    "DSignSGD": {"method": {"name": "dsignsgd"}},
}
WORKERS = {f"N = {n}": {"method": {"workers": n}} for n in (1, 4, 16)}


def _sde_table(d: int) -> Table:
    return Table(
        f"sde_match_d{d}",
        f"Discrete against SDE for ν > 2, d = {d} (η = 0.01, t ≤ 5, N = 4, {PATHS} "
        "paths): gap = max_t |E f_disc − E f_SDE|; final E f discrete / SDE",
        SDE_ROWS,
        FINITE_VARIANCE,
        ("gap",),
        merge(base(d, 500, eta=0.01), {"method": {"workers": 4}, "sde": {"compare": True}}),
    )


TABLES: tuple[Table, ...] = (
    *[_blow_up_table(w, d) for d in DIMS for w in OMEGAS],
    *[_median_table(w, d) for d in DIMS for w in (0.0, 4.0)],
    Table(
        "blow_up_law",
        f"Blow-up law (compression.md §5): fraction blown up by step K, DSGD (ω = 0), d = 1, "
        f"η0 (k+1)^(−a), {REPLICATES[1]}·{PATHS} paths",
        LAW_ROWS,
        {f"K = {k}": {"metric": ("blown_by", k)} for k in LAW_K},
        ("blown_by", LAW_STEPS),
        merge(base(1, LAW_STEPS, REPLICATES[1]), {"method": {"name": "dcsgd", "omega": 0.0}}),
    ),
    *[_sde_table(d) for d in DIMS],
    Table(
        "sign_speedup",
        "DSignSGD speed-up in N on the quartic, d = 1 (constant η = 0.01, 2000 steps): E f over "
        "paths and the last 20% of steps, ratio to N = 1",
        WORKERS,
        HEAVY,
        ("stationary",),
        merge(base(1, 2000, eta=0.01), {"method": {"name": "dsignsgd"}}),
    ),
    Table(
        "sign_speedup_cosh",
        "DSignSGD speed-up in N at stationarity on f = cosh x, d = 1 (curvature 1 at x* = 0; "
        "constant η = 0.01, 2000 steps): E (f − f*) over paths and the last 20% of steps, ratio to N = 1",
        WORKERS,
        HEAVY,
        ("stationary",),
        merge(base(1, 2000, eta=0.01), {"problem": {"name": "cosh"}, "method": {"name": "dsignsgd"}}),
    ),
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
