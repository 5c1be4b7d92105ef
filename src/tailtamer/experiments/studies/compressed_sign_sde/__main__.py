"""``python -m tailtamer.experiments.studies.compressed_sign_sde [--out DIR] [--workers K]``: the same as
``tailtamer study e5``."""

from __future__ import annotations

import argparse
from pathlib import Path

from ...study import run_study
from . import STUDY


def main(argv: list[str] | None = None) -> None:
    """Run the E5 study into ``--out`` and print its report."""
    ap = argparse.ArgumentParser(description="E5, the same as `tailtamer study e5`")
    ap.add_argument("--out", default="runs/e5")
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    print(run_study(STUDY, Path(args.out), workers=args.workers))


if __name__ == "__main__":
    main()
