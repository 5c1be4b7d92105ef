"""A replay refuses a broken arrival log (issue 25, item 1): a truncated, cut, empty or garbled log, or the log of
a run that did not finish, is refused in one line that says where it ends; ``--partial-replay`` replays its
complete events and the summary records it. A complete log carries a closing record with counts and a digest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_async_real import heap_order

from helpers import one_line_error
from tailtamer.cli.main import main
from tailtamer.config import dumps_toml, resolve
from tailtamer.engine.events.replay import ARRIVALS
from tailtamer.rundir.arrivals import SealedArrivalLog, closing_record, complete_log, read_log
from tailtamer.rundir.folder import read_summary

STEPS = 24
TIMES = [1.0, 2.7, 4.1]


def config() -> dict:
    return {
        "problem": {"name": "quadratic", "dim": 5, "heterogeneity": 0.5, "hessian_spread": 0.0},
        "algorithm": {"name": "asgd", "lr": 0.05},
        "topology": {"name": "server", "n": 3},
        "noise": {"name": "student-t", "df": 1.5, "scale": 0.5},
        "timing": {"name": "fixed", "times": TIMES},
        "run": {"steps": STEPS, "eval_every": 4},
    }


@pytest.fixture
def real(tmp_path: Path) -> Path:
    """A hand-made real run folder: its config and a complete log of the heap's order."""
    folder = tmp_path / "real"
    folder.mkdir()
    (folder / "config.toml").write_text(dumps_toml(resolve(config())))
    (folder / ARRIVALS).write_bytes(complete_log(heap_order(TIMES, STEPS)))
    (tmp_path / "c.toml").write_text(dumps_toml(config()))
    return folder


def body(real: Path) -> bytes:
    """The log's event lines (without the closing record)."""
    return b"".join(line + b"\n" for line in (real / ARRIVALS).read_bytes().splitlines()[:-1])


DAMAGE = {
    # name: (what the file becomes, words of the refusal)
    "truncated": (
        lambda b: b"".join(ln + b"\n" for ln in b.splitlines()[:12]),
        "no closing record: the real run did not finish",
    ),
    "cut mid-line": (lambda b: b[: len(b) // 2 + 7], "is cut mid-line"),
    "empty": (lambda b: b"", "it is empty"),
    "garbage line": (
        lambda b: b"\n".join([*b.splitlines()[:9], b"\x00\xffgarbage", *b.splitlines()[10:]]) + b"\n",
        "line 10 is not JSON",
    ),
    "crashed run": (lambda b: b, "no closing record"),
    "edited line": (lambda b: b.replace(b'"time": 2.7', b'"time": 2.8', 1) + line_of_closing(b), "disagrees"),
}


def line_of_closing(b: bytes) -> bytes:
    """The closing record of the original lines ``b`` (so an edit after sealing is caught by the digest)."""
    return (json.dumps(closing_record([json.loads(ln) for ln in b.splitlines()])) + "\n").encode()


@pytest.mark.parametrize("name", list(DAMAGE))
def test_a_broken_log_is_refused_in_one_line_saying_where_it_ends(name, real, tmp_path, capsys):
    damage, words = DAMAGE[name]
    (real / ARRIVALS).write_bytes(damage(body(real)))
    out = tmp_path / "rep"
    line = one_line_error(capsys, main(["run", str(tmp_path / "c.toml"), "--out", str(out), "--replay", str(real)]))
    assert words in line and "--partial-replay" in line, line
    assert ("holds no complete event" if name == "empty" else "complete events (line") in line, line
    assert not out.exists()


def test_a_complete_log_replays_to_the_end(real, tmp_path):
    log = read_log(real)
    assert log.complete and len(log.rows) == STEPS and log.record() == {}
    assert (
        main(["run", str(tmp_path / "c.toml"), "--out", str(tmp_path / "rep"), "--replay", str(real), "--no-plot"]) == 0
    )
    s = read_summary(tmp_path / "rep")
    assert s["steps"] == STEPS and "replay_partial" not in s


def test_a_partial_replay_is_explicit_and_recorded_in_the_summary(real, tmp_path):
    (real / ARRIVALS).write_bytes(body(real)[: len(body(real)) // 2 + 7])  # cut mid-line
    rows = read_log(real, partial=True).rows
    assert 0 < len(rows) < STEPS
    assert (
        main(
            [
                "run",
                str(tmp_path / "c.toml"),
                "--out",
                str(tmp_path / "rep"),
                "--replay",
                str(real),
                "--partial-replay",
                "--no-plot",
            ]
        )
        == 0
    )
    s = read_summary(tmp_path / "rep")
    assert s["steps"] == len(rows)
    assert s["replay_partial"]["events"] == len(rows) and "cut mid-line" in s["replay_partial"]["defect"]


def test_partial_replay_without_replay_is_refused(tmp_path, capsys):
    (tmp_path / "c.toml").write_text(dumps_toml(config()))
    line = one_line_error(
        capsys, main(["run", str(tmp_path / "c.toml"), "--out", str(tmp_path / "o"), "--partial-replay"])
    )
    assert "--partial-replay goes with --replay" in line


def test_the_sealed_log_writes_what_the_reader_accepts(tmp_path):
    """The writer side: the lines a :class:`SealedArrivalLog` appends, then its seal, form a complete log; before
    the seal (a run that stopped) the same file is incomplete."""
    rows = heap_order(TIMES, 5)
    log = SealedArrivalLog(tmp_path)
    for r in rows:
        log.write(r)
    log.close()
    with pytest.raises(Exception, match="no closing record"):
        read_log(tmp_path)
    log.seal()
    assert read_log(tmp_path).rows == rows and (tmp_path / ARRIVALS).read_bytes() == complete_log(rows)
