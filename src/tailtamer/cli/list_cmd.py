"""``tailtamer list [KIND]``: every registry with its entries, parameters and defaults, as tables (rich tables on a
terminal, markdown when piped)."""
from __future__ import annotations

import argparse
import inspect

from ..config import RunSettings, component_registries
from ..registry import Registry

NAME = "list"
HELP = "list algorithms, problems, topologies, noise models and schedules with their parameters"

#: Headings per registry kind (the registry's own ``kind`` is singular).
PLURALS = {"algorithm": "algorithms", "problem": "problems", "topology": "topologies", "noise": "noise models",
           "schedule": "schedules", "compression": "compressors", "timing": "timing models", "delay": "delay rules",
           "compensation": "delay compensations", "transform": "transforms"}


def plural(kind: str) -> str:
    """The heading of a registry: ``topology`` → ``topologies``, ``noise`` → ``noise models``."""
    if kind in PLURALS:
        return PLURALS[kind]
    return kind[:-1] + "ies" if kind.endswith("y") and kind[-2:-1] not in "aeiou" else kind + "s"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", help="only this registry (algorithm, problem, topology, noise, compression, "
                   "timing, schedule, delay, "
                   "compensation, transform)")


def _default(p) -> str:
    return "required" if p.default is inspect.Parameter.empty else f"= {p.default!r}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def describe(reg: Registry) -> str:
    """A markdown table of one registry: one line per entry (with its summary), then one per parameter."""
    lines = [f"### {plural(reg.kind)}", "", "| name | parameter | type | default | description |",
             "|---|---|---|---|---|"]
    for name in reg.names():
        lines.append(f"| {name} | | | | {_cell(reg.summary(name))} |")
        for p in reg.params(name).values():
            lines.append(f"| | {p.name} | {_cell(p.type_name())} | {_cell(_default(p))} | |")
    return "\n".join(lines)


def run_settings() -> str:
    lines = ["### [run] settings", "", "| setting | default |", "|---|---|"]
    lines += [f"| {f.name} | = {f.default!r} |" for f in RunSettings.__dataclass_fields__.values()]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from ..schedules import SCHEDULES
    from .render import print_markdown
    from ..algorithms.asynchronous import COMPENSATIONS, DELAY_RULES
    from ..operators import TRANSFORMS
    from ..timing import TIMINGS

    regs = {**component_registries(), "schedule": SCHEDULES, "timing": TIMINGS, "delay": DELAY_RULES,
            "compensation": COMPENSATIONS, "transform": TRANSFORMS}
    if args.kind:
        from ..errors import ConfigError
        from ..registry import suggest

        if args.kind not in regs and args.kind != "run":
            raise ConfigError(f"unknown registry '{args.kind}'{suggest(args.kind, list(regs) + ['run'])}")
        regs = {k: v for k, v in regs.items() if k == args.kind}
    parts = [describe(reg) for reg in regs.values()]
    if not args.kind or args.kind == "run":
        parts.append(run_settings())
    print_markdown("\n\n".join(parts))
    return 0
