"""Configs are data: TOML sections ``[problem]``, ``[algorithm]``, ``[topology]``, ``[noise]``, ``[run]``, and the
optional ``[compression]``, ``[timing]`` and ``[cluster]``.

In each component section ``name`` picks the registry entry and the other keys are its parameters;
``[topology]`` also holds ``n``. :func:`resolve` checks everything (unknown sections, names and keys, with
the closest valid one suggested; value types; required keys) before any compute and returns the config
with every default filled in, which is what a run folder records.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import plugins as plugin_loader
from .algorithms import ALGORITHMS
from .algorithms.asynchronous.base import AsyncScheme
from .cluster import CLUSTERS, build_section, resolve_section
from .cluster import DEFAULT as DEFAULT_CLUSTER
from .compression import COMPRESSORS
from .errors import ConfigError
from .noise import NOISES
from .problems import PROBLEMS
from .registry import Registry, suggest
from .settings import RunSettings
from .timing import TIMINGS
from .topology import TOPOLOGIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of a config: the one table that load, resolve, ``--set`` and ``tailtamer list`` read.

    Attributes:
        name: the TOML section name.
        registry: the registry whose entry ``name = ...`` picks (None for ``[run]``, validated as one entry).
        default: the entry used when the section gives no ``name`` (None: ``name`` is required).
        needed_by: an optional section is resolved only when the config has it, or when the algorithm's class
            is a subclass of ``needed_by`` (``[timing]`` for event-driven schemes); None and ``optional``:
            only when present. Optional sections keep earlier configs resolving unchanged.
        path_keys: keys naming files: a relative value in a config file is relative to that file's folder.
        resolver: resolves the section as written into the section as recorded, where the registry's own
            validation is not the whole story (``[cluster]`` expands a cluster file and its compute model).
        replaced_by: a section that, when the config has it, takes this one's job (``[cluster]``'s ``compute``
            gives the compute times ``[timing]`` gives otherwise): then this one is not filled in, and a config
            with both is refused.
    """

    name: str
    registry: Registry[Any] | None
    default: str | None = None
    optional: bool = False
    needed_by: type | None = None
    path_keys: tuple[str, ...] = ()
    resolver: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    replaced_by: str | None = None


#: Every config section, in the order a resolved config (and a run folder's ``config.toml``) lists them.
TABLE: tuple[Section, ...] = (
    Section("problem", PROBLEMS, path_keys=("path",)),
    Section("algorithm", ALGORITHMS, path_keys=("path",)),
    Section("topology", TOPOLOGIES, default="complete", path_keys=("path",)),
    Section("noise", NOISES, default="none", path_keys=("path",)),
    Section("compression", COMPRESSORS, default="identity", optional=True),
    Section(
        "timing",
        TIMINGS,
        default="sqrt",
        optional=True,
        needed_by=AsyncScheme,
        path_keys=("path",),
        replaced_by="cluster",
    ),
    Section("cluster", CLUSTERS, default=DEFAULT_CLUSTER, optional=True, path_keys=("path",), resolver=resolve_section),
    Section("run", None),
)
SECTIONS = tuple(s.name for s in TABLE)
BY_NAME = {s.name: s for s in TABLE}
COMPONENTS = tuple(s for s in TABLE if s.registry is not None)


def component_registries() -> dict[str, Registry[Any]]:
    """Section name → the registry behind it, for the component sections."""
    return {s.name: s.registry for s in COMPONENTS if s.registry is not None}


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML config file (a missing file is an error that names the path).

    A relative file path in a component section (``path = "W.npy"`` of the ``matrix`` topology) is
    resolved against the config file's folder, so a config works from any working directory.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path.resolve()}")
    try:
        cfg = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except UnicodeDecodeError as err:
        raise ConfigError(f"{path}: not a UTF-8 text file ({err.reason})") from None
    except OSError as err:
        raise ConfigError(f"cannot read the config file {path}: {err.strerror or err}") from None
    folder = path.resolve().parent
    for section in TABLE:
        body = cfg.get(section.name)
        if not isinstance(body, dict):
            continue
        for key in section.path_keys:
            value = body.get(key)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                body[key] = str((folder / value).resolve())
    run = cfg.get("run")
    if isinstance(run, dict) and isinstance(run.get("plugins"), list):
        run["plugins"] = [plugin_loader.absolute(s, folder) if isinstance(s, str) else s for s in run["plugins"]]
    return cfg


def parse_value(text: str) -> Any:
    """A command-line value as TOML (numbers, booleans, strings, lists, inline tables), else a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _split_key(item: str, flag: str, form: str) -> tuple[str, str]:
    if "." not in item:
        raise ConfigError(f"{flag} expects {form}, got {item!r}")
    section, key = (part.strip() for part in item.split(".", 1))
    if section not in SECTIONS:
        raise ConfigError(f"unknown config section [{section}]{suggest(section, SECTIONS)}")
    return section, key


def _note(text: str) -> None:
    print(f"tailtamer: note: {text}", file=sys.stderr)


def apply_overrides(cfg: dict[str, Any], overrides: list[str], note: Any = _note) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (``--set``), returning a new dict.

    Setting ``section.name`` to another entry drops the keys the new entry does not take (they belonged to
    the old one), calling ``note(text)`` to say which (default: a line on stderr).
    """
    out = copy.deepcopy(cfg)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        path, value = item.split("=", 1)
        section, key = _split_key(path, "--set", "section.key=value")
        body = out.setdefault(section, {})
        parsed = parse_value(value.strip())
        if key == "name" and section in component_registries() and body.get("name") not in (None, parsed):
            _drop_foreign_keys(section, body, parsed, note)
        body[key] = parsed
    return out


def _drop_foreign_keys(section: str, body: dict[str, Any], name: Any, note: Any) -> None:
    """Drop the keys of ``body`` that entry ``name`` of ``section`` does not take (``n`` of a topology stays)."""
    registry = component_registries()[section]
    if not isinstance(name, str) or name not in registry:
        return  # resolve() reports the unknown name
    keep = set(registry.params(name)) | {"name"} | ({"n"} if section == "topology" else set())
    dropped = sorted(k for k in body if k not in keep)
    for k in dropped:
        del body[k]
    if dropped:
        note(
            f"[{section}] name = {body.get('name')!r} -> {name!r}: dropped {', '.join(dropped)} "
            f"(not parameters of {name!r})"
        )


def apply_unsets(cfg: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Remove ``section.key`` entries (``--unset``) so their defaults apply, returning a new dict."""
    out = copy.deepcopy(cfg)
    for item in keys:
        section, key = _split_key(item, "--unset", "section.key")
        body = out.get(section, {})
        if key not in body:
            raise ConfigError(
                f"--unset {item}: [{section}] has no key '{key}'{suggest(key, body)}"
                f"; it has: {', '.join(body) or '(none)'}"
            )
        del body[key]
    return out


#: ``[run]`` is validated like a component section with one entry (unknown keys, types, suggestions).
RUN: Registry[RunSettings] = Registry("run settings")
RUN.register("run")(RunSettings)


def _run_settings(raw: dict[str, Any]) -> RunSettings:
    settings = RUN.build("run", raw, section="run")
    settings.plugins = list(settings.plugins)  # type: ignore[assignment]  (a TOML list, as saved)
    for key, choices in (("dtype", ("float64", "float32")), ("mixing", ("auto", "dense", "sparse", "diagonals"))):
        if getattr(settings, key) not in choices:
            raise ConfigError(
                f"[run] {key} must be one of {choices}, got {getattr(settings, key)!r}"
                f"{suggest(str(getattr(settings, key)), choices)}"
            )
    if settings.steps < 0 or settings.eval_every < 1:
        raise ConfigError("[run] steps must be ≥ 0 and eval_every ≥ 1")
    if settings.checkpoint_every < 0:
        raise ConfigError(
            f"[run] checkpoint_every must be ≥ 0 (0: automatic, every ceil(steps / 20) steps), "
            f"got {settings.checkpoint_every}"
        )
    return settings


def resolve(cfg: dict[str, Any]) -> dict[str, Any]:
    """Validate a config and return it with every default filled in (no compute happens here)."""
    for section in cfg:
        if section not in SECTIONS:
            raise ConfigError(
                f"unknown config section [{section}]{suggest(section, SECTIONS)}; sections: {', '.join(SECTIONS)}"
            )
    for section in (s.name for s in COMPONENTS if s.default is None):
        if "name" not in cfg.get(section, {}):
            raise ConfigError(f"[{section}] needs a 'name'")
    run = _run_settings(cfg.get("run", {}))
    plugin_loader.load(run.plugins)  # before any registry is looked up
    out: dict[str, Any] = {}
    for entry in COMPONENTS:
        section, registry = entry.name, entry.registry
        assert registry is not None
        if entry.replaced_by is not None and entry.replaced_by in cfg:
            if section in cfg:
                raise ConfigError(
                    f"[{section}] and [{entry.replaced_by}] both give the workers' compute times: move [{section}] "
                    f"into [{entry.replaced_by}] compute = {{ name = ... }} (or drop [{entry.replaced_by}])"
                )
            continue
        if entry.optional and section not in cfg and not _needed(out, entry):
            continue
        raw = dict(cfg.get(section, {}))
        if entry.resolver is not None:
            out[section] = entry.resolver(raw)
            continue
        name = raw.pop("name", entry.default)
        extra: dict[str, Any] = {}
        if section == "topology":
            extra["n"] = raw.pop("n", 0 if name == "matrix" else None)
            if extra["n"] is None:
                raise ConfigError("[topology] needs 'n', the number of nodes")
            if not isinstance(extra["n"], int) or extra["n"] < 0:
                raise ConfigError(f"[topology] n must be a positive integer, got {extra['n']!r}")
        entry_section = resolve_entry(registry, name, raw, section)
        out[section] = {"name": name, **extra, **{k: v for k, v in entry_section.items() if k != "name"}}
    out["run"] = dataclasses.asdict(run)
    if out["run"]["time"] < 0:
        raise ConfigError("[run] time must be ≥ 0 (0: no limit)")
    _check_applies(cfg, out)
    if "cluster" in out and out["topology"]["n"] > 0:  # every value checked before anything runs (n = 0: a matrix's)
        build_section(out["cluster"], out["topology"]["n"], out["run"]["seed"])
    return out


#: Topologies an event-driven method accepts: every worker reaches the one server (``complete`` averages the same).
SERVER_TOPOLOGIES = ("server", "complete")


def _check_applies(cfg: dict[str, Any], resolved: dict[str, Any]) -> None:
    """Refuse a setting of ``cfg`` (as written) that ``resolved``'s method would ignore: an optional section its
    kind of method does not run with (``[timing]`` on a lockstep method), a graph for an event-driven scheme
    (its workers talk to one server), or ``steps = 0`` there (it would stop before its first update)."""
    name = resolved["algorithm"]["name"]
    cls = ALGORITHMS.entry_class(name)
    for section in COMPONENTS:
        if section.needed_by is not None and section.name in cfg and not (cls and issubclass(cls, section.needed_by)):
            raise ConfigError(
                f"[{section.name}] applies to {section.needed_by.__name__} methods (asynchronous); "
                f"'{name}' runs in lockstep and would ignore it: remove [{section.name}] (or choose "
                f"an asynchronous method)"
                + (
                    f"; a lockstep run's compute times go in [{section.replaced_by}] compute"
                    if section.replaced_by
                    else ""
                )
            )
    if not (cls and issubclass(cls, AsyncScheme)):
        return
    topology = (cfg.get("topology") or {}).get("name")
    if topology is not None and topology not in SERVER_TOPOLOGIES:
        raise ConfigError(
            f"[topology] '{topology}' would be ignored: '{name}' is asynchronous, its workers talk to "
            f'one server; use name = "server" (n = the number of workers)'
        )
    if resolved["run"]["steps"] < 1:
        raise ConfigError(
            f"[run] steps = {resolved['run']['steps']}: '{name}' is asynchronous and would stop before "
            f"its first server update; give steps ≥ 1 ([run] time stops it earlier at a simulated time)"
        )


def resolve_entry(registry: Registry[Any], name: Any, raw: dict[str, Any], section: str) -> dict[str, Any]:
    """One component section resolved: entry ``name`` of ``registry`` with ``raw`` validated (unknown keys and
    types, with suggestions) and every default filled in, as a run folder's ``config.toml`` records it."""
    return registry.resolve(name, raw, section=section)


def _needed(resolved: dict[str, Any], section: Section) -> bool:
    """Whether the (already resolved) algorithm needs the optional ``section``."""
    if section.needed_by is None:
        return False
    cls = ALGORITHMS.entry_class(resolved["algorithm"]["name"])
    return cls is not None and issubclass(cls, section.needed_by)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v) if not (isinstance(v, float) and v != v) else "nan"
    if isinstance(v, str):
        return json.dumps(v)
    if v is None:
        return '""'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise ConfigError(f"cannot write {v!r} to TOML")


def dumps_toml(cfg: dict[str, Any]) -> str:
    """Write a two-level config (sections of scalars, lists and inline tables) as TOML."""
    lines = []
    for section, body in cfg.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in body.items() if v is not None]
        lines.append("")
    return "\n".join(lines)
