"""``tailtamer list [KIND]``: every registry with its entries, parameters and defaults, as tables (rich tables on a
terminal, markdown when piped).

The registries are read from the registry index (``registry_index.json``, written from the live registries
by :mod:`tailtamer.cli.registry_index`), so ``list`` answers without importing torch. Where the index
cannot hold the answer (``live=True``, for entries registered outside the package; or an install without
the file) the live registries are imported instead."""

from __future__ import annotations

import argparse
import importlib
import json
from importlib import resources
from typing import Any

from .. import plugins
from ..errors import ConfigError
from ..registry import suggest
from ..settings import RunSettings
from .render import print_markdown

INDEX_FILE = "registry_index.json"
#: The module building the index from the live registries (imports every component, and torch).
LIVE_INDEX = "tailtamer.cli.registry_index"

#: Headings per registry kind (the registry's own ``kind`` is singular).
PLURALS = {
    "algorithm": "algorithms",
    "problem": "problems",
    "topology": "topologies",
    "noise": "noise models",
    "schedule": "schedules",
    "compression": "compressors",
    "timing": "timing models",
    "delay": "delay rules",
    "compensation": "delay compensations",
    "transform": "transforms",
}


def plural(kind: str) -> str:
    """The heading of a registry: ``topology`` → ``topologies``, ``noise`` → ``noise models``."""
    if kind in PLURALS:
        return PLURALS[kind]
    return kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + "s"


def read_index(live: bool = False) -> dict[str, dict[str, Any]]:
    """The registry index: the packaged file, or with ``live`` (or no file) built from the live registries."""
    packaged = resources.files(__package__).joinpath(INDEX_FILE)
    if live or not packaged.is_file():
        return importlib.import_module(LIVE_INDEX).build_index()
    return json.loads(packaged.read_text(encoding="utf-8"))


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def describe(kind: str, entries: list[dict[str, Any]]) -> str:
    """A markdown table of one registry: one line per entry (with its summary), then one per parameter."""
    lines = [f"### {plural(kind)}", "", "| name | parameter | type | default | description |", "|---|---|---|---|---|"]
    for entry in entries:
        lines.append(f"| {entry['name']} | | | | {_cell(entry['summary'])} |")
        for p in entry["params"]:
            lines.append(f"| | {p['name']} | {_cell(p['type'])} | {_cell(p['default'])} | |")
    return "\n".join(lines)


def run_settings() -> str:
    lines = ["### [run] settings", "", "| setting | default |", "|---|---|"]
    lines += [f"| {f.name} | = {f.default!r} |" for f in RunSettings.__dataclass_fields__.values()]
    return "\n".join(lines)


def render(index: dict[str, dict[str, Any]], kind: str | None = None) -> str:
    """What ``tailtamer list [KIND]`` prints: every registry of ``index`` (or only ``kind``, by its name or its
    heading: ``compressors`` is ``compression``), then ``[run]``."""
    kind = {plural(reg["kind"]): key for key, reg in index.items()}.get(kind, kind) if kind else kind
    if kind and kind not in index and kind != "run":
        raise ConfigError(f"unknown registry '{kind}'{suggest(kind, list(index) + ['run'])}")
    parts = [describe(reg["kind"], reg["entries"]) for key, reg in index.items() if not kind or key == kind]
    if not kind or kind == "run":
        parts.append(run_settings())
    return "\n\n".join(parts)


def main(args: argparse.Namespace) -> int:
    print_markdown(render(read_index(live=plugins.any_loaded()), args.kind))  # a plugin's entries are live
    return 0
