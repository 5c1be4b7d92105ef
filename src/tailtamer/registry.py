"""Named registries of components (algorithms, problems, topologies, noise models, schedules).

A registry maps a name to a factory (a class or function). Its constructor signature *is* the list of
parameters a config may set: unknown keys are rejected with the closest valid name suggested, values are
checked against the annotations, and `tailtamer list` prints names, parameters and defaults from it.
Registering a class gives it its name (``cls.name``), so the name is written once.

An entry may also be a :class:`Composite`: a base factory plus named parts taken from other registries,
whose schema is the union of the base's and the parts' schemas (each part's keys with its prefix). The
TailOPT pairs are composites: ``adam-biclip`` is ``LocalUpdate`` with the inner transform ``biclip`` and the
outer transform ``outer-adam`` (keys ``outer_*``). A composite without parts is a *preset*: the base's schema
with other defaults (``dc-asgd`` is ``asgd`` with delay compensation on).

Example:
    >>> reg = Registry("widget")
    >>> @reg.register("box")
    ... def box(size: float = 1.0): return size
    >>> reg.build("box", {"size": 2})
    2.0
    >>> def pack(box: float, n: int = 1): return box * n
    >>> _ = reg.register("pack")(Composite(pack, {"box": Part(reg, "box", prefix="box_")}, {"box_size": 3.0}))
    >>> list(reg.params("pack")), reg.params("pack")["box_size"].default
    (['n', 'box_size'], 3.0)
    >>> reg.build("pack", {"n": 2})
    6.0
"""

from __future__ import annotations

import difflib
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True)
class Param:
    """One user-settable parameter of a registered factory."""

    name: str
    default: Any
    annotation: Any

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    def type_name(self) -> str:
        a = self.annotation
        if a is inspect.Parameter.empty:
            return "any"
        return getattr(a, "__name__", None) or str(a).replace("typing.", "")


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    """Check ``value`` against a simple annotation (int, float, str, bool, unions, lists, Any)."""
    if annotation is inspect.Parameter.empty or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(annotation):
            try:
                return _coerce(value, option, where)
            except ConfigError:
                continue
        raise ConfigError(f"{where}: {value!r} matches none of {annotation}")
    if annotation is type(None):
        if value is None:
            return None
        raise ConfigError(f"{where}: expected None, got {value!r}")
    if origin in (list, tuple, typing.Sequence) or annotation in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(annotation)
        inner = args[0] if args else Any
        return [_coerce(v, inner, where) for v in value]
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


@dataclass(frozen=True)
class Part:
    """A part of a :class:`Composite`: entry ``name`` of ``registry``, its keys exposed as ``prefix + key``.

    The part is built with the composite's name as ``owner`` and with ``prefix`` (when its factory accepts
    them), so that its validation messages name the keys as the config writes them.
    """

    registry: Registry[Any]
    name: str
    prefix: str = ""

    def params(self) -> dict[str, Param]:
        """The part's parameters under their exposed (prefixed) keys."""
        return {
            self.prefix + k: Param(self.prefix + k, p.default, p.annotation)
            for k, p in self.registry.params(self.name).items()
        }


@dataclass(frozen=True)
class Composite:
    """A registry entry assembled from a ``base`` factory and ``parts`` (base argument → :class:`Part`).

    Its schema is the base's parameters (its part arguments, ``name`` and the registry's context excluded)
    followed by each part's exposed keys, with ``defaults`` overriding defaults by exposed key. Building
    validates everything, builds each part from its keys, and calls ``base(**parts, ...)`` (with ``name``, the
    entry's name, when the base accepts it).
    """

    base: Callable[..., Any]
    parts: dict[str, Part]
    defaults: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, attr: str) -> Any:
        """The base's class attributes (``family``, ``requires``, ``compresses``, ...) are the composite's."""
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(self.base, attr)


def first_paragraph(doc: str) -> str:
    r"""The first paragraph of a docstring on one line (a summary that wraps is not cut mid-sentence).

    Example:
        >>> first_paragraph("Times from a CSV: one column per worker,\nrows reused.\n\nArgs: ...")
        'Times from a CSV: one column per worker, rows reused.'
    """
    return " ".join(doc.split("\n\n")[0].split())


class Registry(Generic[T]):
    """A name → factory map with validated construction.

    Args:
        kind: what the entries are ("algorithm", "problem", ...), used in messages.
        context: parameter names the *engine* supplies (e.g. ``n``, the number of nodes); they are not
            user-settable and are hidden from ``params``.
    """

    def __init__(self, kind: str, context: tuple[str, ...] = ()):
        self.kind = kind
        self.context = context
        self._entries: dict[str, Callable[..., T]] = {}
        self._summaries: dict[str, str] = {}
        self._signatures: dict[tuple[Any, tuple[str, ...]], dict[str, Param]] = {}

    def register(self, name: str, summary: str | None = None) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator registering ``factory`` under ``name``."""

        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:  # a plugin never replaces a built-in silently
                owner = getattr(self._entries[name], "__module__", None) or "?"
                raise ConfigError(
                    f"{self.kind} '{name}' is registered twice (already by {owner}): a name "
                    f"cannot be replaced; register it under another name"
                )
            if inspect.isclass(factory) and isinstance(getattr(factory, "name", None), str):
                if factory.__dict__.get("name", name) != name:
                    raise ValueError(
                        f"{factory.__name__} says its name is {factory.__dict__['name']!r}, registered as {name!r}"
                    )
                factory.name = name  # type: ignore[attr-defined]
            if isinstance(factory, Composite):
                self._check_composite(name, factory)
            self._entries[name] = factory
            self._summaries[name] = summary or first_paragraph(inspect.getdoc(factory) or "")
            return factory

        return deco

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def names(self) -> list[str]:
        return sorted(self._entries)

    def summary(self, name: str) -> str:
        return self._summaries[self._check(name)]

    def _check(self, name: str) -> str:
        if name not in self._entries:
            raise ConfigError(
                f"unknown {self.kind} '{name}'{suggest(name, self._entries)}; known: {', '.join(self.names())}"
            )
        return name

    def get(self, name: str) -> Callable[..., T]:
        return self._entries[self._check(name)]

    def entry_class(self, name: str) -> type | None:
        """The class entry ``name`` builds (a composite's base class), None for a function factory: what an
        entry *is*, for a caller that must tell kinds of entries apart (lockstep or event-driven methods)."""
        factory: Any = self.get(name)
        base = factory.base if isinstance(factory, Composite) else factory
        return base if inspect.isclass(base) else None

    def params(self, name: str) -> dict[str, Param]:
        """User-settable parameters of ``name`` with defaults and annotations."""
        factory = self.get(name)
        if isinstance(factory, Composite):
            return self._composite_params(factory)
        return self._signature_params(factory)

    def _signature_params(self, factory: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Param]:
        """The parameters of ``factory``'s signature (read once per factory: resolving its string annotations
        is most of building a small run's components, which a sweep of many runs pays per run)."""
        key = (factory, tuple(skip))
        if key not in self._signatures:
            self._signatures[key] = self._read_signature(factory, key[1])
        return dict(self._signatures[key])

    def _read_signature(self, factory: Callable[..., Any], skip: tuple[str, ...]) -> dict[str, Param]:
        target = factory.__init__ if inspect.isclass(factory) else factory
        sig = inspect.signature(target)
        try:
            hints = typing.get_type_hints(target)
        except Exception:  # pragma: no cover - unresolvable forward refs  # noqa: BLE001
            hints = {}
        out = {}
        for p in sig.parameters.values():
            if p.name in ("self",) or p.name in self.context or p.name in skip:
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            out[p.name] = Param(p.name, p.default, hints.get(p.name, p.annotation))
        return out

    def _exposed(self, c: Composite) -> list[Param]:
        """The base's parameters, then each part's under its exposed keys (a key may repeat: a clash)."""
        own = self._signature_params(c.base, skip=("name", *c.parts)).values()
        return [*own, *(p for part in c.parts.values() for p in part.params().values())]

    def _composite_params(self, c: Composite) -> dict[str, Param]:
        return {
            p.name: Param(p.name, c.defaults[p.name], p.annotation) if p.name in c.defaults else p
            for p in self._exposed(c)
        }

    def _check_composite(self, name: str, c: Composite) -> None:
        """Registration-time checks: no key exposed twice, no default for an unknown key."""
        keys = [p.name for p in self._exposed(c)]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        unknown = sorted(set(c.defaults) - set(keys))
        if twice or unknown:
            raise ValueError(f"{self.kind} '{name}': keys exposed twice {twice}, defaults for unknown keys {unknown}")

    def validate(self, name: str, params: dict[str, Any], section: str | None = None) -> dict[str, Any]:
        """Return ``params`` type-checked; raise :class:`ConfigError` on an unknown or missing key."""
        known = self.params(name)
        where = section or self.kind
        for key in params:
            if key not in known:
                raise ConfigError(
                    f"unknown key '{key}' for {self.kind} '{name}' in [{where}]"
                    f"{suggest(key, known)}; valid keys: {', '.join(known) or '(none)'}"
                )
        out = {}
        for key, p in known.items():
            if key in params:
                out[key] = _coerce(params[key], p.annotation, f"[{where}] {key}")
            elif p.required:
                raise ConfigError(f"{self.kind} '{name}' needs '{key}' in [{where}]")
        return out

    def resolve(self, name: str, params: dict[str, Any], section: str | None = None) -> dict[str, Any]:
        """Entry ``name`` with ``params`` validated (unknown keys and types, with suggestions) and every default
        filled in: ``{"name": name, ...}``, as a run folder's ``config.toml`` records a section."""
        clean = self.validate(name, params, section=section)
        defaults = {k: p.default for k, p in self.params(name).items() if not p.required}
        return {"name": name, **defaults, **clean}

    def build(self, name: str, params: dict[str, Any] | None = None, section: str | None = None, **context: Any) -> T:
        """Validate ``params`` and call the factory with them and the engine-supplied ``context``."""
        clean = self.validate(name, dict(params or {}), section)
        factory = self.get(name)
        if isinstance(factory, Composite):
            return self._build_composite(name, factory, clean, section, context)
        return self._call(factory, clean, context)

    @staticmethod
    def _call(factory: Callable[..., Any], clean: dict[str, Any], context: dict[str, Any]) -> Any:
        """``factory(**clean)`` with the entries of ``context`` that it accepts."""
        target = factory.__init__ if inspect.isclass(factory) else factory
        accepted = inspect.signature(target).parameters
        ctx = {k: v for k, v in context.items() if k in accepted}
        return factory(**ctx, **clean)

    def _build_composite(
        self, name: str, c: Composite, clean: dict[str, Any], section: str | None, context: dict[str, Any]
    ) -> T:
        values = {k: p.default for k, p in self.params(name).items() if not p.required} | clean
        built = {}
        for arg, part in c.parts.items():
            mine = {k[len(part.prefix) :]: values.pop(k) for k in part.params()}
            built[arg] = part.registry.build(part.name, mine, section, owner=name, prefix=part.prefix)
        return self._call(c.base, {**built, **values}, {**context, "name": name})
