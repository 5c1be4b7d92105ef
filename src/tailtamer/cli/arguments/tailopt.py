"""``tailtamer tailopt [--models]``: the options of ``tailtamer study tailopt --tune``'s alias."""

from __future__ import annotations

import argparse

from .study import add_alias_arguments


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_alias_arguments(p, "tailopt", workers=1)
    p.add_argument("--models", action="store_true", help="also run the sst2 and gpt-multi30k tasks (small budget)")
