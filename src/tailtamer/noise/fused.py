"""Counter-based uniforms of several sub-streams in one compiled loop (torch.compile, inductor's C++ backend).

:func:`tailtamer.rng.uniform` evaluates the SplitMix64 finaliser as about a dozen element-wise passes over
each block (add, multiply, shift, xor, the conversion to float64, ...). :func:`uniforms` computes the same
integer arithmetic and the same exact conversion ``(⌊b / 2¹¹⌋ + ½)·2⁻⁵³`` as one compiled loop per block,
writing only the float64 uniforms: the same bits (integer arithmetic modulo 2⁶⁴ and exact float64 operations
leave the compiler no choice), about 3 ns per pair of uniforms instead of about 10 on this machine.

Only the uniforms are compiled. Compiling the Chambers–Mallows–Stuck transform too was measured and not
adopted: inductor's vectorised sin/cos/log/exp (SLEEF) differ from eager torch's in the last bits of 1–8% of
the float64 values, so the draws would change, and it was no faster (16 ns per draw fused against 11 ns for
torch's own transcendentals on the uniforms plus 3 ns for these).

When it is used. A graph is compiled per block shape ``(rows, d)`` and number of streams (``dynamic=False``),
which takes about 10 s once per process (less when inductor's on-disk cache holds it), so the compiled loop
is used only for draws of at least :data:`MIN_ENTRIES` entries and only for whole blocks (the last, partial
block of a draw takes the eager path: the same numbers). Set ``TAILTAMER_FUSED=0`` to disable it, or
``TAILTAMER_FUSED=1`` to use it for draws of any size. If compiling fails (no C++ compiler, an unsupported
platform) the eager path is used for the rest of the process and the failure is logged once.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable

import numpy as np
import torch

from .. import rng

log = logging.getLogger(__name__)

#: Draws of fewer entries (``len(nodes)·d`` of one call) take the eager path (the compile is not paid back).
MIN_ENTRIES = 1 << 22

_MASK53 = (1 << 53) - 1
_M1, _M2 = rng._signed(rng._M1), rng._signed(rng._M2)
_LOCK = threading.Lock()
_COMPILED: dict[tuple[int, int, int], Callable[..., Any]] = {}
_STATE: dict[str, Any] = {"failed": False, "compile_s": 0.0}


def _srl(y: torch.Tensor, k: int) -> torch.Tensor:
    return (y >> k) & ((1 << (64 - k)) - 1)


def _unit(y: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser of ``y`` (already multiplied by γ), then its top 53 bits as a uniform on (0, 1)."""
    y = y ^ _srl(y, 30)
    y = y * _M1
    y = y ^ _srl(y, 27)
    y = y * _M2
    y = y ^ _srl(y, 31)
    return (_srl(y, 11).to(torch.float64) + 0.5) * (2.0 ** -53)


def _uniforms(keys: torch.Tensor, cols: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """``keys``: ``[k, rows, 1]`` premultiplied node keys of k streams; ``cols``: ``[1, d]`` column terms."""
    return tuple(_unit(keys[i] + cols) for i in range(keys.shape[0]))


def enabled(entries: int) -> bool:
    """Whether a draw of ``entries`` entries uses the compiled loop (see the module docstring)."""
    flag = os.environ.get("TAILTAMER_FUSED", "")
    if flag == "0" or _STATE["failed"]:
        return False
    return flag == "1" or entries >= MIN_ENTRIES


def compile_seconds() -> float:
    """Seconds this process has spent compiling (0 if nothing was compiled)."""
    return float(_STATE["compile_s"])


def _fail(err: Exception) -> None:
    """Use the eager path for the rest of the process; log why, once."""
    if not _STATE["failed"]:
        _STATE["failed"] = True
        first = str(err).splitlines()[0] if str(err) else ""
        log.warning("tailtamer: compiled noise uniforms unavailable (%s: %s); using the eager path (same numbers)",
                    type(err).__name__, first[:200])


def _kernel(shape: tuple[int, int, int]) -> Callable[..., Any] | None:
    fn = _COMPILED.get(shape)
    if fn is not None or _STATE["failed"]:
        return fn
    t0 = time.perf_counter()
    try:
        fn = torch.compile(_uniforms, dynamic=False, fullgraph=True)
        k, rows, d = shape
        fn(torch.zeros(k, rows, 1, dtype=torch.int64), torch.zeros(1, d, dtype=torch.int64))
    except Exception as err:  # noqa: BLE001 - any compiler failure means: use the eager path
        _fail(err)
        return None
    _STATE["compile_s"] += time.perf_counter() - t0
    _COMPILED[shape] = fn
    return fn


def uniforms(seed: int, streams: list[int], nodes: torch.Tensor, step: int, d: int, call: int,
             rows: int) -> list[torch.Tensor] | None:
    """Float64 uniforms ``[len(nodes), d]`` of each stream, equal bit for bit to :func:`tailtamer.rng.uniform`,
    by the compiled loop for a block of ``rows`` rows; ``None`` when this block takes the eager path (a
    partial block, a non-CPU tensor, or no compiler)."""
    if len(nodes) != rows or nodes.device.type != "cpu":
        return None
    ids = nodes.numpy().reshape(-1)
    keys = np.stack([rng._node_keys_np(seed, s, ids, step, call) * rng._G_NP for s in streams])
    cols = np.arange(d, dtype=np.uint64) * rng._M2G_NP
    with _LOCK:           # one compile per shape; the compiled call holds the GIL anyway
        fn = _kernel((len(streams), rows, d))
        if fn is None:
            return None
        try:
            out = fn(torch.from_numpy(keys.view(np.int64))[:, :, None], torch.from_numpy(cols.view(np.int64))[None, :])
        except Exception as err:  # noqa: BLE001 - a failed recompile: the eager path from now on
            _fail(err)
            return None
    return list(out)
