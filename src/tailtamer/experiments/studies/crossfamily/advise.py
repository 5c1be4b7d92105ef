"""``tailtamer advise CONFIG --cluster PRESET|FILE``: a short cross-family study on the user's own problem (issue 28
item 5; docs/crossfamily.md).

The problem, its noise and dtype come from CONFIG (``[problem]``, ``[noise]``, ``[run] dtype``), n from its
``[topology]``; the cluster from ``--cluster`` (a preset of :mod:`tailtamer.cluster`, or a TOML file with a
``[cluster]`` table), else CONFIG's ``[cluster]``. Every method of the cross-family study
(:data:`~tailtamer.experiments.studies.crossfamily.recipe.METHODS`) is tuned on its step axis (one seed, the
config's; the grid grows at most once past an edge that holds the winner) for the same horizon of simulated seconds:
``--horizon``, else CONFIG's ``[run] time``, else the time its ``[run] steps`` steps of minibatch SGD (FedAvg with H
= 1) take on the cluster. The winners' runs are ranked by their time to target: the headline metric (the problem's
first) at ``--target``, else its distance to the ideal (0, or 1 for an accuracy) shrunk to ``--fraction`` of its
value at step 0.

It is a :class:`~tailtamer.experiments.study.Study` (:func:`advise_study`), so an interrupted advise resumes from
its folder: finished runs are never rerun.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....api import build_components
from ....cluster import build_section, resolve_section
from ....config import resolve
from ....errors import ConfigError
from ....registry import suggest
from ...study import Section, Study
from .budget import measure, seconds_per_step
from .jobs import base, cluster_for, config, default_point, folder, grid, point_of
from .outcomes import Outcome, seconds
from .recipe import METHODS, Recipe, Target, Workload
from .recommend import ranking, times
from .tables import Where, collect, method_family

#: The workload key of the user's problem in the advise study's folders.
YOURS = "yours"
#: The grid of advise: one seed, the starting axis grown at most once per side.
MAX_EXTENSIONS = 1
EVALS = 20
DEFAULT_FRACTION = 0.2


@dataclass(frozen=True)
class Advice:
    """What ``advise`` runs: its recipe (one workload, one cluster) and the study that runs it."""

    recipe: Recipe
    study: Study
    cluster: str

    @property
    def workload(self) -> Workload:
        return self.recipe.workloads[YOURS]


def cluster_section(text: str) -> dict[str, Any]:
    """``--cluster``: a file (an existing path, or one ending in ``.toml``) or a preset name."""
    if text.endswith(".toml") or Path(text).is_file():
        return {"name": "file", "path": str(Path(text))}
    return {"name": text}


def cluster_label(section: dict[str, Any]) -> str:
    """A cluster's name in folders and tables: the preset, or ``file-STEM``."""
    return f"file-{Path(section['path']).stem}" if section.get("name") == "file" else str(section.get("name"))


def _higher(metric: str) -> bool:
    """Whether a larger ``metric`` is better (an accuracy)."""
    return metric.endswith("acc")


def target_for(metrics: tuple[str, ...], value: float | None, fraction: float | None) -> Target:
    """The target on the headline metric: ``value``, else ``fraction`` of its initial distance to the ideal."""
    head = metrics[0]
    higher = _higher(head)
    if value is not None:
        return Target(head, higher=higher, value=float(value))
    return Target(head, higher=higher, fraction=DEFAULT_FRACTION if fraction is None else fraction, ideal=float(higher))


def _methods(names: list[str] | None) -> dict[str, Any]:
    if not names:
        return dict(METHODS)
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise ConfigError(
            f"advise: unknown method {unknown[0]!r}{suggest(unknown[0], METHODS)}; methods: {', '.join(METHODS)}"
        )
    return {m: METHODS[m] for m in names}


def advise(
    cfg: dict[str, Any],
    cluster: dict[str, Any] | None,
    horizon: float | None = None,
    target: float | None = None,
    fraction: float | None = None,
    methods: list[str] | None = None,
) -> Advice:
    """The advise study of the user's config ``cfg`` on ``cluster`` (a ``[cluster]`` section; None: ``cfg``'s).
    Bad input is a one-line ConfigError, raised before anything runs."""
    resolved = resolve({k: v for k, v in cfg.items() if k != "cluster"})
    section = cluster or cfg.get("cluster")
    if section is None:
        raise ConfigError("advise: give --cluster PRESET|FILE (or a [cluster] section in the config)")
    n, seed = int(resolved["topology"]["n"]), int(resolved["run"]["seed"])
    if n < 2:
        raise ConfigError(f"advise: the config's [topology] n = {n}; methods of several workers need n ≥ 2")
    if horizon is not None and not (horizon > 0 and math.isfinite(horizon)):
        raise ConfigError(f"advise: --horizon must be a positive number of simulated seconds, got {horizon}")
    build_section(resolve_section(dict(section)), n, seed)  # a bad cluster: one line, now
    problem = copy.deepcopy(cfg["problem"])
    noise = copy.deepcopy(cfg.get("noise", {"name": "none"}))
    dtype = resolved["run"]["dtype"]
    probe = {"problem": problem, "algorithm": {"name": "dsgd"}, "topology": {"name": "ring", "n": n}}
    names = tuple(build_components(probe).problem.metric_names)
    goal = target_for(names, target, fraction)
    metric = next((m for m in names if not _higher(m)), names[0])
    label = cluster_label(section)
    if horizon is None:
        horizon = resolved["run"]["time"] or _sgd_time(problem, n, section, dtype) * resolved["run"]["steps"]
    workload = Workload(problem["name"], problem, goal, metric, {label: float(horizon)}, noise, dtype, EVALS)
    recipe = Recipe(
        workloads={YOURS: workload},
        methods=_methods(methods),
        clusters={label: copy.deepcopy(section)},
        n=n,
        seeds=(),
        tune_seeds=(seed,),
        max_extensions=MAX_EXTENSIONS,
    )
    return Advice(recipe, advise_study(recipe, label), label)


def _sgd_time(problem: dict[str, Any], n: int, cluster: dict[str, Any], dtype: str) -> float:
    """Simulated seconds of one step of minibatch SGD (FedAvg, H = 1, through the parameter server, as the study's
    server methods run) on the cluster."""
    cfg = {
        "problem": problem,
        "algorithm": {"name": "fedavg", "local_steps": 1, "clients": 1.0},
        "topology": {"name": "server", "n": n},
        "cluster": cluster_for(cluster, "server"),
        "run": {"dtype": dtype},
    }
    return seconds_per_step(cfg)


def winners_where(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> Where:
    """The folders of the winning tuning runs (advise ranks them: it has no separate evaluation seeds)."""
    return lambda w, c, m: folder(root, "tune", w, c, m, point_of(recipe, tuned, w, c, m))


def ranked(recipe: Recipe, root: Path, tuned: dict[str, Any], cluster: str) -> list[tuple[str, Outcome]]:
    """Every method with its outcome, fastest to the target first."""
    return ranking(recipe, collect(recipe, winners_where(recipe, root, tuned)), YOURS, cluster)


def ranking_table(recipe: Recipe, root: Path, tuned: dict[str, Any], cluster: str) -> str:
    """The ranking as markdown: rank, method, family, time to target, bytes per node by then, final metric, step."""
    w = recipe.workloads[YOURS]
    lines = [
        f"| rank | method | family | time to target | bytes/node at target | final {w.metric} | step |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (m, o) in enumerate(ranked(recipe, root, tuned, cluster), 1):
        p = point_of(recipe, tuned, YOURS, cluster, m)
        sent = f"{o.bytes:.3g}" if math.isfinite(o.bytes) else "—"
        final = "diverged" if o.diverged else (f"{o.final:.4g}" if o.runs else "not run")
        step = ", ".join(f"{k}={v:.4g}" for k, v in p.items())
        lines.append(f"| {i} | {m} | {method_family(recipe, m)} | {seconds(o.time)} | {sent} | {final} | {step} |")
    return "\n".join(lines)


def verdict(recipe: Recipe, root: Path, tuned: dict[str, Any], cluster: str) -> str:
    """One line: the method to use on this cluster, from the ranking."""
    order = ranked(recipe, root, tuned, cluster)
    first, o = order[0]
    if not math.isfinite(o.time):
        return (
            f"No method reached the target within {recipe.workloads[YOURS].horizons[cluster]:g} s: lengthen --horizon."
        )
    text = f"Use **{first}** ({method_family(recipe, first)}): first to the target at {seconds(o.time)}"
    nxt = [(m, x) for m, x in order[1:] if math.isfinite(x.time)]
    if nxt:
        text += f"; next {nxt[0][0]} at {seconds(nxt[0][1].time)} ({times(nxt[0][1].time / o.time)})"
    return text + "."


def advise_study(recipe: Recipe, cluster: str) -> Study:
    """The advise run as a study: tuning grid, the winners' runs (already run by the tuning) and the ranking."""
    w = recipe.workloads[YOURS]

    def runs(root: Path, tuned: dict[str, Any]) -> list[tuple[Path, dict[str, Any]]]:
        where = winners_where(recipe, Path(root), tuned)
        return [
            (
                where(YOURS, cluster, m) / f"seed{s}",
                config(recipe, YOURS, cluster, m, s, point_of(recipe, tuned, YOURS, cluster, m)),
            )
            for m in recipe.methods
            for s in recipe.tune_seeds
        ]

    heading = (
        f"## advise: {w.label} on {cluster}, n = {recipe.n}\n\nTarget: {w.target.describe()}; horizon "
        f"{w.horizons[cluster]:.4g} simulated s; each method's step tuned on seed {list(recipe.tune_seeds)} by the "
        f"final {w.metric}."
    )
    return Study(
        name=f"advise-{cluster}",
        about="advise: the cross-family methods on your problem",
        tuned={},
        runs=runs,
        grid=lambda root: grid(recipe),
        heading=heading,
        sections=(
            Section("Ranking by time to target", lambda root, tuned: ranking_table(recipe, root, tuned, cluster)),
            Section("", lambda root, tuned: verdict(recipe, root, tuned, cluster)),
        ),
        seconds_per_run=1.0,
        report_file="advise-report.md",
        run_plots=False,
    )


def cost(advice: Advice, workers: int) -> str:
    """What advise will run, stated before it runs: the runs of the first grid, and each method's budget."""
    r, c = advice.recipe, advice.cluster
    w = advice.workload
    grid_points = {m: len(meth.axis) for m, meth in r.methods.items()}
    first = sum(grid_points.values()) * len(r.tune_seeds)
    extra = len(r.methods) * 2 * r.max_extensions * len(r.tune_seeds)
    head = (
        f"advise: {len(r.methods)} methods × {max(grid_points.values())} step sizes × {len(r.tune_seeds)} seed = "
        f"{first} runs (up to {extra} more where a method's best step sits on an edge of its grid), "
        f"each {w.horizons[c]:.4g} simulated s on {c} (n = {r.n}), {workers} at a time:"
    )
    lines = [head]
    for m in r.methods:
        b = measure(base(r, YOURS, c, m, default_point(r, m)), w.horizons[c], w.dtype)
        if b.event_driven:
            lines.append(f"  {m}: about {b.updates:.0f} server updates")
        else:
            lines.append(f"  {m}: {b.steps} {'rounds' if method_family(r, m) == 'local-update' else 'steps'}")
    return "\n".join(lines)


__all__ = ["Advice", "advise", "advise_study", "cluster_section", "cost", "ranked", "ranking_table", "verdict"]
