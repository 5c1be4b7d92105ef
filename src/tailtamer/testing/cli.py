"""Running the ``tailtamer`` command line in a fresh process, for tests of what a process loads (plugins):
the registries of the test process stay as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import plugins

#: The ``src`` folder this package is imported from (first on the child's ``PYTHONPATH``).
SRC = Path(__file__).resolve().parents[2]


def run_cli(
    *argv: str, cwd: Path, path: Sequence[Path] = (), timeout: float = 600, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python -m tailtamer.cli.main ARGV`` in ``cwd``: ``PYTHONPATH`` is this package's ``src`` then ``path``,
    one thread, no plugins inherited from this process (:data:`tailtamer.plugins.ENV`), and the variables of
    ``extra``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in [SRC, *path]), "OMP_NUM_THREADS": "1"}
    env.pop(plugins.ENV, None)
    env.update(extra or {})
    return subprocess.run(
        [sys.executable, "-m", "tailtamer.cli.main", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
