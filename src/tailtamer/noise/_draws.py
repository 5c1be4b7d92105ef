"""Uniform draws on numbered sub-streams of :data:`~tailtamer.noise.base.NOISE_STREAM`.

A model that needs several independent uniforms per entry takes them from sub-streams
``stream_id(NOISE_STREAM) + k`` (k = 0, 1, ...). Rejection samplers redraw only the rejected entries with
:func:`uniform_at`, which returns, for arbitrary (node, coordinate) pairs, exactly the numbers
:func:`tailtamer.rng.uniform` gives at those positions; each entry's sequence of proposals is therefore a
pure function of (seed, node, step, call, coordinate) whatever else is drawn alongside it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from .. import rng, threads
from ..threads import one_thread
from .base import NOISE_STREAM

_BASE = rng.stream_id(NOISE_STREAM)


def sub_stream(k: int) -> int:
    """The integer stream of sub-stream ``k``."""
    return _BASE + k


def uniform(seed: int, k: int, nodes: torch.Tensor, step: int, d: int, call: int = 0) -> torch.Tensor:
    """Float64 uniforms on (0, 1) of shape ``[len(nodes), d]`` from sub-stream ``k``."""
    return rng.uniform(seed, sub_stream(k), nodes, step, d, call)


def uniform_at(
    seed: int, k: int, node_ids: torch.Tensor, coords: torch.Tensor, step: int, call: int = 0
) -> torch.Tensor:
    """Float64 uniforms of sub-stream ``k`` at the pairs ``(node_ids[i], coords[i])`` (1-D, same length);
    equal entry by entry to :func:`uniform` (see :func:`tailtamer.rng.uniform_at`)."""
    return rng.uniform_at(seed, sub_stream(k), node_ids, coords, step, call)


#: Worker threads of :func:`fill_rows` (created on first use, kept for the process).
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def _pool(workers: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_SIZE
    if _POOL is None or workers != _POOL_SIZE:
        if _POOL is not None:
            _POOL.shutdown(wait=True)
        _POOL, _POOL_SIZE = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tailtamer-noise"), workers
    return _POOL


def idle_cores(own: int) -> int:
    """Cores free for this run: the cores it may use minus the 1-minute load average not due to its own
    ``own`` threads (all of them when the load is unknown)."""
    try:
        other = max(0.0, os.getloadavg()[0] - own)
    except (AttributeError, OSError):  # pragma: no cover - no load average
        return threads.cores()
    return max(1, int(threads.cores() - other + 0.5))


def spare_threads() -> int:
    """Intra-op threads a draw may use now: torch's count, capped by the idle cores (:func:`idle_cores`)."""
    own = torch.get_num_threads()
    return 1 if own <= 1 else min(own, idle_cores(own))


def fill_rows(
    nodes: torch.Tensor,
    d: int,
    dtype: torch.dtype,
    block: int,
    fill: Callable[[torch.Tensor, torch.Tensor], None],
    inner_threads: int = 1,
) -> torch.Tensor:
    """A ``[len(nodes), d]`` tensor of ``dtype`` filled block by block: ``fill(ids, rows)`` writes the draws of
    the global node ids ``ids`` into ``rows`` (a view of whole rows of the output, at most ``block`` entries,
    or one row when d is larger).

    The blocks are independent (every draw is a pure function of its own counters), so they can be filled
    in either of two ways, with the same values bit for bit:

    - ``inner_threads`` T > 1: the blocks go one after another on this thread, each ``fill`` running its ops
      on T intra-op threads. This is for fills whose work holds Python's GIL (compiled loops called from
      Python): T Python threads would take turns at the GIL; one thread with T-way ops does not.
    - otherwise, when torch is set to T > 1 intra-op threads, d ≤ ``block`` and the machine has idle cores
      (:func:`spare_threads`), up to T worker threads fill disjoint blocks, each running its element-wise ops
      on one thread (:func:`tailtamer.threads.one_thread`): one hand-off per block instead of one per op,
      which keeps cache-sized blocks and uses the cores the run was given. On a machine busy with other work
      the blocks run one after another on one thread, as before: there, two workers measured 20–30% slower
      than one (at n = 10⁴, d = 10³, with load 4–5 on 2 cores), spending 25–40% more CPU time.

    The values do not depend on the number of threads, the block size or the order the blocks finish in.
    """
    nodes = torch.as_tensor(nodes, dtype=torch.int64).reshape(-1)
    out = torch.empty(len(nodes), d, dtype=dtype, device=nodes.device)
    rows = max(1, block // max(d, 1))
    starts = range(0, len(nodes), rows)
    if inner_threads > 1:
        with threads.using(inner_threads):
            for r0 in starts:
                fill(nodes[r0 : r0 + rows], out[r0 : r0 + rows])
        return out
    workers = min(spare_threads(), len(starts)) if d <= block and nodes.device.type == "cpu" else 1
    with one_thread():
        if workers <= 1:
            for r0 in starts:
                fill(nodes[r0 : r0 + rows], out[r0 : r0 + rows])
        else:
            for done in [_pool(workers).submit(fill, nodes[r0 : r0 + rows], out[r0 : r0 + rows]) for r0 in starts]:
                done.result()
    return out


def first_accepted(ok: torch.Tensor) -> torch.Tensor:
    """Each column's first True row of ``ok`` (``[k, m]`` bool: round × entry of a rejection sampler), ``[m]``
    int64; a column with none gets k − 1 (callers keep only columns with one). The same indices as
    ``ok.to(torch.int8).argmax(0)`` on those columns, by k − 1 element-wise selections: torch's argmax over the
    first axis of a small integer tensor takes about 100 ns an entry on CPU, ten times these."""
    k, m = ok.shape
    first = torch.full((m,), k - 1, dtype=torch.int64, device=ok.device)
    for j in range(k - 2, -1, -1):
        first = torch.where(ok[j], j, first)
    return first


def uniform_at_rounds(
    seed: int, ks: range, node_ids: torch.Tensor, coords: torch.Tensor, step: int, call: int = 0
) -> torch.Tensor:
    """``[len(ks), m]`` float64: row j equals :func:`uniform_at` of sub-stream ``ks[j]`` at the m pairs, bit for bit.

    One vectorised pass for many sub-streams, so a rejection sampler can take several rounds of proposals for
    its rejected entries at once instead of one small draw per round (the per-call overhead dominated).
    The same SplitMix64 keys as :func:`tailtamer.rng.bits_at`: ``mix(mix(node·γ + key(stream)) + coord·M2)``.
    """
    if isinstance(seed, rng.RowSeeds):  # a stacked run: each row id's own node and member's seed
        decoded = [seed.decode(node_ids.numpy().reshape(-1), sub_stream(k), step, call) for k in ks]
        b = (
            np.stack([node * rng._G_NP + base for node, base in decoded])
            if decoded
            else np.empty((0, node_ids.numel()), dtype=np.uint64)
        )
    else:
        ids = node_ids.numpy().reshape(-1).astype(np.uint64)
        base = np.array([rng.base_key(seed, sub_stream(k), step, call) for k in ks], dtype=np.uint64)
        b = ids[None, :] * rng._G_NP + base[:, None]
    tmp = np.empty_like(b)
    rng._mix_np(b, tmp)
    b += coords.numpy().reshape(-1).astype(np.uint64)[None, :] * rng._M2_NP
    rng._mix_np(b, tmp)
    out = np.empty(b.shape, dtype=np.float64)
    rng._unit_np(b, out)
    return torch.from_numpy(out)
