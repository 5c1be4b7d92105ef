"""``tailtamer`` command line: one small module per subcommand, registered in ``COMMANDS``."""
from __future__ import annotations

import argparse
import sys
from types import ModuleType

from ..errors import TailtamerError
from . import list_cmd, run_cmd, topology_cmd

#: Subcommand name → module with ``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``.
COMMANDS: dict[str, ModuleType] = {
    "run": run_cmd,
    "list": list_cmd,
    "topology": topology_cmd,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tailtamer", description="Distributed optimization under heavy-tailed "
                                "gradient noise: simulate n nodes in one process, or run them for real.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module in COMMANDS.items():
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command].main(args) or 0
    except TailtamerError as err:
        print(f"tailtamer {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ntailtamer {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
