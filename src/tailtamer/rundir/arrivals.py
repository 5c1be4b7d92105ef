"""The arrival log of a real asynchronous run (``arrivals.jsonl``): written while it runs, read to replay it.

The log's format and the replay rules are described in :mod:`tailtamer.engine.events.replay`; this module is
its file side: :class:`ArrivalLog` appends one flushed line per event, :func:`read_arrivals` reads a folder's
log back, and :func:`check_replay_config` refuses a replay whose config is not the real run's.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ..config import load_toml, resolve
from ..engine.events.replay import ARRIVALS
from ..errors import ConfigError
from .atomic import storage_error
from .folder import CONFIG, read_jsonl
from .resume import config_diff

__all__ = ["ARRIVALS", "ArrivalLog", "check_replay_config", "read_arrivals"]


class ArrivalLog:
    """Appends the events of a run to ``folder/arrivals.jsonl``, one flushed line each (fresh runs only)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / ARRIVALS
        try:
            self._file: TextIO | None = open(self.path, "w")
        except OSError as err:
            raise storage_error(err, self.path, "open") from None

    def write(self, row: dict[str, Any]) -> None:
        if self._file is None:
            return
        try:
            self._file.write(json.dumps(row) + "\n")
            self._file.flush()
        except OSError as err:
            raise storage_error(err, self.path, "append to") from None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_arrivals(folder: str | Path) -> list[dict[str, Any]]:
    """The complete lines of a real run's ``arrivals.jsonl`` (a torn last line is ignored)."""
    path = Path(folder) / ARRIVALS
    if not path.is_file():
        raise ConfigError(f"{path} not found: --replay takes the run folder of a real asynchronous run "
                          f"(tailtamer launch on an asynchronous config)")
    return read_jsonl(path)


def check_replay_config(resolved: dict[str, Any], folder: str | Path) -> None:
    """The replayed config must be the real run's (``config.toml`` of ``folder``): differing keys are named."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise ConfigError(f"{path} not found: --replay takes the run folder of a real asynchronous run")
    diff = [d for d in config_diff(resolved, resolve(load_toml(path))) if not d.startswith("run.checkpoint_every")]
    if diff:
        raise ConfigError(f"--replay {folder}: the config differs from the real run's: " + "; ".join(diff))
