"""tailtamer: distributed stochastic optimization under heavy-tailed gradient noise.

The names below are the stable public API (docs/public-api.md): building and running a config, the registries
with the base classes of their entries, the callbacks, the errors a caller catches, and ``__version__``.
Everything else is reached through its module and may change between versions.

``import tailtamer`` imports no torch: each name is loaded from its module on first use (PEP 562), so the
command line (``tailtamer --help``, ``tailtamer list``) starts without it.

Example:
    >>> import tailtamer
    >>> "gt-nsgdm" in tailtamer.ALGORITHMS.names()
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._version import __version__ as __version__
    from .algorithms import ALGORITHMS as ALGORITHMS
    from .algorithms import Algorithm as Algorithm
    from .algorithms.asynchronous import COMPENSATIONS as COMPENSATIONS
    from .algorithms.asynchronous import DELAY_RULES as DELAY_RULES
    from .algorithms.asynchronous import AsyncScheme as AsyncScheme
    from .algorithms.base import Method as Method
    from .algorithms.base import Oracle as Oracle
    from .api import Components as Components
    from .api import build as build
    from .api import build_components as build_components
    from .api import make_loop as make_loop
    from .compression import COMPRESSORS as COMPRESSORS
    from .compression import Compressor as Compressor
    from .config import apply_overrides as apply_overrides
    from .config import apply_unsets as apply_unsets
    from .config import dumps_toml as dumps_toml
    from .config import load_toml as load_toml
    from .config import resolve as resolve
    from .engine import Callback as Callback
    from .engine import History as History
    from .engine import Loop as Loop
    from .errors import ConfigError as ConfigError
    from .errors import TailtamerError as TailtamerError
    from .errors import ValidationError as ValidationError
    from .experiments.runner import run_config as run_config
    from .noise import NOISES as NOISES
    from .noise import NoiseModel as NoiseModel
    from .operators import TRANSFORMS as TRANSFORMS
    from .operators import Transform as Transform
    from .prepare import prepare_run as prepare_run
    from .problems import PROBLEMS as PROBLEMS
    from .problems import Problem as Problem
    from .registry import Registry as Registry
    from .schedules import SCHEDULES as SCHEDULES
    from .settings import RunSettings as RunSettings
    from .timing import TIMINGS as TIMINGS
    from .timing import TimingModel as TimingModel
    from .topology import TOPOLOGIES as TOPOLOGIES
    from .topology import Topology as Topology

#: Public name → the module it is loaded from. A registry comes from its package, whose import registers
#: every entry (``tailtamer.algorithms``, not ``tailtamer.algorithms.base``).
_EXPORTS: dict[str, str] = {
    # a config: read, override, check, write
    "load_toml": "tailtamer.config",
    "apply_overrides": "tailtamer.config",
    "apply_unsets": "tailtamer.config",
    "resolve": "tailtamer.config",
    "dumps_toml": "tailtamer.config",
    "RunSettings": "tailtamer.settings",
    # build and run it
    "build_components": "tailtamer.api",
    "Components": "tailtamer.api",
    "make_loop": "tailtamer.api",
    "build": "tailtamer.api",
    "run_config": "tailtamer.experiments.runner",
    "prepare_run": "tailtamer.prepare",
    "Loop": "tailtamer.engine",
    "Callback": "tailtamer.engine",
    "History": "tailtamer.engine",
    # the registries and the base classes of their entries
    "Registry": "tailtamer.registry",
    "ALGORITHMS": "tailtamer.algorithms",
    "Algorithm": "tailtamer.algorithms",
    "Method": "tailtamer.algorithms.base",
    "Oracle": "tailtamer.algorithms.base",
    "AsyncScheme": "tailtamer.algorithms.asynchronous",
    "PROBLEMS": "tailtamer.problems",
    "Problem": "tailtamer.problems",
    "TOPOLOGIES": "tailtamer.topology",
    "Topology": "tailtamer.topology",
    "NOISES": "tailtamer.noise",
    "NoiseModel": "tailtamer.noise",
    "COMPRESSORS": "tailtamer.compression",
    "Compressor": "tailtamer.compression",
    "TIMINGS": "tailtamer.timing",
    "TimingModel": "tailtamer.timing",
    "TRANSFORMS": "tailtamer.operators",
    "Transform": "tailtamer.operators",
    "SCHEDULES": "tailtamer.schedules",
    "DELAY_RULES": "tailtamer.algorithms.asynchronous",
    "COMPENSATIONS": "tailtamer.algorithms.asynchronous",
    # errors a caller catches
    "TailtamerError": "tailtamer.errors",
    "ConfigError": "tailtamer.errors",
    "ValidationError": "tailtamer.errors",
    "__version__": "tailtamer._version",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562) and keep it in this module."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'tailtamer' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
