"""A user's method beside a study's published ones: ``tailtamer study NAME --add ENTRY``.

An ``ENTRY`` is a registered algorithm name with optional settings (``gt-clip``, ``gt-clip:lr=0.05,gamma=2``)
or a TOML file whose ``[algorithm]`` section gives them. :func:`with_added` returns the study with, for each
entry, the runs of its reference method (the study's method of the entry's family with the most runs: every
setting and seed) repeated with the entry's ``[algorithm]`` in ``ROOT/added/LABEL/...`` (the reference
folder without the method's name and ``key=value`` parts), and a report section "Added methods" that sets
the entry's final headline metric (mean over the seeds) beside every study method's in each setting, the
added rows marked ``(added)``.

Under ``--tune`` an added method gets the study's tuning rule: every search of the study's grid that tunes
its reference method has a twin for the entry (the same axes, seeds, metric and edge growing, with the entry's
``[algorithm]``; only where every axis is a parameter of the entry), run in ``ROOT/added/LABEL/tune/...``; the
entry's runs of each setting then use that setting's winner (named in their folders), as the study's methods
use theirs. A method whose family the study does not run is refused in one line naming the studies it fits.
"""

from __future__ import annotations

import functools
import json
import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..algorithms import ALGORITHMS
from ..config import load_toml, parse_value
from ..errors import ConfigError
from ..rundir.folder import last_metrics
from ..sde.folders import read as read_lab
from ..sde.lab import RULE_KEYS
from ..sde.models import LAB_METHODS
from .study import Grid, Job, Point, Section, Study

ADDED = "added"
#: The config section of an SDE-lab method, the family label its runs have, and the method a lab config without
#: a name runs (:func:`tailtamer.sde.lab.build_lab`'s default).
LAB, LAB_FAMILY, DEFAULT_LAB_METHOD = "method", "sde-lab", "dsignsgd"


@dataclass(frozen=True)
class Entry:
    """An added method: its ``[algorithm]`` section and the label of its rows and folders."""

    algorithm: dict[str, Any]
    label: str
    #: The config section the entry replaces: ``"algorithm"`` (an engine method), or ``"method"`` (a method of
    #: the SDE lab, :data:`~tailtamer.sde.models.LAB_METHODS`: the E5 studies' runs).
    section: str = "algorithm"

    @property
    def family(self) -> str:
        if self.section == LAB:
            return LAB_FAMILY
        params = {k: v for k, v in self.algorithm.items() if k != "name"}
        return ALGORITHMS.build(self.algorithm["name"], params, section="algorithm", steps=10).family

    def config(self, cfg: Mapping[str, Any], tuned: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The reference job's config ``cfg`` run with this entry (and its ``tuned`` settings). A lab method keeps
        the cell's workers and step rule (and whatever of the cell's method it takes): E5's cells set them."""
        if self.section != LAB:
            return {**cfg, "algorithm": {**self.algorithm, **(tuned or {})}}
        cell, accepted = cfg[LAB], set(LAB_METHODS.params(self.algorithm["name"]))
        kept = {k: v for k, v in cell.items() if k in ("workers", *RULE_KEYS) or k in accepted}
        return {**cfg, LAB: {**kept, **self.algorithm, **(tuned or {})}}


def parse_entry(text: str) -> Entry:
    """``NAME[:key=value,...]`` or ``PATH.toml`` (its ``[algorithm]``, or ``[method]`` for an SDE-lab method)
    → :class:`Entry` (validated)."""
    if text.endswith(".toml"):
        toml = load_toml(text)
        section = dict(toml.get("algorithm", toml.get(LAB, {})))
        if "name" not in section:
            raise ConfigError(f"--add {text}: the file has no [algorithm] (or [method]) name")
        label = Path(text).stem
    else:
        name, _, rest = text.partition(":")
        section = {"name": name.strip()}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise ConfigError(f"--add {text}: expected NAME:key=value,..., got {item!r}")
            section[key.strip()] = parse_value(value.strip())
        label = text.replace(":", "_").replace(",", "_")
    params = {k: v for k, v in section.items() if k != "name"}
    if section["name"] not in ALGORITHMS and section["name"] in LAB_METHODS:
        LAB_METHODS.validate(section["name"], {k: v for k, v in params.items() if k not in RULE_KEYS}, section=LAB)
        return Entry(section, label, LAB)
    ALGORITHMS.validate(section["name"], params, section="algorithm")
    return Entry(section, label)


def _family(cfg: Mapping[str, Any]) -> str | None:
    """The family of a job's method (an SDE-lab job's: :data:`LAB_FAMILY`; None for anything else)."""
    if not isinstance(cfg, Mapping):
        return None
    alg, lab = cfg.get("algorithm"), cfg.get(LAB)
    if isinstance(alg, Mapping) and alg.get("name") in ALGORITHMS:
        return _family_of(alg["name"])
    if isinstance(lab, Mapping) and lab.get("name", DEFAULT_LAB_METHOD) in LAB_METHODS:
        return LAB_FAMILY
    return None


def _section(cfg: Mapping[str, Any]) -> str:
    """The config section that names a job's method."""
    return "algorithm" if "algorithm" in cfg else LAB


def _name(cfg: Mapping[str, Any]) -> str:
    """The name of a job's method."""
    return str(cfg[_section(cfg)].get("name", DEFAULT_LAB_METHOD))


def _seed(cfg: Mapping[str, Any]) -> int:
    """A job's seed (an engine run's ``[run] seed``, a lab run's ``[sde] seed``)."""
    return int(cfg.get("run", cfg.get("sde", {})).get("seed", 0))


@functools.cache
def _family_of(name: str) -> str:
    return ALGORITHMS.build(name, {}, steps=10).family


def families(study: Study, root: Path) -> set[str]:
    """The families of the methods a study runs."""
    return {f for f in (_family(c) for _, c in study.runs(root, study.tuned)) if f}


def fitting(all_studies: Mapping[str, Study], family: str) -> list[str]:
    """The studies that run methods of ``family``."""
    return [n for n, s in all_studies.items() if family in families(s, Path("runs") / n)]


def _setting(cfg: Mapping[str, Any]) -> str:
    """What a job's runs share across methods and seeds: its config without the method and the seed."""
    rest = {k: v for k, v in cfg.items() if k not in ("algorithm", LAB)}
    for seeded in ("run", "sde"):
        if seeded in rest:
            rest[seeded] = {k: v for k, v in rest[seeded].items() if k != "seed"}
    return json.dumps(rest, sort_keys=True, default=str)


def _added_folder(root: Path, entry: Entry, folder: Path, method: str) -> Path:
    parts = [p for p in Path(folder).relative_to(root).parts if p != method and "=" not in p]
    return root / ADDED / entry.label / Path(*parts)


def reference_method(jobs: list[Job], family: str) -> str:
    """The study's method of ``family`` with the most runs: the one an added method of that family stands beside."""
    counts: dict[str, int] = {}
    for _, c in jobs:
        if _family(c) == family:
            counts[_name(c)] = counts.get(_name(c), 0) + 1
    return max(counts, key=lambda m: counts[m])


def _tuned_part(settings: Mapping[str, Any]) -> str:
    """The folder name of tuned settings (``lr=0.01,beta=0.9``)."""
    return ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())


def added_jobs(
    jobs: list[Job], root: Path, entry: Entry, winners: Mapping[str, dict[str, Any]] | None = None
) -> list[Job]:
    """The entry's runs: its reference method's jobs with its ``[algorithm]``, in ``root/added/LABEL``; where
    ``winners`` (setting → tuned settings) has the job's setting, with those settings, named in the folder."""
    reference = reference_method(jobs, entry.family)
    out, seen = [], set()
    for f, c in jobs:
        key = (_setting(c), _seed(c))
        if _family(c) == entry.family and _name(c) == reference and key not in seen:
            seen.add(key)  # a setting the study repeats: once
            tuned = (winners or {}).get(_setting(c))
            folder = _added_folder(root, entry, f, reference)
            if tuned:
                folder = folder.parent / _tuned_part(tuned) / folder.name
            out.append((folder, entry.config(c, tuned)))
    return out


def added_grid(study: Study, entries: list[Entry], winners: dict[str, dict[str, dict[str, Any]]]) -> Callable:
    """The study's tuning grid with a twin search per (entry, search of its reference method): see the module
    docstring. The twins' winners go to ``winners`` (entry label → setting → tuned settings) when the grid is
    collected; the study's own winners are collected as before."""
    grid_of = study.grid
    assert grid_of is not None

    def grid(root: Path) -> Grid:
        g = grid_of(root)
        jobs = study.runs(root, study.tuned)
        twins: dict[str, tuple[str, Entry]] = {}
        axes = dict(g.axes)
        for e in entries:
            reference, accepted = reference_method(jobs, e.family), set(ALGORITHMS.params(e.algorithm["name"]))
            for k, ax in g.axes.items():
                probe = g.config(k, {a: v[0] for a, v in ax.items()}, g.seeds[0])
                if probe.get("algorithm", {}).get("name") == reference and ax and set(ax) <= accepted:
                    twins[f"{ADDED}/{e.label}/{k}"] = (k, e)
                    axes[f"{ADDED}/{e.label}/{k}"] = ax

        def config(k: str, point: Point, seed: int) -> dict[str, Any]:
            if k not in twins:
                return g.config(k, point, seed)
            key, e = twins[k]
            c = g.config(key, point, seed)
            return {**c, "algorithm": {**e.algorithm, **{a: c["algorithm"][a] for a in point if a in c["algorithm"]}}}

        def folder(r: Path, k: str, point: Point) -> Path:
            if k not in twins:
                return g.folder(r, k, point)
            key, e = twins[k]
            return Path(r) / ADDED / e.label / Path(g.folder(r, key, point)).relative_to(r)

        def winner(k: str, point: Point) -> Any:
            if k not in twins:
                return g.winner(k, point)
            return {a: config(k, point, g.seeds[0])["algorithm"][a] for a in point}

        def collect(found: dict[str, Any]) -> Any:
            for k, (key, e) in twins.items():
                if k in found:
                    probe = g.config(key, {a: v[0] for a, v in g.axes[key].items()}, g.seeds[0])
                    winners.setdefault(e.label, {})[_setting(probe)] = found[k]
            return g.collect({k: v for k, v in found.items() if k not in twins})

        return replace(
            g,
            axes=axes,
            config=config,
            folder=folder,
            metric=lambda k: g.metric(twins[k][0] if k in twins else k),
            winner=winner,
            collect=collect,
        )

    return grid


def _method(section: Mapping[str, Any]) -> str:
    """A method's row label: its name and settings (a study may run one method with several)."""
    settings = ", ".join(
        f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in section.items() if k != "name"
    )
    return section["name"] + (f" ({settings})" if settings else "")


def _final_metrics(folder: Path) -> dict[str, float]:
    """A finished run's final metrics: an engine run's last evaluation, or a lab run's final mean f of the
    discrete method (its blow-up fraction beside it); empty while it is not run (or every path blew up)."""
    lab = read_lab(folder)
    if lab is None:
        return last_metrics(folder)
    last = lab["discrete"]["mean"][-1] if lab["discrete"]["mean"] else None
    return {} if last is None else {"final mean f": last, "blow-up fraction": lab["discrete"]["blow_up_fraction"]}


def _mean_final(folders: Iterable[Path]) -> tuple[str, float, int] | None:
    """(headline metric, its mean final value over the finished folders, how many) or None."""
    rows = [m for m in (_final_metrics(f) for f in folders) if m]
    if not rows:
        return None
    key = next(iter(rows[0]))
    values = [r[key] for r in rows if key in r]
    return key, statistics.fmean(values), len(values)


def added_table(
    study: Study, entries: list[Entry], winners: Mapping[str, Mapping[str, dict[str, Any]]] | None = None
) -> Callable[[Path, Any], str]:
    """The body of the "Added methods" section: per setting, every method's mean final headline metric."""

    def body(root: Path, tuned: Any) -> str:
        jobs = study.runs(root, tuned)
        labelled = [(f, c, _method(c[_section(c)])) for f, c in jobs if _family(c)]
        labelled += [
            (f, c, f"{e.label} (added)")
            for e in entries
            for f, c in added_jobs(jobs, root, e, (winners or {}).get(e.label))
        ]
        groups: dict[str, dict[str, dict[int, Path]]] = {}
        for f, c, label in labelled:  # one folder per seed: a study may list a run in two places
            groups.setdefault(_setting(c), {}).setdefault(label, {}).setdefault(_seed(c), Path(f))
        lines = ["| setting | method | final metric | mean over seeds | seeds |", "|---|---|---|---|---|"]
        for key, methods in groups.items():
            if not any(m.endswith("(added)") for m in methods):
                continue
            where = _describe(json.loads(key))
            for method, folders in sorted(methods.items(), key=lambda kv: (not kv[0].endswith("(added)"), kv[0])):
                got = _mean_final(folders.values())
                cells = [got[0], f"{got[1]:.4g}", str(got[2])] if got else ["—", "not run", "0"]
                lines.append(
                    f"| {where} | {'**' + method + '**' if method.endswith('(added)') else method} | "
                    + " | ".join(cells)
                    + " |"
                )
        return "\n".join(lines)

    return body


def _describe(setting: Mapping[str, Any]) -> str:
    parts = []
    for section in ("problem", "topology", "noise"):
        body = setting.get(section) or {}
        extra = ", ".join(f"{k}={v}" for k, v in body.items() if k in ("n", "alpha", "df", "scale"))
        parts.append(f"{body.get('name', '?')}" + (f" ({extra})" if extra else ""))
    return " / ".join(parts)


def with_added(study: Study, entries: list[Entry], all_studies: Mapping[str, Study]) -> Study:
    """``study`` with the entries' runs and an "Added methods" report section; a method of a family the study
    does not run is refused (:class:`ConfigError` naming the studies it fits)."""
    have = families(study, Path("runs") / study.name)
    for e in entries:
        if e.family not in have:
            fits = fitting(all_studies, e.family)
            raise ConfigError(
                f"--add {e.algorithm['name']}: its family ({e.family}) does not fit study "
                f"'{study.name}' ({', '.join(sorted(have)) or 'no engine runs'}); it fits: "
                f"{', '.join(fits) or 'no study'}"
            )
    runs = study.runs
    winners: dict[str, dict[str, dict[str, Any]]] = {}  # filled by a --tune of the study's grid

    def all_runs(root: Path, tuned: Any) -> list[Job]:
        jobs = runs(root, tuned)
        return jobs + [j for e in entries for j in added_jobs(jobs, Path(root), e, winners.get(e.label))]

    section = Section(
        f"Added methods ({', '.join(e.label for e in entries)}, marked as added)", added_table(study, entries, winners)
    )
    grid = added_grid(study, entries, winners) if study.grid is not None else None
    return replace(study, runs=all_runs, sections=(*study.sections, section), grid=grid)
