"""The package version: the installed distribution's metadata, or ``pyproject.toml`` for a source tree that is
not installed (``PYTHONPATH=src``)."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DISTRIBUTION = "tailtamer"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def read_version() -> str:
    """The distribution's version, else ``[project] version`` of the source tree's ``pyproject.toml``."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return str(tomllib.loads(PYPROJECT.read_text())["project"]["version"])


__version__ = read_version()
