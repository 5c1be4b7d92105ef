"""The distributed loading strategy of :func:`tailtamer.rundir.checkpoint.load_checkpoint`.

Saving is the engine's :func:`~tailtamer.rundir.checkpoint.save_checkpoint` (it gathers through
``comm.gather`` and rank 0 writes). Loading reads the file on rank 0 and broadcasts it, so the other ranks
need no shared file system; an unreadable file stops every rank with the same one-line error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import CheckpointError
from ..rundir.checkpoint import Reader, read_checkpoint


def broadcast_reader(comm: Any) -> Reader:
    """A reader for :func:`~tailtamer.rundir.checkpoint.load_checkpoint`: rank 0 reads, every rank gets it."""

    def read(path: Path) -> dict[str, Any]:
        box: tuple[str, Any] | None = None
        if comm.rank == 0:
            try:
                box = ("ok", read_checkpoint(path))
            except CheckpointError as err:
                box = ("error", str(err))
        status, value = comm.broadcast_object(box, src=0)
        if status == "error":
            raise CheckpointError(value)
        return value

    return read
