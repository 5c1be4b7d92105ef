"""Refuse a run too big for this machine's memory, from its config, before anything large is allocated.

The estimate counts what grows with the number of nodes n and the dimension d:

* the mixing matrix: the bytes the topology really stores, known before it is built
  (:func:`tailtamer.topology.storage.stored_bytes`: a dense ``[n, n]`` float64 array up to 4,096 nodes, CSR
  above for the sparse graphs, nothing for a graph-free run), counted twice for the copy that building and
  checking make, once per process that builds it;
* the algorithm state: its buffers are found by running the run's own (already built) ``algorithm.init`` on a
  ``[n, d]`` tensor of the ``meta`` device (shapes only, nothing allocated), in ``[run] dtype``;
* one step: the new state is built while the old one is alive (counted twice), plus a gradient and a noise
  draw ``[n, d]``.

It is a lower bound (problem data, models and the allocator come on top), so a refused run would not have
fitted. Set ``TAILTAMER_SKIP_MEMORY_CHECK=1`` to skip the check.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

from ..algorithms.asynchronous.base import AsyncScheme
from ..algorithms.base import Algorithm
from ..errors import ResourceError
from ..topology.storage import stored_bytes
from ..validation import check_device

SKIP_ENV = "TAILTAMER_SKIP_MEMORY_CHECK"

#: States of at most this many ``[n, d]`` entries are measured on real CPU tensors (a few hundred KB); larger
#: ones on the ``meta`` device, which allocates nothing but costs about 0.3 s the first time in a process (torch's
#: meta kernels import sympy), a cost a small run or each sweep worker would otherwise pay once.
REAL_ENTRIES = 1 << 15
GIB = 1024**3


@dataclass
class Footprint:
    """Bytes a run needs (host memory for W; the device of ``[run] device`` for the state)."""

    n: int
    d: int | None
    dtype: str
    buffers: int
    matrix: int
    state: int
    step: int

    @property
    def total(self) -> int:
        return self.matrix + self.state + self.step

    def describe(self) -> str:
        parts = [f"mixing matrix {self.matrix / GIB:,.1f} GiB (n = {self.n:,})"]
        if self.d is not None:
            parts.append(
                f"state {self.state / GIB:,.1f} GiB ({self.buffers} buffer(s) of [{self.n:,}, {self.d:,}] "
                f"{self.dtype}) and {self.step / GIB:,.1f} GiB more during a step"
            )
        return "; ".join(parts)


def state_bytes(algorithm: Algorithm | AsyncScheme, dtype_name: str, n: int, d: int) -> tuple[int, int]:
    """``(bytes, buffers)`` of ``algorithm``'s state for n nodes of dimension d, measured by running its ``init``
    on a real CPU tensor (small states, :data:`REAL_ENTRIES`) or on the ``meta`` device (nothing allocated)."""
    dtype = getattr(torch, dtype_name)
    item = torch.tensor([], dtype=dtype).element_size()
    try:
        comm = SimpleNamespace(
            n=n, n_local=n, nodes=torch.arange(0), mix=lambda z: z, mean=lambda z: z[:1], gather=lambda z: z
        )
        device = "cpu" if n * d <= REAL_ENTRIES else "meta"
        state = algorithm.init(torch.zeros((n, d), dtype=dtype, device=device), comm)
        return sum(v.numel() * v.element_size() for v in state.values()), len(state)
    except Exception:  # an init the meta device cannot run: assume four [n, d] buffers  # noqa: BLE001
        return 4 * n * d * item, 4


def matrix_bytes(resolved: dict[str, Any], processes: int = 1) -> int:
    """What the mixing matrix costs: the topology's stored bytes, twice, in each of ``processes``."""
    topo = resolved["topology"]
    params = {k: v for k, v in topo.items() if k not in ("name", "n")}
    return 2 * stored_bytes(topo["name"], int(topo["n"]), params) * max(processes, 1)


def estimate(
    resolved: dict[str, Any],
    algorithm: Algorithm | AsyncScheme,
    dim: int | None = None,
    processes: int = 1,
    graph: bool = True,
) -> Footprint:
    """The :class:`Footprint` of a resolved config run by the built ``algorithm``; ``dim`` defaults to the
    problem's ``dim`` key (if any); ``processes`` hosting the n nodes on this machine each build W; ``graph``:
    whether the run builds W at all (a method that never gossips does not)."""
    n = int(resolved["topology"]["n"])
    d = dim if dim is not None else resolved["problem"].get("dim")
    d = int(d) if isinstance(d, int) and not isinstance(d, bool) else None
    matrix = matrix_bytes(resolved, processes) if graph else 0
    state, buffers, step = 0, 0, 0
    if d is not None and n > 0:
        state, buffers = state_bytes(algorithm, resolved["run"]["dtype"], n, d)
        item = torch.tensor([], dtype=getattr(torch, resolved["run"]["dtype"])).element_size()
        step = state + 2 * n * d * item
    return Footprint(n, d, resolved["run"]["dtype"], buffers, matrix, state, step)


def available_bytes() -> int | None:
    """Memory this process may still use: ``MemAvailable``, capped by a cgroup limit; None if unknown."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except OSError:
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
            avail = min(avail, int(limit) - used)
    except (OSError, ValueError):
        pass
    return avail


def device_bytes(device: str) -> int | None:
    """Free memory of a CUDA device (None for the CPU, whose state lives in host memory)."""
    dev = torch.device(device)
    if dev.type != "cuda" or not torch.cuda.is_available():
        return None
    free, _ = torch.cuda.mem_get_info(dev)
    return int(free)


def check_memory(
    resolved: dict[str, Any],
    algorithm: Algorithm | AsyncScheme,
    dim: int | None = None,
    processes: int = 1,
    graph: bool = True,
) -> Footprint:
    """Raise :class:`ResourceError` with the estimate when the run cannot fit; return the footprint."""
    check_device(resolved["run"]["device"])
    fp = estimate(resolved, algorithm, dim, processes, graph)
    if os.environ.get(SKIP_ENV):
        return fp
    host = available_bytes()
    gpu = device_bytes(resolved["run"]["device"])
    need_host = fp.matrix + (0 if gpu is not None else fp.state + fp.step)
    if host is not None and need_host > host:
        raise ResourceError(
            f"this run needs at least {need_host / GIB:,.1f} GiB of memory ({fp.describe()}) but "
            f"{host / GIB:,.1f} GiB is available; reduce [topology] n or the dimension "
            f"(set {SKIP_ENV}=1 to try anyway)"
        )
    if gpu is not None and fp.state + fp.step > gpu:
        raise ResourceError(
            f"this run needs at least {(fp.state + fp.step) / GIB:,.1f} GiB on "
            f"{resolved['run']['device']} ({fp.describe()}) but {gpu / GIB:,.1f} GiB is free; "
            f"reduce [topology] n or the dimension (set {SKIP_ENV}=1 to try anyway)"
        )
    return fp
