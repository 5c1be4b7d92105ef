"""The ``--plugin PATH.py|MODULE`` option (repeatable) of the commands that look components up, and its loading.

:func:`add` puts the option on a parser (no torch import: argument specs stay light); :func:`load` loads the
installed ``tailtamer.plugins`` entry points and the named plugins before the command's work, after parsing,
so ``--help`` loads nothing (:mod:`tailtamer.plugins`).
"""

from __future__ import annotations

import argparse

from .. import plugins


def add(p: argparse.ArgumentParser) -> None:
    """Add ``--plugin`` (repeatable) to ``p``."""
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH.py|MODULE",
        help="load a plugin that registers components (repeatable; installed packages with a "
        "'tailtamer.plugins' entry point are loaded without it)",
    )


def load(args: argparse.Namespace) -> None:
    """Load the entry points and the ``--plugin`` plugins of a command that has the option (else nothing)."""
    if hasattr(args, "plugin"):
        plugins.load(args.plugin)
