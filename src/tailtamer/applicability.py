"""A config says nothing that does not happen: a setting the chosen method would ignore is refused in one line.

* ``[timing]`` sets the compute times of the event engine, which only asynchronous methods (family ``async``)
  run on: on a lockstep method it would be ignored;
* an asynchronous method's workers talk to one server, so a graph topology (``ring``, ``torus``, ...) would be
  ignored: only ``server`` (or ``complete``, the same averaging) names what happens;
* an asynchronous run counts server updates and stops at ``[run] steps``: 0 would stop before the first one and
  report a finished run that never ran.
"""
from __future__ import annotations

from typing import Any

from .errors import ConfigError

#: Topologies an asynchronous method accepts (what it does: every worker reaches the server).
ASYNC_TOPOLOGIES = ("server", "complete")


def _family(resolved: dict[str, Any]) -> str:
    from .algorithms import ALGORITHMS

    return getattr(ALGORITHMS.get(resolved["algorithm"]["name"]), "family", "")


def check_applies(cfg: dict[str, Any], resolved: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` for a section or name of ``cfg`` (as written) that ``resolved``'s method ignores."""
    name, family = resolved["algorithm"]["name"], _family(resolved)
    if "timing" in cfg and family != "async":
        raise ConfigError(f"[timing] sets the compute times of asynchronous methods; '{name}' runs in lockstep and "
                          f"would ignore it: remove [timing] (or choose an asynchronous method)")
    topology = (cfg.get("topology") or {}).get("name")
    if family == "async" and topology is not None and topology not in ASYNC_TOPOLOGIES:
        raise ConfigError(f"[topology] '{topology}' would be ignored: '{name}' is asynchronous, its workers talk to "
                          f"one server; use name = \"server\" (n = the number of workers)")
    if family == "async" and resolved["run"]["steps"] < 1:
        raise ConfigError(f"[run] steps = {resolved['run']['steps']}: '{name}' is asynchronous and would stop before "
                          f"its first server update; give steps ≥ 1 ([run] time stops it earlier at a simulated time)")
