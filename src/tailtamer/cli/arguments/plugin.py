"""The ``--plugin`` option (a ``PATH.py`` file or a ``MODULE`` name, repeatable) of the commands that look
components up; the plugins are loaded after parsing (:mod:`tailtamer.cli.plugin_option`), so ``--help`` loads
nothing."""

from __future__ import annotations

import argparse


def add_plugin(p: argparse.ArgumentParser) -> None:
    """Add ``--plugin`` (repeatable) to ``p``."""
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH.py|MODULE",
        help="load a plugin that registers components (repeatable; installed packages with a "
        "'tailtamer.plugins' entry point are loaded without it)",
    )
