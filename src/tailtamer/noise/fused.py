"""The α-stable sampler's element-wise arithmetic in compiled loops, around torch's own transcendentals.

The eager Chambers–Mallows–Stuck path (:meth:`AlphaStableNoise._cms <tailtamer.noise.stable.AlphaStableNoise>`)
makes about 40 element-wise passes over each cache-sized block: about 20 for the two counter-based uniform
streams of :mod:`tailtamer.rng` (SplitMix64 as add, multiply, shift, xor passes, then the conversion to
float64) and 19 for the transform, of which 7 are transcendentals (3 log, 2 cos, sin, exp). :class:`Plan` runs
the same computation as four loops compiled by inductor (torch's C++ code generator) with the
transcendentals in between still computed by eager torch:

1. both uniform streams and ``V = (U₀ − ½)·π``, ``α(V + B)``, ``V − α(V + B)`` (one loop, four outputs);
2. eager ``cos``, ``log``, ``cos``, ``sin`` in place;
3. ``|cos(V − α(V+B)) / log U₁|``; eager ``log`` (twice);
4. ``c·log|…| − log cos V / α``; eager ``exp``;
5. ``(sin(α(V+B))·S)·exp(…)`` (times the scale), rounded once to the output dtype.

The numbers are the eager path's bit for bit, in every dtype: integer arithmetic modulo 2⁶⁴, the exact
int → float64 conversion and IEEE-rounded +, −, ×, ÷, abs in the same order (inductor compiles with
``-ffp-contract=off``, so nothing is fused into an FMA) leave the compiler no freedom, and the transcendentals
are torch's own. ``tests/core/test_noise_fused.py`` checks this on small blocks; it was checked on 1.9·10⁷ draws,
all equal ((α, β) = (1.5, 0.5), (2, 0), (2, 1), (1.0001, 1), (1.2, −1), (1.9, 0.3), (1.5, 0), (1.05, 1); float64 and
float32; d = 77, 1,000, 5,000; whole and partial blocks; 2 threads). Compiling the
transcendentals too was measured and not adopted: inductor's vectorised sin/cos/log/exp (SLEEF) differ from
eager torch's in the last bits of 1–8% of float64 values, and the fully fused loop was no faster (16 ns per
draw, against 14 ns for this path, whose 7 eager transcendental passes take about 5 ns).

Threads. The compiled loops hold Python's GIL while they run, so worker threads filling blocks side by side
would take turns (two measured slower than one). With T > 1 intra-op threads and idle cores the blocks are
instead :data:`PARALLEL_BLOCK` entries, filled one after another, and the loops are compiled for T OpenMP
threads, as torch's transcendentals already run: 87 ms against 133 ms on one thread for a float32 draw at
n = 10⁴, d = 10³ on this 2-core machine, the same bits (element-wise arithmetic does not depend on the split).

When it is used. The graphs are traced for one block shape ``(rows, d)`` (and compiled once per process per
shape, thread count, output dtype and whether a scale multiplies: about 10–15 s the first time, less when inductor's
on-disk cache has them), so the compiled loops run only for draws of at least :data:`MIN_ENTRIES` entries and
only on whole blocks (the last, partial block of a draw takes the eager path: the same numbers). Set
``TAILTAMER_FUSED=0`` to disable them, or ``TAILTAMER_FUSED=1`` to use them for draws of any size. If
compiling fails (no C++ compiler, an unsupported platform), the eager path is used for the rest of the process
and the failure is logged once. Graphs are called directly (``torch._inductor.compile`` of a ``make_fx``
trace, no dynamo guards: about 10 µs per call instead of about 45).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from .. import rng
from ..threads import using

log = logging.getLogger(__name__)

#: Draws of fewer entries (``len(nodes)·d`` of one call) take the eager path (the compile is not paid back).
MIN_ENTRIES = 1 << 22

#: Entries per block when the loops run on T > 1 intra-op threads (one block after another, each loop split
#: T ways): 2 MiB of float64 per array, so each core's share of a block's arrays stays in its cache.
PARALLEL_BLOCK = 1 << 18

_M1, _M2 = rng._signed(rng._M1), rng._signed(rng._M2)
_LOCK = threading.Lock()
_COMPILED: dict[tuple[Any, ...], list[Callable[..., Any]]] = {}
_STATE: dict[str, Any] = {"failed": False, "compile_s": 0.0}


def _srl(y: torch.Tensor, k: int) -> torch.Tensor:
    return (y >> k) & ((1 << (64 - k)) - 1)


def _unit(y: torch.Tensor) -> torch.Tensor:
    """SplitMix64 finaliser of ``y`` (already multiplied by γ), then its top 53 bits as a uniform on (0, 1):
    :func:`tailtamer.rng.uniform`'s arithmetic."""
    y = y ^ _srl(y, 30)
    y = y * _M1
    y = y ^ _srl(y, 27)
    y = y * _M2
    y = y ^ _srl(y, 31)
    return (_srl(y, 11).to(torch.float64) + 0.5) * (2.0**-53)


def _angles(keys: torch.Tensor, cols: torch.Tensor, a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Loop 1: ``keys`` ``[rows, 2]`` (premultiplied node keys of the two streams), ``cols`` ``[1, d]``."""
    v = (_unit(keys[:, 0:1] + cols) - 0.5) * math.pi
    avb = (v + b) * a
    return v, avb, v - avb, _unit(keys[:, 1:2] + cols)


def _ratio(cos_x: torch.Tensor, log_u: torch.Tensor) -> tuple[torch.Tensor]:
    return (torch.abs(cos_x / log_u),)


def _exponent(
    log_ratio: torch.Tensor, log_cos_v: torch.Tensor, c: torch.Tensor, a: torch.Tensor
) -> tuple[torch.Tensor]:
    return (log_ratio * c - log_cos_v / a,)


def _product(dtype: torch.dtype, scaled: bool) -> Callable[..., tuple[torch.Tensor]]:
    def product(sin_avb: torch.Tensor, e: torch.Tensor, s: torch.Tensor, scale: torch.Tensor) -> tuple[torch.Tensor]:
        z = (sin_avb * s) * e
        return (((z * scale) if scaled else z).to(dtype),)

    return product


def enabled(entries: int) -> bool:
    """Whether a draw of ``entries`` entries uses the compiled loops (see the module docstring)."""
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
        log.warning(
            "tailtamer: compiled α-stable loops unavailable (%s: %s); using the eager path (same numbers)",
            type(err).__name__,
            first[:200],
        )


def _graphs(rows: int, d: int, dtype: torch.dtype, scaled: bool, threads: int = 1) -> list[Callable[..., Any]] | None:
    """The four compiled loops for blocks of ``[rows, d]`` on ``threads`` OpenMP threads (compiled on first
    use), or None after a failure."""
    key = (rows, d, dtype, scaled, threads)
    if key in _COMPILED or _STATE["failed"]:
        return _COMPILED.get(key)
    from torch.fx.experimental.proxy_tensor import make_fx

    def block() -> torch.Tensor:
        return torch.zeros(rows, d, dtype=torch.float64)

    def scalar() -> torch.Tensor:
        return torch.tensor(1.5, dtype=torch.float64)

    t0 = time.perf_counter()
    try:
        graphs = []
        with using(threads):  # inductor writes the thread count into the loops (1: no OpenMP region)
            for fn, args in (
                (
                    _angles,
                    [torch.zeros(rows, 2, dtype=torch.int64), torch.zeros(1, d, dtype=torch.int64), scalar(), scalar()],
                ),
                (_ratio, [block(), block()]),
                (_exponent, [block(), block(), scalar(), scalar()]),
                (_product(dtype, scaled), [block(), block(), scalar(), scalar()]),
            ):
                graphs.append(torch._inductor.compile(make_fx(fn)(*args), args))  # type: ignore[arg-type]  # list invariance; distinct example tensors
    except Exception as err:  # noqa: BLE001 - any compiler failure means: use the eager path
        _fail(err)
        return None
    _STATE["compile_s"] += time.perf_counter() - t0
    _COMPILED[key] = graphs
    return graphs


class Plan:
    """One draw's compiled blocks: the premultiplied node keys of both streams for all ``nodes`` and the
    column terms (computed once per draw, not once per block), and the model's constants.

    Args:
        streams: the integer uniform streams of V and W.
        consts: ``(α, B, S, scale)`` of the model.
        rows: rows per whole block (the compiled shape is ``[rows, d]``).
        threads: intra-op threads each loop runs on (1: blocks are filled by worker threads, one each).
    """

    def __init__(
        self,
        seed: int,
        streams: tuple[int, int],
        nodes: torch.Tensor,
        step: int,
        d: int,
        call: int,
        consts: tuple[float, float, float, float],
        rows: int,
        threads: int = 1,
    ) -> None:
        self.nodes = nodes.reshape(-1)
        ids = self.nodes.numpy()
        keys = np.stack([rng._node_keys_np(seed, k, ids, step, call) * rng._G_NP for k in streams], axis=1)
        self.keys = torch.from_numpy(keys.view(np.int64))  # [n, 2]: a block's rows are contiguous
        self.cols = torch.from_numpy((np.arange(d, dtype=np.uint64) * rng._M2G_NP).view(np.int64))[None, :]
        a, b, s, scale = consts
        self.a, self.b, self.s, self.c, self.scale = (
            torch.tensor(x, dtype=torch.float64) for x in (a, b, s, (1.0 - a) / a, scale)
        )
        self.scaled, self.rows, self.d, self.n, self.threads = scale != 1.0, rows, d, len(ids), threads

    def block(self, r0: int, ids: torch.Tensor, out: torch.Tensor) -> bool:
        """Write the draws of rows ``r0 : r0 + rows`` (node ids ``ids``, checked) into ``out`` (``[rows, d]``,
        any float dtype, CPU) exactly as the eager path would, and return True; return False (``out``
        untouched) when the block takes the eager path (a partial block, a failed compile)."""
        if (
            out.shape != (self.rows, self.d)
            or not 0 <= r0 <= self.n - self.rows
            or out.device.type != "cpu"
            or not torch.equal(ids, self.nodes[r0 : r0 + self.rows])
        ):
            return False
        with _LOCK:
            graphs = _graphs(self.rows, self.d, out.dtype, self.scaled, self.threads)
        if graphs is None:
            return False
        angles, ratio, exponent, product = graphs
        try:
            v, avb, x, u1 = angles(self.keys[r0 : r0 + self.rows], self.cols, self.a, self.b)
            x.cos_(), u1.log_(), v.cos_(), avb.sin_()  # torch's own transcendentals
            (y,) = ratio(x, u1)
            y.log_(), v.log_()
            (e,) = exponent(y, v, self.c, self.a)
            e.exp_()
            out.copy_(product(avb, e, self.s, self.scale)[0])
        except Exception as err:  # noqa: BLE001 - e.g. a platform quirk at run time: the eager path from now on
            _fail(err)
            return False
        return True
