"""The network of a simulated cluster: latency α per message, time β = 8/bandwidth per byte, a fabric.

Units: ``latency`` in seconds, bandwidths in bits per second (``100e9`` is 100 Gb/s). Every worker has a link
of ``bandwidth`` (or its own, ``link_bandwidth[i]``), and the parameter server one of ``server_bandwidth``.
How messages share the wire is the :mod:`fabric <tailtamer.cluster.fabrics>`'s job. A value that cannot describe
a network (a bandwidth ≤ 0, a latency that is negative or not finite) is refused in one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import ConfigError


def check_bandwidth(name: str, value: float, owner: str) -> float:
    """``value`` (bits/s) when it is a positive number (``inf``: a free link); else a one-line error."""
    v = float(value)
    if not v > 0:  # also refuses nan
        raise ConfigError(f"[cluster] {owner}: {name} must be > 0 bits per second, got {value!r}")
    return v


def check_latency(value: float, owner: str) -> float:
    """``value`` (seconds per message) when it is finite and ≥ 0; else a one-line error."""
    v = float(value)
    if not (math.isfinite(v) and v >= 0):
        raise ConfigError(f"[cluster] {owner}: latency must be a finite number of seconds ≥ 0, got {value!r}")
    return v


@dataclass(frozen=True)
class Network:
    """Latency and link speeds of ``n`` workers and one server (see the module docstring).

    Attributes:
        latency: α, seconds per message.
        links: each worker's link, bits/s.
        server: the parameter server's link, bits/s.
    """

    latency: float
    links: tuple[float, ...]
    server: float

    @property
    def n(self) -> int:
        return len(self.links)

    @property
    def free(self) -> bool:
        """Whether messages cost nothing (no latency, infinite bandwidth): the ``ideal`` cluster."""
        return self.latency == 0 and math.isinf(self.server) and all(math.isinf(b) for b in self.links)

    def beta(self, worker: int) -> float:
        """Seconds per byte on worker ``worker``'s link."""
        return 8.0 / self.links[worker]

    @property
    def beta_slowest(self) -> float:
        """Seconds per byte on the slowest worker link (what a ring's steps wait for)."""
        return 8.0 / min(self.links)

    @property
    def beta_server(self) -> float:
        """Seconds per byte on the server's link."""
        return 8.0 / self.server
