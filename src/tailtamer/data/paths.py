"""Where data files are looked for, and the error raised when one is missing.

The data folder is, in order: the ``data_dir`` argument (a config's ``data_dir``), the environment variable
``$TAILTAMER_DATA``, or ``../shared/data`` beside the repository root (the folder that holds
``pyproject.toml``). Nothing is downloaded: files are read where they are.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from ..errors import DataError, DataNotFoundError

ENV = "TAILTAMER_DATA"

#: The layout every loader expects under the data folder (printed in error messages).
LAYOUT = """expected layout under the data folder:
  multi30k/train.en.gz  multi30k/val.en.gz  multi30k/test_2016_flickr.en.gz   (one sentence per line, gzip)
  sst2/train.tsv.gz  sst2/dev.tsv.gz                                           (label<TAB>sentence, header line, gzip)
set it with data_dir = "..." in the [problem] section, or the environment variable TAILTAMER_DATA"""


def repo_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: this file) holding ``pyproject.toml``."""
    here = (start or Path(__file__)).resolve()
    for folder in [here, *here.parents]:
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def default_data_dir() -> Path:
    """``$TAILTAMER_DATA`` if set, else ``<repo root>/../shared/data`` (else ``./data``)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    root = repo_root()
    return (root.parent / "shared" / "data") if root is not None else Path("data")


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """The data folder to read: ``data_dir`` when given (non-empty), else :func:`default_data_dir`."""
    return Path(data_dir).expanduser() if data_dir else default_data_dir()


def require_file(data_dir: str | Path | None, *parts: str) -> Path:
    """The path ``data_dir/parts...``; raises :class:`DataNotFoundError` naming it and the layout if absent.

    Example:
        >>> require_file("/nonexistent", "sst2", "dev.tsv.gz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tailtamer.errors.DataNotFoundError: data file not found: /nonexistent/sst2/dev.tsv.gz ...
    """
    path = resolve_data_dir(data_dir).joinpath(*parts)
    if not path.is_file():
        raise DataNotFoundError(
            f"data file not found: {path} (looked in data folder {resolve_data_dir(data_dir)}); {LAYOUT}"
        )
    return path


def read_gz_lines(path: Path) -> list[str]:
    """The lines of a gzip-compressed UTF-8 text file (newlines kept).

    A truncated or corrupt file, or one that is not gzip or not UTF-8, raises :class:`DataError` naming
    it, instead of a decoder's traceback.
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return f.readlines()
    except (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError) as err:
        raise DataError(
            f"data file {path} is truncated or corrupt ({type(err).__name__}: {err}); replace it with an intact copy"
        ) from None
    except OSError as err:
        raise DataError(f"cannot read data file {path}: {err.strerror or err}") from None
