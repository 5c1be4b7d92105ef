"""Naive per-event reference loops of the asynchronous methods (float64, plain Python bookkeeping).

Written again from async.md §1 with no tailtamer scheme, pipeline or event table: a list of in-flight jobs
(finish, worker, version, job index, model read), the earliest popped each time. Compute times come from
``duration(i, j)`` and gradients from ``grad(i, j, x, call)``, the same sources the engine uses, so the two
must agree to rounding. A worker restarts right after its own arrival (the papers' loops), so with tied
times only the per-gradient methods and Rennala match the engine (the batch rule of sync rounds and FedBuff
is not written here).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

Vec = torch.Tensor


def clip(g: Vec, gamma: float) -> Vec:
    nrm = math.sqrt(float((g * g).sum()))
    return g if nrm <= gamma else g * (gamma / nrm)


def simulate(
    method: str,
    hp: dict,
    n: int,
    x0: Vec,
    steps: int,
    duration: Callable[[int, int], float],
    grad: Callable[[int, int, Vec, int], Vec],
) -> dict:
    """Run ``method`` for ``steps`` server updates; returns x, the clock and the job counters."""
    x = x0.clone()
    k = 0
    clock = 0.0
    jobs = [0] * n
    flight: dict[int, tuple[float, int, int, Vec]] = {}  # worker -> (finish, version, job, x_read)
    dropped = cancelled = 0
    m = torch.zeros_like(x)
    buf, _bw, cnt = torch.zeros_like(x), 0.0, 0
    ms = torch.zeros_like(x)

    def start(i: int) -> None:
        j = jobs[i]
        jobs[i] += 1
        flight[i] = (clock + duration(i, j), k, j, x.clone())

    for i in range(n):
        start(i)
    while k < steps:
        i = min(flight, key=lambda w: (flight[w][0], w))
        finish, version, job, x_read = flight.pop(i)
        clock = finish
        delay = k - version
        if method == "fedbuff":
            z = x_read.clone()
            for q in range(hp["Q"]):
                z = z - hp["local_lr"] * grad(i, job, z, q)
            g = x_read - z
        else:
            g = grad(i, job, x_read, 0)
        if method in ("asgd", "delay-adaptive", "clipped", "dc", "dc-a", "ringmaster-discard", "ringmaster-stop"):
            if method == "ringmaster-discard" and delay >= hp["R"]:
                dropped += 1
                start(i)
                continue
            f = min(1.0, n / delay) if (method == "delay-adaptive" and delay > 0) else 1.0
            if method == "clipped":
                g = clip(g, hp["gamma"])
            if method == "dc":
                g = g + hp["lam"] * g * g * (x - x_read)
            if method == "dc-a":
                ms = hp["m"] * ms + (1 - hp["m"]) * g * g
                g = g + hp["lam0"] / torch.sqrt(ms + hp["eps"]) * g * g * (x - x_read)
            x = x - hp["lr"] * f * g
            k += 1
            start(i)
            if method == "ringmaster-stop":
                for w in sorted(flight):
                    if k - flight[w][1] >= hp["R"]:
                        del flight[w]
                        cancelled += 1
                        start(w)
        elif method in ("nm", "nm-agnostic"):
            if method == "nm":
                gam, alpha, R = hp["lr"], hp["alpha"], hp["R"]
            else:
                kk = max(k, 1)
                gam, alpha, R = hp["lr"] / (k + 1) ** 0.75, 1 / math.sqrt(kk), int(math.sqrt(kk))
            m = alpha * g + (1 - alpha) * m
            x = x - gam * m / (math.sqrt(float((m * m).sum())) + 1e-10)
            k += 1
            start(i)
            if R > 0:
                for w in sorted(flight):
                    if k - flight[w][1] >= R:
                        del flight[w]
                        cancelled += 1
                        start(w)
        elif method == "rennala":  # Tyurin & Richtárik 2023, Alg. 3: stale gradients ignored, no stops
            if delay > 0:
                dropped += 1
                start(i)
                continue
            buf = buf + g
            cnt += 1
            if cnt == hp["B"]:
                x = x - hp["lr"] * buf / hp["B"]
                k += 1
                buf, cnt = torch.zeros_like(x), 0
            start(i)
        elif method in ("rennala-cancel", "sync", "m-sync"):
            buf = buf + g
            cnt += 1
            need = hp["B"] if method == "rennala-cancel" else (n if method == "sync" else hp["m"])
            if cnt < need:
                if method == "rennala-cancel":
                    start(i)
                continue
            x = x - hp["lr"] * buf / need
            k += 1
            buf, cnt = torch.zeros_like(x), 0
            cancelled += len(flight)
            flight.clear()
            for w in range(n):
                start(w)
        elif method == "fedbuff":
            w_ = (1.0 + delay) ** -0.5
            buf = buf + w_ * g
            cnt += 1
            if cnt == hp["K"]:
                x = x - hp["lr"] * buf / hp["K"]
                k += 1
                buf, cnt = torch.zeros_like(x), 0
            start(i)
        else:
            raise ValueError(method)
    return {"x": x, "clock": clock, "dropped": dropped, "cancelled": cancelled, "jobs": list(jobs)}
