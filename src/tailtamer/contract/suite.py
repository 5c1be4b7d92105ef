"""The contract suite of every kind of component: which registry holds it, which properties it keeps.

``check(name)`` finds the kind whose registry holds ``name`` (``kind`` picks one when several do) and runs that
kind's properties (:mod:`~tailtamer.contract.algorithm`, :mod:`~tailtamer.contract.noise`,
:mod:`~tailtamer.contract.compressor`, :mod:`~tailtamer.contract.timing`, :mod:`~tailtamer.contract.problem`),
each a PASS, FAIL or SKIP with its reason (:class:`~.result.Result`). ``tailtamer check`` prints them; the tests run
the suite over every registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..algorithms import ALGORITHMS
from ..compression import COMPRESSORS
from ..errors import ConfigError
from ..noise import NOISES
from ..problems import PROBLEMS
from ..registry import Registry, suggest
from ..timing import TIMINGS
from . import algorithm, compressor, noise, problem, timing
from .result import Property, Result, run_properties


@dataclass(frozen=True)
class Kind:
    """One kind of component: its registry, how to make the subject the properties test, and the properties."""

    registry: Registry[Any]
    subject: Callable[..., Any]
    properties: dict[str, Property]


#: Kind name → its registry, subject and properties (the order ``tailtamer check`` prints them in).
KINDS: dict[str, Kind] = {
    "algorithm": Kind(ALGORITHMS, algorithm.AlgorithmSubject, algorithm.PROPERTIES),
    "noise": Kind(NOISES, noise.subject, noise.PROPERTIES),
    "compression": Kind(COMPRESSORS, compressor.subject, compressor.PROPERTIES),
    "timing": Kind(TIMINGS, timing.subject, timing.PROPERTIES),
    "problem": Kind(PROBLEMS, problem.subject, problem.PROPERTIES),
}


def kind_of(name: str, kind: str | None = None) -> str:
    """The kind whose registry holds ``name`` (``kind``, when given, must be one of them)."""
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"unknown kind '{kind}'{suggest(kind, KINDS)}; kinds: {', '.join(KINDS)}")
    found = [k for k, v in KINDS.items() if name in v.registry and kind in (None, k)]
    if not found:
        known = [n for v in KINDS.values() for n in v.registry.names()]
        raise ConfigError(
            f"no {kind or 'component'} is registered as '{name}'{suggest(name, known)}; see `tailtamer list`"
        )
    if len(found) > 1:
        raise ConfigError(f"'{name}' is registered as {' and '.join(found)}: choose one with --kind")
    return found[0]


def check(
    name: str,
    kind: str | None = None,
    params: dict[str, Any] | None = None,
    distributed: bool = False,
    only: tuple[str, ...] | None = None,
) -> tuple[str, list[Result]]:
    """(kind, results) of the contract suite on the component ``name`` built with ``params``."""
    kind = kind_of(name, kind)
    spec = KINDS[kind]
    spec.registry.validate(name, dict(params or {}), section=kind)
    extra = {"distributed": distributed} if kind == "algorithm" else {}
    return kind, run_properties(spec.properties, spec.subject(name, dict(params or {}), **extra), only)
