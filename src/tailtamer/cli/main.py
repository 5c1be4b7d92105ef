"""``tailtamer`` command line. Every module ``tailtamer/cli/*_cmd.py`` is a subcommand: it defines ``NAME``,
``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``, and is found automatically."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from types import ModuleType

from ..errors import TailtamerError
from . import plugin_option

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


def _silence_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand. Errors a user can cause (bad input, OS faults: a full disk, a closed pipe, too
    little memory) end with one line on stderr and a non-zero exit code, never a traceback."""
    cmds = commands()
    args = parser(cmds).parse_args(argv)
    try:
        plugin_option.load(args)
        code = cmds[args.command].main(args) or 0
        sys.stdout.flush()                             # a closed pipe shows here, not at interpreter exit
        return code
    except TailtamerError as err:
        print(f"tailtamer {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:                            # `tailtamer list | head`: the reader stopped reading
        _silence_stdout()
        print(f"tailtamer {args.command}: output closed early (broken pipe)", file=sys.stderr)
        return 141                                     # 128 + SIGPIPE, as a shell reports a killed writer
    except KeyboardInterrupt:
        print(f"\ntailtamer {args.command}: interrupted", file=sys.stderr)
        return 130
    except MemoryError:
        print(f"tailtamer {args.command}: error: out of memory; reduce [topology] n or the problem's size",
              file=sys.stderr)
        return 2
    except OSError as err:                             # a file that cannot be read or written
        name = f" {err.filename}" if getattr(err, "filename", None) else ""
        print(f"tailtamer {args.command}: error: {err.strerror or err}{':' + name if name else ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
