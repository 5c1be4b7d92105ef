"""``[cluster]``: the presets, a custom cluster, and a cluster file, registered in :data:`CLUSTERS`.

Each preset is a full cluster description whose every key can be overridden in the section
(``[cluster] name = "edge"`` then ``latency = 0.05``):

======================  ==========  ============  ==============================================================
preset                  latency     bandwidth     compute (seconds per gradient, a ``[timing]`` model)
======================  ==========  ============  ==============================================================
``ideal`` (no section)  0           ∞             fixed 1 (simulated time counts gradient computations)
``datacenter``          10 µs       100 Gb/s      fixed 0.01
``cross-region``        50 ms       1 Gb/s        fixed 0.01
``edge``                20 ms       100 Mb/s      straggler: 0.05, the last worker 10× slower
``custom``              (required)  (required)    fixed 0.01
======================  ==========  ============  ==============================================================

The orders of magnitude are the usual ones: a datacenter fabric of 100 Gb/s links with microseconds of
latency, a wide-area link between regions with tens of milliseconds of round trip and about 1 Gb/s, and edge
devices on 100 Mb/s links with a slow straggler. ``file`` reads the ``[cluster]`` table of a TOML file
(``path``), which :func:`tailtamer.cluster.section.resolve_section` expands in place.

Keys: ``latency`` (s), ``bandwidth`` (bits/s, every worker's link), ``link_bandwidth`` (one per worker; empty:
all ``bandwidth``), ``server_bandwidth`` (0: ``bandwidth``), ``fabric`` (``switched`` or ``shared``, see
:mod:`~tailtamer.cluster.fabrics`), ``reduce`` (``ring``: a ring all-reduce, what ``tailtamer launch`` runs on
gloo for every topology; ``server``: a parameter server), ``workers`` (how many workers the cluster has; 0: the
run's n; fewer than the run's n is refused), ``compute`` (an inline ``[timing]`` table).
"""

from __future__ import annotations

import inspect
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..registry import Registry, suggest
from ..timing import TIMINGS
from .fabrics import FABRICS
from .model import REDUCE, Cluster
from .network import Network, check_bandwidth, check_latency

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]

#: The ``[cluster]`` entries; factories receive the run's ``n`` and ``seed``.
CLUSTERS: Registry[Cluster] = Registry("cluster", context=("n", "seed"))


def build_cluster(
    name: str,
    n: int,
    seed: int,
    latency: float,
    bandwidth: float,
    link_bandwidth: list[float],
    server_bandwidth: float,
    fabric: str,
    reduce: str,
    workers: int,
    compute: dict[str, Any],
) -> Cluster:
    """A :class:`Cluster` of the run's ``n`` workers from a section's values (each checked, one line each)."""
    owner = name
    if workers < 0 or (workers and workers < n):
        raise ConfigError(
            f"[cluster] {owner}: workers = {workers}, but the run has n = {n} nodes; a cluster needs at least "
            f"one worker per node (0: as many as the run)"
        )
    check_latency(latency, owner)
    check_bandwidth("bandwidth", bandwidth, owner)
    links = [check_bandwidth("link_bandwidth", b, owner) for b in link_bandwidth] or [float(bandwidth)] * n
    if len(links) != n:
        raise ConfigError(f"[cluster] {owner}: link_bandwidth has {len(links)} entries for n = {n} workers")
    server = float(bandwidth) if server_bandwidth == 0 else check_bandwidth("server_bandwidth", server_bandwidth, owner)
    if fabric not in FABRICS:
        raise ConfigError(
            f"[cluster] fabric must be one of {FABRICS.names()}, got {fabric!r}{suggest(fabric, FABRICS.names())}"
        )
    if fabric == "shared" and (link_bandwidth or server_bandwidth):
        raise ConfigError(
            "[cluster] fabric = 'shared' is one medium of `bandwidth`: link_bandwidth and server_bandwidth "
            "do not apply to it"
        )
    if reduce not in REDUCE:
        raise ConfigError(f"[cluster] reduce must be one of {REDUCE}, got {reduce!r}{suggest(reduce, REDUCE)}")
    if not isinstance(compute, dict) or "name" not in compute:
        raise ConfigError(f"[cluster] compute must be an inline [timing] table with a name, got {compute!r}")
    body = dict(compute)
    timing = TIMINGS.build(body.pop("name"), body, section="cluster.compute", n=n, seed=seed)
    net = Network(float(latency), tuple(links), server)
    return Cluster(name, timing, net, FABRICS.build(fabric, {}, net=net), reduce)


def _preset(
    name: str,
    summary: str,
    latency: float,
    bandwidth: float,
    compute: dict[str, Any],
    required: tuple[str, ...] = (),
) -> None:
    """Register ``name`` with these defaults, every key overridable; the keys of ``required`` have no default
    (the section must give them: ``custom``'s network)."""

    def factory(
        n: int,
        seed: int = 0,
        latency: float = latency,
        bandwidth: float = bandwidth,
        link_bandwidth: list[float] | tuple[float, ...] = (),
        server_bandwidth: float = 0.0,
        fabric: str = "switched",
        reduce: str = "ring",
        workers: int = 0,
        compute: dict[str, Any] = compute,
    ) -> Cluster:
        return build_cluster(
            name, n, seed, latency, bandwidth, list(link_bandwidth), server_bandwidth, fabric, reduce, workers, compute
        )

    if required:  # the signature the registry reads: the section's keys by keyword, the required ones without default
        sig = inspect.signature(factory)
        keys = [
            p.replace(kind=p.KEYWORD_ONLY, default=p.empty if p.name in required else p.default)
            for p in list(sig.parameters.values())[2:]
        ]
        factory.__signature__ = sig.replace(parameters=[*list(sig.parameters.values())[:2], *keys])  # type: ignore[attr-defined]
    factory.__doc__ = summary
    CLUSTERS.register(name, summary)(factory)


_preset(
    "ideal",
    "free communication, 1 s per gradient: simulated time counts gradient computations",
    0.0,
    math.inf,
    {"name": "fixed", "times": 1.0},
)
_preset(
    "datacenter", "10 µs latency, 100 Gb/s links, 10 ms per gradient", 1e-5, 100e9, {"name": "fixed", "times": 0.01}
)
_preset("cross-region", "50 ms latency, 1 Gb/s links, 10 ms per gradient", 0.05, 1e9, {"name": "fixed", "times": 0.01})
_preset(
    "edge",
    "20 ms latency, 100 Mb/s links, 50 ms per gradient with the last worker 10x slower",
    0.02,
    100e6,
    {"name": "straggler", "base": "fixed", "time": 0.05, "factor": 10.0},
)
_preset(
    "custom",
    "your own network: latency (s) and bandwidth (bits/s) required",
    math.nan,
    math.nan,
    {"name": "fixed", "times": 0.01},
    required=("latency", "bandwidth"),
)


@CLUSTERS.register("file", "the [cluster] table of a TOML file (path)")
def from_file(n: int, seed: int = 0, *, path: str) -> Cluster:
    """The cluster that the ``[cluster]`` table of the TOML file ``path`` describes."""
    table = read_table(path)
    return CLUSTERS.build(table.pop("name"), table, section="cluster", n=n, seed=seed)


def read_table(path: str) -> dict[str, Any]:
    """The ``[cluster]`` table of the TOML file ``path`` (its ``name`` a preset or ``custom``), or a one-line error."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"[cluster] file {path!r} not found")
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"[cluster] file {path}: not valid TOML ({err})") from None
    except OSError as err:
        raise ConfigError(f"[cluster] file {path}: cannot read it ({err.strerror or err})") from None
    table = doc.get("cluster")
    if not isinstance(table, dict):
        raise ConfigError(f"[cluster] file {path} has no [cluster] table")
    table = dict(table)
    name = table.setdefault("name", "custom")
    if name == "file" or name not in CLUSTERS:
        choices = [c for c in CLUSTERS.names() if c != "file"]
        raise ConfigError(
            f"[cluster] file {path}: name must be one of {choices}, got {name!r}{suggest(str(name), choices)}"
        )
    return table
