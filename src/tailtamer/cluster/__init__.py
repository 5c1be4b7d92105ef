"""One clock for every family: a simulated cluster (compute times, network, fabric) and the simulated time of a run.

* :mod:`.network` — latency and link speeds; :mod:`.fabrics` — the cost rule of each communication pattern;
* :mod:`.model` — :class:`Cluster`, which prices each call of ``comm``; :mod:`.presets` — ``[cluster]``;
* :mod:`.clock` — the lockstep clock; :mod:`.link` — the server link an asynchronous run's messages queue on.
"""

from .clock import Clock
from .fabrics import FABRICS
from .link import Link
from .model import Cluster
from .network import Network
from .presets import CLUSTERS
from .section import DEFAULT, build_section, default_cluster, resolve_section

__all__ = [
    "CLUSTERS",
    "DEFAULT",
    "FABRICS",
    "Clock",
    "Cluster",
    "Link",
    "Network",
    "build_section",
    "default_cluster",
    "resolve_section",
]
