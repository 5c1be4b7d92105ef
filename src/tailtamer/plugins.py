"""Plugins: components registered from outside the package (docs/extending.md).

A plugin is a Python module that registers components in tailtamer's registries when it is imported
(``@ALGORITHMS.register("my-method")``, ``@NOISES.register("my-noise")``, ...). It is loaded in one of three ways:

* an installed distribution declares an entry point in the group ``tailtamer.plugins``
  (``[project.entry-points."tailtamer.plugins"] my = "my_package"``); every entry point is loaded once, the first
  time a command needs the registries (not for ``--help``). An entry point naming a function
  (``"my_package:register"``) has the function called with no arguments after import;
* ``--plugin PATH.py`` or ``--plugin MODULE`` on the command line (:mod:`tailtamer.cli.plugin_option`);
* ``plugins = ["PATH.py", "MODULE"]`` in a config's ``[run]`` section, paths relative to the config's folder.

Every plugin loaded in a process is added to the environment variable :data:`ENV` (absolute paths), which the
processes it starts inherit (``launch`` workers, sweep executors): :func:`load` loads those too, so every worker
sees the components the parent saw. Loading is idempotent (a plugin is loaded once per process).

Bad input is one line: a plugin that fails to import names the plugin and the error
(:class:`PluginError`); a name already registered is refused by the registry, so a plugin never shadows a
built-in (:meth:`tailtamer.registry.Registry.register`).

This module imports nothing of tailtamer's but its errors: a plugin imports the registries it fills.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from .errors import ConfigError

#: The entry-point group installed plugins declare.
ENTRY_POINT_GROUP = "tailtamer.plugins"
#: The environment variable listing the plugins loaded in this process (``os.pathsep``-separated), for children.
ENV = "TAILTAMER_PLUGINS"

_loaded: dict[str, ModuleType] = {}
_entry_points_loaded = False
#: The installed entry points loaded in this process (``name = value``).
_entry_points: list[str] = []


class PluginError(ConfigError):
    """A plugin that cannot be found or fails to import (the message names it and the error)."""


def is_path(spec: str) -> bool:
    """Whether ``spec`` names a file (``*.py`` or a path with a separator) rather than an importable module."""
    return spec.endswith(".py") or "/" in spec or os.sep in spec


def absolute(spec: str, base: str | Path | None = None) -> str:
    """``spec`` with a relative file path made absolute against ``base`` (default: the working directory);
    module names are returned unchanged."""
    if not is_path(spec):
        return spec
    path = Path(spec).expanduser()
    return str(path if path.is_absolute() else (Path(base or Path.cwd()) / path).resolve())


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _module_name(path: Path) -> str:
    """A stable module name for a plugin file (the same in every process, so its objects pickle)."""
    stem = re.sub(r"\W", "_", path.stem)
    return f"tailtamer_plugin_{stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"


def _import_file(path: Path) -> ModuleType:
    name = _module_name(path)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def load_one(spec: str, base: str | Path | None = None) -> ModuleType:
    """Import the plugin ``spec`` (a ``PATH.py`` or a ``MODULE``) once; raise :class:`PluginError` in one line."""
    key = absolute(spec, base)
    if key in _loaded:
        return _loaded[key]
    if is_path(key) and not Path(key).is_file():
        raise PluginError(f"plugin '{spec}': file not found: {key}")
    try:
        module = _import_file(Path(key)) if is_path(key) else importlib.import_module(key)
    except ConfigError as err:  # e.g. a name already registered: the registry's own line
        raise PluginError(f"plugin '{spec}': {err}") from None
    except Exception as err:  # noqa: BLE001 - any import-time failure of third-party code, in one line
        raise PluginError(f"plugin '{spec}' failed to import: {_one_line(err)}") from None
    _loaded[key] = module
    _remember(key)
    return module


def _remember(key: str) -> None:
    """Add ``key`` to :data:`ENV` so that the processes this one starts load it too."""
    known = [s for s in os.environ.get(ENV, "").split(os.pathsep) if s]
    if key not in known:
        os.environ[ENV] = os.pathsep.join([*known, key])


def load_entry_points() -> None:
    """Load every installed ``tailtamer.plugins`` entry point (once per process)."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        where = f"plugin '{ep.name}' (entry point {ep.value})"
        try:
            obj = ep.load()
            if ep.attr and callable(obj):
                obj()
            _entry_points.append(f"{ep.name} = {ep.value}")
        except ConfigError as err:
            raise PluginError(f"{where}: {err}") from None
        except Exception as err:  # noqa: BLE001 - as in load_one
            raise PluginError(f"{where} failed to import: {_one_line(err)}") from None


def load(specs: Iterable[str] = (), base: str | Path | None = None) -> list[ModuleType]:
    """Load the installed entry points, the plugins listed in :data:`ENV`, then ``specs`` (relative paths
    against ``base``); return the modules of ``specs``. Call it before the registries are looked up."""
    load_entry_points()
    for inherited in [s for s in os.environ.get(ENV, "").split(os.pathsep) if s]:
        load_one(inherited)
    return [load_one(s, base) for s in specs]


def loaded() -> list[str]:
    """The plugins loaded in this process (absolute paths or module names), in load order."""
    return list(_loaded)


def any_loaded() -> bool:
    """Whether this process loaded a plugin, named or installed (then the registries hold more than built-ins)."""
    return bool(_loaded or _entry_points)
