"""``tailtamer list [KIND]``: every registry with its entries, parameters and defaults."""
from __future__ import annotations

import argparse
import inspect

from ..config import RunSettings, component_registries
from ..registry import Registry

NAME = "list"
HELP = "list algorithms, problems, topologies, noise models and schedules with their parameters"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", nargs="?", help="only this registry (algorithm, problem, topology, noise, schedule, timing, delay, compensation, transform)")


def _default(p) -> str:
    return "required" if p.default is inspect.Parameter.empty else repr(p.default)


def describe(reg: Registry) -> str:
    lines = [f"{reg.kind}s:"]
    for name in reg.names():
        lines.append(f"  {name:<22} {reg.summary(name)}")
        for p in reg.params(name).values():
            lines.append(f"      {p.name:<16} {p.type_name():<18} = {_default(p)}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    from ..schedules import SCHEDULES
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
    for reg in regs.values():
        print(describe(reg))
        print()
    if not args.kind or args.kind == "run":
        print("[run] settings:")
        for f in RunSettings.__dataclass_fields__.values():
            print(f"      {f.name:<16} = {f.default!r}")
    return 0
