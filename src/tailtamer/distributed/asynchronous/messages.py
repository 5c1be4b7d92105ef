"""The messages of a real asynchronous run: fixed-size float64 tensors, one point-to-point send each.

Server → worker (``HEAD + d`` numbers): ``[kind, job, version, duration, x...]`` with ``kind`` one of
:data:`START` (compute job ``job`` on the model ``x`` read at server version ``version``; its compute time is
``duration`` timing units), :data:`CANCEL` (drop the job in flight), :data:`STOP` (the run is over) or
:data:`HEARTBEAT` (the server is alive: sent to idle workers, which wait for their turn without a job; it
asks nothing and is never answered).

Worker → server (``UP + d`` numbers): ``[job, status, result...]`` with ``status`` :data:`RESULT` (what the
scheme's ``compute`` returned), :data:`NONFINITE` (its gradient had a NaN/Inf: the server stops the run as
the simulator would at that arrival) or :data:`ABORTED` (the job was cancelled, superseded or stopped). Every START
gets exactly one reply, so the server always knows how many messages each worker still owes it.

float64 carries job indices and versions exactly (below 2**53) and float32 models without rounding.
"""

from __future__ import annotations

import torch

START, CANCEL, STOP, HEARTBEAT = 1, 2, 3, 4
RESULT, ABORTED, NONFINITE = 1, 0, 2
HEAD = 4
UP = 2


def order(
    kind: int, d: int, job: int = -1, version: int = -1, duration: float = 0.0, x: torch.Tensor | None = None
) -> torch.Tensor:
    """A server → worker message."""
    msg = torch.zeros(HEAD + d, dtype=torch.float64)
    msg[0], msg[1], msg[2], msg[3] = kind, job, version, duration
    if x is not None:
        msg[HEAD:] = x.reshape(-1)
    return msg


def reply(job: int, status: int, d: int, result: torch.Tensor | None = None) -> torch.Tensor:
    """A worker → server message."""
    msg = torch.zeros(UP + d, dtype=torch.float64)
    msg[0], msg[1] = job, status
    if result is not None:
        msg[UP:] = result.reshape(-1)
    return msg


def short(err: BaseException, limit: int = 160) -> str:
    """One line of an error message (gloo's are long)."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
