"""The runs of a cross-family study: the config of one run, its folder, the main job list at the tuned steps and
the tuning grid (each method's step per workload and cluster, scored by the mean final ``Workload.metric``).

Folders, under the study root: ``tune/<workload>/<cluster>/<method>/<key>=<v>/seed<s>`` and
``main/<workload>/<cluster>/<method>/<key>=<v>/seed<s>``. Every cluster runs separately, lockstep methods
included: their iterates do not depend on the cluster (only their ``sim_time`` does) but their step budget does
(:mod:`.budget`), and an event-driven method's arrival order depends on it.

A server method's exact average goes through the parameter server (:func:`cluster_for`), the pattern its
topology names, rather than the presets' default ring all-reduce (2(n−1) latencies a step: 1.5 s at 50 ms and
n = 16).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ....cluster import resolve_section
from ....cluster.presets import read_table
from ....topology import SERVER
from ...study import Grid
from .budget import run_section
from .recipe import Recipe

Job = tuple[Path, dict[str, Any]]


def fmt(v: float) -> str:
    """A value as folders and tables print it (four significant digits)."""
    return f"{v:.4g}"


def label(point: dict[str, float]) -> str:
    """The folder name of a grid point: ``key=value`` pairs joined by commas."""
    return ",".join(f"{k}={fmt(v)}" for k, v in point.items())


def slug(method: str) -> str:
    """A method's folder name: ``fedavg H=8`` → ``fedavg-H8``."""
    return method.replace(" ", "-").replace("=", "")


def setting(workload: str, cluster: str) -> str:
    """The key of a tuned setting: ``workload/cluster``."""
    return f"{workload}/{cluster}"


def cluster_for(section: dict[str, Any], topology: str) -> dict[str, Any]:
    """The ``[cluster]`` a method runs on: ``section``, with ``reduce = "server"`` for a method of topology
    ``server`` (n clients of a parameter server: its exact average goes through the server's link, as the
    asynchronous methods' jobs do) unless the cluster names its ``reduce`` itself. A cluster file is expanded
    (:func:`~tailtamer.cluster.resolve_section`) to take the key; the run folder records it resolved anyway."""
    if topology != SERVER:
        return copy.deepcopy(section)
    written = read_table(section["path"]) if section.get("name") == "file" else section
    if "reduce" in written:
        return copy.deepcopy(section)
    body = resolve_section(dict(section)) if section.get("name") == "file" else copy.deepcopy(section)
    return {**body, "reduce": "server"}


def base(recipe: Recipe, workload: str, cluster: str, method: str, point: dict[str, float]) -> dict[str, Any]:
    """A run's config without its ``[run]`` section."""
    w, m = recipe.workloads[workload], recipe.methods[method]
    cfg: dict[str, Any] = {
        "problem": copy.deepcopy(w.problem),
        "algorithm": m.section(recipe.n, point),
        "topology": {"name": m.topology, "n": recipe.n},
        "noise": dict(w.noise),
        "cluster": cluster_for(recipe.clusters[cluster], m.topology),
    }
    if m.compression is not None:
        cfg["compression"] = dict(m.compression)
    return cfg


def default_point(recipe: Recipe, method: str) -> dict[str, float]:
    """The middle of a method's starting axis (used where no tuned value is recorded)."""
    m = recipe.methods[method]
    return {m.key: m.axis[len(m.axis) // 2]}


def config(
    recipe: Recipe, workload: str, cluster: str, method: str, seed: int, point: dict[str, float]
) -> dict[str, Any]:
    """The config of one run: the method at ``point`` for the workload's horizon on ``cluster``. The budget
    (:func:`~.budget.run_section`) is measured at the axis's default point: a step's simulated time does not
    depend on the step size, so every point of a setting gets the same ``[run]``."""
    w = recipe.workloads[workload]
    run = run_section(
        base(recipe, workload, cluster, method, default_point(recipe, method)),
        w.horizons[cluster],
        w.evals,
        seed,
        w.dtype,
    )
    return {**base(recipe, workload, cluster, method, point), "run": run}


def point_of(recipe: Recipe, tuned: dict[str, Any], workload: str, cluster: str, method: str) -> dict[str, float]:
    """The tuned point of ``method`` in a setting, else :func:`default_point`."""
    return dict(tuned.get(setting(workload, cluster), {}).get(method) or default_point(recipe, method))


def folder(root: Path, part: str, workload: str, cluster: str, method: str, point: dict[str, float]) -> Path:
    """The folder of one point (its seeds below it); ``part`` is ``main`` or ``tune``."""
    return Path(root) / part / workload / cluster / slug(method) / label(point)


def main_folder(recipe: Recipe, root: Path, tuned: dict[str, Any], workload: str, cluster: str, method: str) -> Path:
    """The folder of a method's runs at its tuned point (the seeds below it)."""
    return folder(root, "main", workload, cluster, method, point_of(recipe, tuned, workload, cluster, method))


def runs(recipe: Recipe, root: Path, tuned: dict[str, Any]) -> list[Job]:
    """Every method at its tuned step, per workload and cluster, on the evaluation seeds."""
    jobs = []
    for w, c in recipe.settings():
        for m in recipe.methods:
            p = point_of(recipe, tuned, w, c, m)
            jobs += [
                (folder(root, "main", w, c, m, p) / f"seed{s}", config(recipe, w, c, m, s, p)) for s in recipe.seeds
            ]
    return jobs


def _collect(winners: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """``{"workload/cluster/method": point}`` → ``{"workload/cluster": {method: point}}``."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key, point in winners.items():
        w, c, m = key.split("/")
        out.setdefault(setting(w, c), {})[m] = point
    return out


def grid(recipe: Recipe) -> Grid:
    """Each method's step per workload and cluster, from its starting axis, growing past an edge that holds the
    winner (at most ``max_extensions`` values per side); the winner has the lowest mean final
    ``Workload.metric`` over the tuning seeds at the horizon (E4's rule; a diverged run counts as ∞)."""

    def parts(key: str) -> tuple[str, str, str]:
        w, c, m = key.split("/")
        return w, c, m

    return Grid(
        axes={
            f"{w}/{c}/{m}": {meth.key: meth.axis} for w, c in recipe.settings() for m, meth in recipe.methods.items()
        },
        seeds=recipe.tune_seeds,
        folder=lambda root, k, p: folder(root, "tune", *parts(k), p),
        config=lambda k, p, s: config(recipe, *parts(k), s, p),
        metric=lambda k: recipe.workloads[parts(k)[0]].metric,
        max_extensions=recipe.max_extensions,
        collect=_collect,
    )
