"""The words of the cross-family report, computed from its table (never written by hand): the ranking of a
setting, the recommendation for each cluster and where the answer changes between clusters.

A setting's ranking sorts its methods by median time to target (never reached: last, then by final metric). A
cluster's recommendation is the method that reached the target on the most workloads and, among those, with
the smallest geometric mean of its slowdown against the fastest method of each workload it reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .outcomes import Outcome, seconds
from .recipe import Recipe
from .tables import Table, method_family


def times(x: float) -> str:
    """A ratio of times as the words print it: ``1.25×``, ``37×``."""
    return f"{x:.2f}×" if x < 10 else f"{x:.3g}×"


def _key(o: Outcome) -> tuple[float, float]:
    t = o.time if o.time == o.time else math.inf
    f = o.final if o.final == o.final else math.inf
    return (t, f)


def ranking(recipe: Recipe, table: Table, workload: str, cluster: str) -> list[tuple[str, Outcome]]:
    """The methods of one setting, fastest to the target first (then by final metric)."""
    return sorted(((m, table[(workload, cluster, m)]) for m in recipe.methods), key=lambda mo: _key(mo[1]))


@dataclass(frozen=True)
class Score:
    """A method on one cluster, over the workloads some method reached: how many it missed, its geometric-mean
    slowdown against the fastest on the ones it reached, and on how many it was the fastest."""

    method: str
    missed: int
    slowdown: float
    wins: int


def scores(recipe: Recipe, table: Table, cluster: str) -> list[Score]:
    """Every method's :class:`Score` on ``cluster``, best first."""
    best = {w: ranking(recipe, table, w, cluster)[0] for w in recipe.workloads}
    reached = [w for w, (_, o) in best.items() if math.isfinite(o.time)]
    out = []
    for m in recipe.methods:
        ratios = [table[(w, cluster, m)].time / best[w][1].time for w in reached]
        finite = [r for r in ratios if math.isfinite(r)]
        geo = math.exp(sum(math.log(r) for r in finite) / len(finite)) if finite else math.inf
        wins = sum(best[w][0] == m for w in reached)
        out.append(Score(m, len(ratios) - len(finite), geo, wins))
    return sorted(out, key=lambda s: (s.missed, s.slowdown, -s.wins))


def _recommended(recipe: Recipe, table: Table, cluster: str) -> str | None:
    """The recommended method on ``cluster`` (None when no method reached any target there)."""
    top = scores(recipe, table, cluster)[0]
    reached = any(math.isfinite(ranking(recipe, table, w, cluster)[0][1].time) for w in recipe.workloads)
    return top.method if reached else None


def _setting_sentence(recipe: Recipe, table: Table, workload: str, cluster: str) -> str:
    label = recipe.workloads[workload].label
    order = ranking(recipe, table, workload, cluster)
    (first, o1) = order[0]
    if not math.isfinite(o1.time):
        return f"{label}: no method reached the target within {recipe.workloads[workload].horizons[cluster]:g} s"
    text = f"{label}: {first} ({method_family(recipe, first)}) first at {seconds(o1.time)}"
    if len(order) > 1 and math.isfinite(order[1][1].time):
        second, o2 = order[1]
        text += f"; next {second} at {seconds(o2.time)} ({times(o2.time / o1.time)})"
    elif len(order) > 1:
        text += ", the only method to reach it"
    return text


def recommendation(recipe: Recipe, table: Table, cluster: str) -> str:
    """A short paragraph for one cluster: the winner of each workload and the recommended method."""
    parts = [_setting_sentence(recipe, table, w, cluster) for w in recipe.workloads]
    ranked = scores(recipe, table, cluster)
    top = ranked[0]
    reached = len(recipe.workloads) - sum(
        not math.isfinite(ranking(recipe, table, w, cluster)[0][1].time) for w in recipe.workloads
    )
    if not reached:
        verdict = "No method reached any target on this cluster: lengthen the horizons."
    else:
        hit = reached - top.missed
        verdict = (
            f"Recommended on {cluster}: **{top.method}** ({method_family(recipe, top.method)}): it reached the "
            f"target on {hit} of the {reached} workload{'s' if reached != 1 else ''} some method reached, first on "
            f"{top.wins}, at {times(top.slowdown)} the fastest time (geometric mean)."
        )
        never = [s.method for s in ranked if s.missed == reached]
        if never:
            verdict += f" Never reached a target here: {', '.join(never)}."
    return "; ".join(parts) + ". " + verdict


def changes(recipe: Recipe, table: Table) -> str:
    """Where the answer changes between clusters: each workload's winner per cluster, and the recommendation."""
    lines, moved = [], []
    for w, wl in recipe.workloads.items():
        winners = []
        for c in recipe.clusters:
            m, o = ranking(recipe, table, w, c)[0]
            winners.append((c, m if math.isfinite(o.time) else None, o))
        names = {m for _, m, _ in winners}
        if len(names) > 1:
            moved.append(wl.label)
        cells = [f"{c}: {m} ({seconds(o.time)})" if m else f"{c}: none" for c, m, o in winners]
        lines.append(f"- {wl.label}: " + "; ".join(cells))
    recs = [f"{c}: {_recommended(recipe, table, c) or 'none (no target reached)'}" for c in recipe.clusters]
    head = (
        f"The fastest method changes between clusters on {', '.join(moved)}."
        if moved
        else "The same method is fastest on every cluster for every workload."
    )
    return "\n".join(
        [
            head,
            "",
            "First to the target per workload and cluster:",
            "",
            *lines,
            "",
            "Recommended per cluster: " + "; ".join(recs) + ".",
        ]
    )
