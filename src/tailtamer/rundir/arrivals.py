"""A complete arrival log is recognisable: a closing record with counts and a digest, checked before a replay.

A real asynchronous run (``tailtamer launch``) appends one line per event to ``arrivals.jsonl``
(:mod:`tailtamer.engine.events.replay`). A run that finishes appends one more line, the closing record::

    {"event": "end", "events": 200, "arrivals": 198, "lost": 2, "updates": 198, "sha256": "3f2a..."}

``events`` counts the lines before it (``arrivals`` and ``lost`` by kind), ``updates`` is the server's update
count at the end and ``sha256`` the digest of the bytes of those lines. A crashed or interrupted run never
writes it, so a log without it, a log whose counts or digest disagree with its lines, a line cut in the middle,
a line that is not an event, or an empty log is refused in one line that says where the log ends — unless the
replay is asked to be partial (``--partial-replay``): then the complete events before the first defect are
replayed, and the summary records it (:meth:`ArrivalLogFile.record`).

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> log = SealedArrivalLog(folder)
    >>> log.write({"event": "arrival", "k": 0, "worker": 0, "job": 0, "version": 0, "delay": 0, "time": 1.0,
    ...            "updated": True, "dropped": False})
    >>> log.close(); log.seal()
    >>> read_log(folder).complete, len(read_log(folder).rows)
    (True, 1)
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..config import load_toml, resolve
from ..engine.events.replay import ARRIVALS
from ..errors import ConfigError, ValidationError
from .atomic import storage_error
from .folder import CONFIG
from .resume import config_diff

#: The ``event`` of the closing record.
END = "end"
#: The event kinds a log's lines may hold before the closing record.
KINDS = ("arrival", "lost")
#: What a log without its closing record means.
NO_CLOSING = (
    "it has no closing record: the real run did not finish (it crashed or was interrupted), or the file was cut"
)
#: The opt-in that replays an incomplete log (named in the refusal).
PARTIAL_FLAG = "--partial-replay"


def line_bytes(row: dict[str, Any]) -> bytes:
    """The bytes :class:`ArrivalLog` writes for ``row`` (ASCII JSON + newline)."""
    return (json.dumps(row) + "\n").encode("ascii")


def updates_after(row: dict[str, Any]) -> int:
    """The server's update count after the event ``row`` (an arrival: version + delay + updated)."""
    if row.get("event") == "lost":
        return int(row.get("updates", 0))
    return int(row.get("version", 0)) + int(row.get("delay", 0)) + int(bool(row.get("updated", False)))


def closing_record(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The closing record of a log whose lines hold ``rows`` (as :class:`ArrivalLog` wrote them)."""
    kinds = Counter(str(r.get("event")) for r in rows)
    return {
        "event": END,
        "events": len(rows),
        "arrivals": kinds["arrival"],
        "lost": kinds["lost"],
        "updates": updates_after(rows[-1]) if rows else 0,
        "sha256": hashlib.sha256(b"".join(map(line_bytes, rows))).hexdigest(),
    }


def complete_log(rows: list[dict[str, Any]]) -> bytes:
    """The bytes of a complete arrival log of ``rows``: their lines, then the closing record."""
    return b"".join(map(line_bytes, [*rows, closing_record(rows)]))


class ArrivalLog:
    """Appends the events of a run to ``folder/arrivals.jsonl``, one flushed line each (fresh runs only)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / ARRIVALS
        try:
            self._file: TextIO | None = open(self.path, "w")  # noqa: SIM115 - held open across events, closed by close()
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


class SealedArrivalLog(ArrivalLog):
    """An :class:`ArrivalLog` that keeps what it writes and :meth:`seal` s a finished run's log."""

    def __init__(self, folder: Path):
        super().__init__(folder)
        self.rows: list[dict[str, Any]] = []

    def write(self, row: dict[str, Any]) -> None:
        super().write(row)
        self.rows.append(row)

    def seal(self) -> None:
        """Append the closing record (once, after the run finished and the log was closed)."""
        try:
            with open(self.path, "ab") as f:
                f.write(line_bytes(closing_record(self.rows)))
        except OSError as err:
            raise storage_error(err, self.path, "append to") from None


@dataclass
class ArrivalLogFile:
    """What :func:`read_log` found: the event ``rows`` to replay, whether the log is ``complete``, and (when it is
    not) ``defect``, the one line saying where and why it ends."""

    path: Path
    rows: list[dict[str, Any]]
    complete: bool
    defect: str = ""

    def record(self) -> dict[str, Any]:
        """What the replay's summary records about a partial log (empty for a complete one)."""
        if self.complete:
            return {}
        last = self.rows[-1] if self.rows else {}
        return {
            "replay_partial": {
                "events": len(self.rows),
                "updates": updates_after(last) if last else 0,
                "time": last.get("time", 0.0),
                "defect": self.defect,
            }
        }


def _where(rows: list[dict[str, Any]]) -> str:
    """Where the complete events end: after how many, at which update and time."""
    if not rows:
        return "it holds no complete event"
    last = rows[-1]
    return (
        f"it ends after {len(rows)} complete events (line {len(rows)}, update {updates_after(last)}, "
        f"time {float(last.get('time', 0.0)):g})"
    )


def _parse(raw: bytes, number: int) -> dict[str, Any] | str:
    """Line ``number``'s event, or what is wrong with it."""
    try:
        row = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"line {number} is not JSON"
    if not isinstance(row, dict) or (row.get("event") not in KINDS and row.get("event") != END):
        return f"line {number} is not an event line"
    return row


def _check_closing(rows: list[dict[str, Any]], close: dict[str, Any]) -> str:
    """What disagrees between the closing record and the lines before it ('' if nothing)."""
    want = closing_record(rows)
    bad = [k for k, v in want.items() if close.get(k) != v]
    return f"its closing record disagrees with the {len(rows)} lines before it ({', '.join(bad)})" if bad else ""


def _scan(data: bytes) -> tuple[list[dict[str, Any]], str, dict[str, Any] | None]:
    """The complete event rows, the first defect ('' if none) and the closing record (None if none)."""
    rows: list[dict[str, Any]] = []
    lines = data.split(b"\n")
    torn = lines.pop()  # after the last newline: b"" unless a line is cut
    close = None
    for number, raw in enumerate(lines, start=1):
        if close is not None:
            return rows, f"line {number} follows the closing record", close
        row = _parse(raw, number)
        if isinstance(row, str):
            return rows, row, None
        if row["event"] == END:
            close = row
            continue
        rows.append(row)
    if torn:
        return rows, f"line {len(lines) + 1} is cut mid-line", close
    return rows, "", close


def read_log(folder: str | Path, partial: bool = False) -> ArrivalLogFile:
    """Read and check the arrival log of the real run in ``folder`` (see the module docstring).

    Raises :class:`~tailtamer.errors.ValidationError` (one line: what is wrong and where the log ends) unless
    the log is complete or ``partial`` is set; a missing log is a :class:`~tailtamer.errors.ConfigError`.
    """
    path = Path(folder) / ARRIVALS
    if not path.is_file():
        raise ConfigError(
            f"{path} not found: --replay takes the run folder of a real asynchronous run "
            f"(tailtamer launch on an asynchronous config)"
        )
    try:
        data = path.read_bytes()
    except OSError as err:
        raise storage_error(err, path, "read") from None
    rows, defect, close = _scan(data)
    if not defect and close is None:
        defect = "it is empty" if not data else NO_CLOSING
    elif not defect:
        defect = _check_closing(rows, close)
    if not defect:
        return ArrivalLogFile(path, rows, True)
    line = f"{defect}; {_where(rows)}"
    if not partial:
        raise ValidationError(
            f"--replay {folder}: {path.name} is incomplete: {line}. Replay only those events with {PARTIAL_FLAG}"
        )
    return ArrivalLogFile(path, rows, False, line)


def check_replay_config(resolved: dict[str, Any], folder: str | Path) -> None:
    """The replayed config must be the real run's (``config.toml`` of ``folder``): differing keys are named."""
    path = Path(folder) / CONFIG
    if not path.is_file():
        raise ConfigError(f"{path} not found: --replay takes the run folder of a real asynchronous run")
    diff = [d for d in config_diff(resolved, resolve(load_toml(path))) if not d.startswith("run.checkpoint_every")]
    if diff:
        raise ConfigError(f"--replay {folder}: the config differs from the real run's: " + "; ".join(diff))
