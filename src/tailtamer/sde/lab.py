"""The SDE lab: a discrete method and its SDE side by side on M paths (``tailtamer sde CONFIG``).

Config (TOML)::

    [problem]  name = "quartic", dim = 1, x0 = 2.0         # any synthetic problem (its f and ∇f on [M, d])
    [method]   name = "dsignsgd", workers = 4, lr = 0.01   # dsgd | dcsgd (omega = ...) | dsignsgd
               schedule = "constant", rule = "schedule"    # + L0, L1 (oracle), a, b, alpha (practical)
    [noise]    name = "gaussian", scale = 1.0              # gaussian | student-t (df) | cauchy
    [sde]      paths = 1000, horizon = 5.0, seed = 0       # time T = K·η; record, quantiles
               replicates = 1, compare = true              # R blocks of M paths stacked; run the SDE too

It writes ``sde.json`` (t = kη, mean and quantiles of f over the paths for both, blow-up fractions, and the
``gap = max_t |E f_disc(t) − E f_SDE(t)|``) and ``sde.png``.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from pathlib import Path
from typing import Any

import torch

from ..algorithms.server.step_rules import StepRule
from ..errors import ConfigError
from ..problems import PROBLEMS
from ..problems.synthetic import SyntheticProblem
from ..registry import Registry, suggest
from ..rundir.folder import atomic_write_json
from ..rundir.plots import _pyplot, save
from ..validation import check_range, check_step_size
from .footprint import check_lab_memory
from .laws import law_from
from .models import LAB_METHODS, LabMethod
from .simulate import Paths, Tick, discrete_paths, sde_paths

SECTIONS = ("problem", "method", "noise", "sde")
RULE_KEYS = ("lr", "schedule", "warmup", "rule", "L0", "L1", "a", "b", "alpha")


@dataclasses.dataclass
class LabSettings:
    """``[sde]``: paths M, horizon T (steps K = round(T/η)), seed, recorded points, quantiles of f.

    ``replicates`` R: R independent blocks of M paths stacked in one ``[R·M, d]`` tensor (one run; the per-step
    cost is mostly fixed, so R blocks cost far less than R runs); ``blow_up_by_replicate`` reports each block's
    fraction (R = 1: the paths of before, bitwise). ``compare``: also run the SDE (``tailtamer sde --no-sde``
    and :func:`run_lab` ``sde=`` override it).
    """

    paths: int = 1000
    horizon: float = 5.0
    seed: int = 0
    record: int = 100
    quantiles: list[float] = dataclasses.field(default_factory=lambda: [0.1, 0.5, 0.9])
    replicates: int = 1
    compare: bool = True

    def __post_init__(self) -> None:
        for key in ("paths", "replicates", "record"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"[sde] {key} must be an integer ≥ 1, got {value!r}")
        check_range("horizon", self.horizon, 0.0, math.inf, lo_open=True, hi_open=True, owner="[sde]")
        if not isinstance(self.quantiles, list) or not self.quantiles:
            raise ConfigError(f"[sde] quantiles must be a non-empty list of numbers in [0, 1], got {self.quantiles!r}")
        for q in self.quantiles:
            check_range("quantiles", q, 0.0, 1.0, owner="[sde]")


SETTINGS: Registry[LabSettings] = Registry("SDE-lab settings")
SETTINGS.register("sde")(LabSettings)


@dataclasses.dataclass
class Lab:
    """A built lab config: method, step rule, problem (f, ∇f), x0 stacked over M paths, steps."""

    config: dict[str, Any]
    method: LabMethod
    rule: StepRule
    eta: float
    problem: Any
    x0: torch.Tensor
    steps: int
    settings: LabSettings

    def f(self, x: torch.Tensor) -> torch.Tensor:
        return self.problem.local_loss(x, torch.zeros(1, dtype=torch.int64))

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return self.problem.local_grad(x, torch.zeros(1, dtype=torch.int64))


def build_lab(cfg: dict[str, Any]) -> Lab:
    """Validate a lab config and build it (no compute)."""
    for section in cfg:
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown SDE-lab section [{section}]{suggest(section, SECTIONS)}; sections: {', '.join(SECTIONS)}"
            )
    cfg = copy.deepcopy(cfg)
    settings = SETTINGS.build("sde", cfg.get("sde", {}), section="sde")
    prob = dict(cfg.get("problem", {"name": "quartic"}))
    problem = PROBLEMS.build(prob.pop("name", "quartic"), prob, section="problem", n=1)
    if not isinstance(problem, SyntheticProblem):
        raise ConfigError("the SDE lab needs a synthetic problem with closed-form f and ∇f (quartic, cosh, ...)")
    law = law_from(cfg.get("noise", {"name": "gaussian"}))
    meth = dict(cfg.get("method", {}))
    name = meth.pop("name", "dsignsgd")
    workers = meth.pop("workers", 1)
    rule_args = {k: meth.pop(k) for k in RULE_KEYS if k in meth}
    method = LAB_METHODS.build(name, meth, section="method", law=law, workers=workers)
    eta = check_step_size("lr", rule_args.get("lr", 0.01), "[method]")
    steps = max(1, round(settings.horizon / eta))
    rule = StepRule(
        name,
        steps,
        eta,
        rule_args.get("schedule", "constant"),
        int(rule_args.get("warmup", 0)),
        rule_args.get("rule", "schedule"),
        float(rule_args.get("L0", 0.0)),
        float(rule_args.get("L1", 0.0)),
        float(rule_args.get("a", 1.0)),
        float(rule_args.get("b", 0.0)),
        float(rule_args.get("alpha", 1.0)),
    )
    start = problem.x0()
    check_lab_memory(settings.paths * settings.replicates, start.numel(), method.workers, settings.record)
    x0 = start.unsqueeze(0).expand(settings.paths * settings.replicates, -1).clone()
    return Lab(cfg, method, rule, eta, problem, x0, steps, settings)


def gap(a: Paths, b: Paths) -> float | None:
    """max over recorded times of ``|E f_a(t) − E f_b(t)|`` (means over paths that have not blown up; times where
    every path of either has blown up are left out; None when that is every time)."""
    d = (a.mean() - b.mean()).abs()
    d = d[torch.isfinite(d)]
    return float(d.max()) if d.numel() else None


def run_lab(lab: Lab, sde: bool | None = None, tick: Tick | None = None) -> dict[str, Any]:
    """Run the discrete method (and its SDE, ``sde``; None: ``[sde] compare``) on the lab's paths; a JSON-ready
    summary. ``tick(done)``: called after each step with the steps done so far (the SDE's after the method's)."""
    s = lab.settings
    sde = s.compare if sde is None else sde
    disc = discrete_paths(lab.method, lab.grad, lab.f, lab.rule, lab.eta, lab.x0, lab.steps, s.seed, s.record, tick)
    x_star = getattr(lab.problem, "x_star", None)
    f_star = float(lab.f(x_star.unsqueeze(0).to(lab.x0))[0]) if x_star is not None else None
    out: dict[str, Any] = {
        "config": lab.config,
        "eta": lab.eta,
        "steps": lab.steps,
        "f_star": f_star,
        "t": [k * lab.eta for k in disc.steps],
        "discrete": summary(disc, s.quantiles, s.replicates),
    }
    if sde:
        after = None if tick is None else (lambda k: tick(lab.steps + k))
        cont = sde_paths(lab.method, lab.grad, lab.f, lab.rule, lab.eta, lab.x0, lab.steps, s.seed + 1, s.record, after)
        out["sde"] = summary(cont, s.quantiles, s.replicates)
        out["gap"] = gap(disc, cont)
    return out


def summary(p: Paths, qs: list[float], replicates: int = 1) -> dict[str, Any]:
    quant = p.quantiles(tuple(qs))
    blocks = p.blown.double().reshape(replicates, -1).mean(1)
    return {
        "mean": _finite(p.mean()),
        "quantiles": {str(q): _finite(quant[i]) for i, q in enumerate(qs)},
        "blow_up_fraction": float(p.blown.double().mean()),
        "blown_at": p.blown_at,
        "blow_up_by_replicate": [float(v) for v in blocks],
    }


def _finite(v: torch.Tensor) -> list[float | None]:
    return [float(x) if math.isfinite(float(x)) else None for x in v]


def write(result: dict[str, Any], out: Path) -> None:
    """``sde.json`` and ``sde.png`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "sde.json", result)
    plot(result, out / "sde.png")


def plot(result: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    t = result["t"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, colour in (("discrete", "C0"), ("sde", "C1")):
        if key not in result:
            continue
        r = result[key]
        qs = sorted(r["quantiles"], key=float)
        nan = float("nan")
        lo = [nan if v is None else v for v in r["quantiles"][qs[0]]]
        hi = [nan if v is None else v for v in r["quantiles"][qs[-1]]]
        ax.fill_between(t, lo, hi, color=colour, alpha=0.2)
        ax.plot(
            t,
            [nan if v is None else v for v in r["mean"]],
            color=colour,
            label=f"{key} (mean; band {qs[0]}–{qs[-1]} quantiles)",
        )
    meth = result["config"].get("method", {}).get("name", "")
    title = f"{meth}: η = {result['eta']:g}" + (f", gap = {result['gap']:.3g}" if "gap" in result else "")
    ax.set(xlabel="t = kη", ylabel="f", yscale="log", title=title)
    ax.legend(fontsize=8)
    save(fig, path, dpi=120)
