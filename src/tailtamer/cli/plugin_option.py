"""Loading the plugins a command names (``--plugin``, :mod:`tailtamer.cli.arguments.plugin`) and the installed
``tailtamer.plugins`` entry points, after parsing and before the command's work (:mod:`tailtamer.plugins`)."""

from __future__ import annotations

import argparse

from .. import plugins


def load(args: argparse.Namespace) -> None:
    """Load the entry points and the ``--plugin`` plugins of a command that has the option (else nothing)."""
    if hasattr(args, "plugin"):
        plugins.load(args.plugin)
