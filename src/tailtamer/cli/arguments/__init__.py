"""The argument spec of each subcommand: one module per command with ``add_arguments(parser)``.

These modules import only ``argparse`` and the standard library, so ``tailtamer --help`` and
``tailtamer COMMAND --help`` answer without loading torch; the module doing a command's work is imported
by :mod:`tailtamer.cli.main` only when that command runs."""
