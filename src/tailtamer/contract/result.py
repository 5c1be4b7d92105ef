"""One property of a component's contract, and running a table of them: PASS, FAIL or SKIP with a reason.

A property is a function of the component's subject that returns a short detail when it holds, raises
:class:`Skip` when it does not apply, and raises anything else (an ``AssertionError`` with the reason, or the
component's own error) when it is broken: the failure is kept as one line, never a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: A property: subject → detail (str) when it holds.
Property = Callable[[Any], str]


class Skip(Exception):
    """The property does not apply to this component (the message says why)."""


@dataclass(frozen=True)
class Result:
    """The outcome of one property: ``status`` is ``"PASS"``, ``"FAIL"`` or ``"SKIP"``."""

    name: str
    status: str
    reason: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.status != "FAIL"

    def line(self) -> str:
        """``PASS  name  reason  (0.12 s)``: what ``tailtamer check`` prints."""
        return f"{self.status:4}  {self.name:<24}  {self.reason}  ({self.seconds:.2f} s)"


def one_line(err: BaseException) -> str:
    """``Type: message`` on one line (an assertion's message alone)."""
    text = " ".join(str(err).split())
    if isinstance(err, AssertionError):
        return text or "assertion failed"
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def run_properties(table: dict[str, Property], subject: Any, only: tuple[str, ...] | None = None) -> list[Result]:
    """Every property of ``table`` (or those named in ``only``) on ``subject``, in table order."""
    out = []
    for name, prop in table.items():
        if only is not None and name not in only:
            continue
        t0 = time.perf_counter()
        try:
            status, reason = "PASS", prop(subject)
        except Skip as why:
            status, reason = "SKIP", str(why)
        except Exception as err:  # noqa: BLE001 - a broken property of third-party code is a result
            status, reason = "FAIL", one_line(err)
        out.append(Result(name, status, reason, time.perf_counter() - t0))
    return out
