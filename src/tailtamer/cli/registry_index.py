"""The registry index: what ``tailtamer list`` prints of every registry (names, summaries, parameters with
their types and defaults), as data in ``registry_index.json`` beside this module.

The registries fill up as the modules holding their entries are imported, which imports torch; ``tailtamer
list`` reads this file instead and answers without it. :func:`build_index` reads the live registries, and
``python -m tailtamer.cli.registry_index`` rewrites the file from them (after adding or changing an entry;
``tests/cli/test_cli_startup.py`` fails while the file is stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..algorithms.asynchronous import COMPENSATIONS, DELAY_RULES
from ..config import component_registries
from ..operators import TRANSFORMS
from ..registry import Param, Registry
from ..schedules import SCHEDULES
from ..timing import TIMINGS

INDEX = Path(__file__).with_name("registry_index.json")


def registries() -> dict[str, Registry[Any]]:
    """Every registry ``tailtamer list`` shows, under the name ``tailtamer list KIND`` takes, in its order."""
    return {
        **component_registries(),
        "schedule": SCHEDULES,
        "timing": TIMINGS,
        "delay": DELAY_RULES,
        "compensation": COMPENSATIONS,
        "transform": TRANSFORMS,
    }


def default_text(p: Param) -> str:
    """A parameter's default as ``list`` shows it: ``= 0.5``, or ``required``."""
    return "required" if p.required else f"= {p.default!r}"


def describe_entries(reg: Registry[Any]) -> list[dict[str, Any]]:
    """One registry's entries in name order: name, summary and parameters (name, type, default text)."""
    return [
        {
            "name": name,
            "summary": reg.summary(name),
            "params": [
                {"name": p.name, "type": p.type_name(), "default": default_text(p)} for p in reg.params(name).values()
            ],
        }
        for name in reg.names()
    ]


def build_index() -> dict[str, dict[str, Any]]:
    """The index of the live registries: ``{KIND: {"kind": registry kind, "entries": [...]}}``."""
    return {key: {"kind": reg.kind, "entries": describe_entries(reg)} for key, reg in registries().items()}


def write_index(path: Path = INDEX) -> Path:
    """Write :func:`build_index` to ``path`` (the packaged index by default)."""
    path.write_text(json.dumps(build_index(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_index()}")
