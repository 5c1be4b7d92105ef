"""The ``[cluster]`` section resolved for a run folder: a cluster file expanded in place, every default filled
in, the compute model's too, so ``config.toml`` records the whole cluster a run was timed on."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import ConfigError
from ..registry import suggest
from ..timing import TIMINGS, TimingModel
from .model import Cluster
from .presets import CLUSTERS, read_table

#: The preset a run without a ``[cluster]`` section is timed on.
DEFAULT = "ideal"


def resolve_section(raw: dict[str, Any]) -> dict[str, Any]:
    """``[cluster]`` as written → as recorded (see the module docstring); bad input is one ConfigError line."""
    body = dict(raw)
    name = body.pop("name", DEFAULT)
    if not isinstance(name, str) or name not in CLUSTERS:
        raise ConfigError(
            f"unknown cluster preset {name!r}{suggest(str(name), CLUSTERS.names())}; "
            f"presets: {', '.join(CLUSTERS.names())}"
        )
    if name == "file":
        CLUSTERS.validate(name, body, section="cluster")
        body = read_table(body["path"])
        name = body.pop("name")
    out = CLUSTERS.resolve(name, body, section="cluster")
    out["link_bandwidth"] = list(out["link_bandwidth"])  # as TOML reads it back
    compute = dict(out["compute"]) if isinstance(out["compute"], dict) else None
    if compute is None or "name" not in compute:
        raise ConfigError(f"[cluster] compute must be an inline [timing] table with a name, got {out['compute']!r}")
    timing = TIMINGS.resolve(compute.pop("name"), compute, section="cluster.compute")
    out["compute"] = {k: v for k, v in timing.items() if v is not None}  # TOML has no null: None is the default
    return out


def build_section(section: dict[str, Any], n: int, seed: int) -> Cluster:
    """The :class:`~tailtamer.cluster.model.Cluster` of a resolved ``[cluster]`` section for a run of ``n`` nodes."""
    body = dict(section)
    return CLUSTERS.build(body.pop("name"), body, section="cluster", n=n, seed=seed)


def default_cluster(n: int, seed: int, compute: TimingModel | None = None) -> Cluster:
    """The cluster of a run without ``[cluster]``: the ``ideal`` preset, with ``compute`` (an asynchronous run's
    ``[timing]`` model) as its compute times when given."""
    cluster = CLUSTERS.build(DEFAULT, {}, section="cluster", n=n, seed=seed)
    return cluster if compute is None else dataclasses.replace(cluster, compute=compute)
