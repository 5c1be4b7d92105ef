"""The one atomic writer: every whole file tailtamer writes goes through a temporary file and a rename.

A reader sees either the old file or the new one, never a part. The temporary file lives beside the target
(same file system, so the rename is atomic) and is removed when writing fails, whatever the failure; an
OS error becomes a one-line :class:`~tailtamer.errors.StorageError` naming the path (a full disk says so).

Example:
    >>> import json, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_json(folder / "a.json", {"x": 1})
    >>> json.loads((folder / "a.json").read_text()), sorted(p.name for p in folder.iterdir())
    ({'x': 1}, ['a.json'])
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import torch

from ..errors import StorageError


def storage_error(err: OSError, path: Path | str, action: str = "write") -> StorageError:
    """A one-line :class:`StorageError` for an OS error met while ``action``-ing ``path``."""
    code = getattr(err, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full (no space left on device)" if code == errno.ENOSPC else "the disk quota is exceeded"
        return StorageError(f"cannot {action} {path}: {why}; free some space or choose another --out")
    if code in (errno.EACCES, errno.EPERM):
        return StorageError(f"cannot {action} {path}: permission denied")
    if code == errno.EROFS:
        return StorageError(f"cannot {action} {path}: the file system is read-only")
    return StorageError(f"cannot {action} {path}: {err.strerror or err}")


def atomic_write(path: Path | str, write: Callable[[IO[bytes]], None], previous: Path | str | None = None) -> None:
    """Call ``write(f)`` on a temporary binary file beside ``path``, then rename it over ``path``.

    ``previous``: the file ``path`` held is first renamed to ``previous`` (a rotation: the new file is complete
    on disk before the old one is moved aside, so one of the two always holds a whole file).

    The temporary file is removed if anything fails (an exception in ``write``, a full disk, Ctrl-C);
    OS errors are raised as :class:`StorageError`.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    done = False
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
        if previous is not None:
            try:
                os.replace(path, previous)
            except FileNotFoundError:
                pass  # the first file: nothing to move aside
        os.replace(tmp, path)
        done = True
    except OSError as err:
        raise storage_error(err, path) from None
    finally:
        if not done:
            try:
                tmp.unlink()
            except OSError:
                pass


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data))


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path | str, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def atomic_save(obj: Any, path: Path | str, previous: Path | str | None = None) -> None:
    """``torch.save(obj)`` to ``path`` atomically (``previous``: see :func:`atomic_write`)."""
    atomic_write(path, lambda f: torch.save(obj, f), previous)
