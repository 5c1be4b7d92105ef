"""``tailtamer`` command line. Every module ``tailtamer/cli/*_cmd.py`` is a subcommand: it defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``, and is found automatically."""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from types import ModuleType

from ..errors import TailtamerError

ORDER = ("demo", "run", "list", "topology")


def commands() -> dict[str, ModuleType]:
    """Subcommand name → module, in help order (core commands first, then alphabetical)."""
    from .. import cli

    found = {}
    for info in pkgutil.iter_modules(cli.__path__):
        if info.name.endswith("_cmd"):
            module = importlib.import_module(f"{cli.__name__}.{info.name}")
            found[module.NAME] = module
    return dict(sorted(found.items(), key=lambda kv: (kv[0] not in ORDER, ORDER.index(kv[0]) if kv[0] in ORDER
                                                      else 0, kv[0])))


def parser(cmds: dict[str, ModuleType] | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tailtamer", description="Distributed optimization under heavy-tailed "
                                "gradient noise: simulate n nodes in one process, or run them for real.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in (cmds or commands()).items():
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    cmds = commands()
    args = parser(cmds).parse_args(argv)
    try:
        return cmds[args.command].main(args) or 0
    except TailtamerError as err:
        print(f"tailtamer {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ntailtamer {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
