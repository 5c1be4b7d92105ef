"""Torch intra-op threads chosen from the problem, not defaulted.

torch starts with one intra-op thread per core. For the small tensors of most runs (E1: 20 × 20) every op
then pays a hand-off to the other threads, and when anything else uses the machine each op waits for a busy
core: E1 fell from about 3,400 to 21–94 steps/s (issue 13). A thread pays off only when an op has enough
elements to split, and only on cores no other run is using. So:

- :func:`choose` gives one thread per :data:`ELEMENTS_PER_THREAD` entries of the node-stacked state
  (n · d, d being the model size for network problems), at least 1 and at most the cores this process may
  use divided by the runs sharing them (``sharing``: sweep workers, ``launch`` processes);
- :func:`fix` pins a count for the whole process (``--threads N``; sweep workers pin 1) and wins over the
  choice; :func:`resolve` is what the engine calls (the pinned count, else the choice).

The count never changes what a run computes in float64 for the problems and kernels whose ops stay below
torch's parallel grain (32,768 elements), which covers every shipped config; above it, reductions may split
differently across threads, so the last bits of large runs can depend on the count (as with any torch
program). The choice is a function of the problem and ``sharing`` only (not of the machine's load), so one
machine gives one count for one config.

Example:
    >>> choose(n=20, d=20, cores=8)
    1
    >>> choose(n=10_000, d=1_000, cores=8), choose(n=10_000, d=1_000, cores=8, sharing=4)
    (8, 2)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import torch

from .errors import ConfigError

#: Entries of the node-stacked state per thread (8 MiB of float64). A trade between an idle machine and a busy
#: one, since the choice cannot see the load. Measured on 2 cores (GT-NSGDm, quadratic, n = 1,000, float32;
#: steps/s with 2 threads over 1 thread, medians of 3, 2026-11-22):
#:
#: =============================  =====  =====  =====  =====  =====  =====  =====  =====
#: state entries                  2^15   2^16   2^17   2^18   2^19   2^20   2^21   2^22
#: idle machine                   1.35   1.59   1.84   2.21   1.69   2.50   2.68   2.00
#: one other busy process         0.34   0.38   0.90   0.94   0.87   0.51   0.72   0.82
#: =============================  =====  =====  =====  =====  =====  =====  =====  =====
#:
#: Two threads pay on idle cores from 2^15 entries, but a core taken by anything else costs up to 3× at
#: 2^15–2^16 (each ~30 µs op waits for the busy core) and 10–50 % above. From 2^20 the idle gain (2–2.7×)
#: outweighs that loss; below it one thread never thrashes. ``--threads 2`` is the faster choice for a
#: 2^16–2^20-entry run on a machine known to be idle (at the price of last bits that depend on the count).
ELEMENTS_PER_THREAD = 1 << 20

_fixed: int | None = None


def cores() -> int:
    """CPU cores this process may run on (its affinity mask, else ``os.cpu_count``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def choose(n: int, d: int, sharing: int = 1, cores: int | None = None) -> int:
    """Threads for a run whose state is ``n × d`` entries, with ``sharing`` runs on the machine."""
    budget = max(1, (cores if cores is not None else globals()["cores"]()) // max(1, int(sharing)))
    return int(min(budget, max(1, (int(n) * int(d)) // ELEMENTS_PER_THREAD)))


def fix(count: int | None) -> None:
    """Pin the count for this process (``None`` or 0: back to choosing)."""
    global _fixed
    if count is not None and int(count) < 0:
        raise ConfigError(f"--threads must be ≥ 0 (0: choose from the problem size), got {count}")
    _fixed = int(count) if count else None


def fixed() -> int | None:
    """The pinned count, or None."""
    return _fixed


def resolve(n: int, d: int, sharing: int = 1) -> int:
    """The pinned count, else :func:`choose`."""
    return _fixed if _fixed is not None else choose(n, d, sharing)


def apply(count: int) -> int:
    """Set torch's intra-op threads to ``count`` (only when it differs: setting is not free); returns it."""
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def for_sharing(sharing: int, size: Callable[[], tuple[int, int]]) -> int:
    """The pinned count, else :func:`choose` for one of ``sharing`` processes each hosting ``n / sharing``
    nodes of dimension d, ``(n, d) = size()`` (called only when more than one thread is possible: it may
    build the run's components; :func:`tailtamer.api.problem_size`)."""
    if _fixed is not None:
        return _fixed
    if cores() // max(1, sharing) <= 1:
        return 1
    n, d = size()
    return choose(-(-n // max(1, sharing)), d, sharing)


@contextmanager
def using(count: int) -> Iterator[None]:
    """Run the block on ``count`` intra-op threads, then restore the count (setting is skipped when it is
    already ``count``: setting is not free)."""
    before = torch.get_num_threads()
    if before == count:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def one_thread() -> AbstractContextManager[None]:
    """Run the block on one intra-op thread, then restore the count (for many small element-wise ops, such
    as noise transforms in cache-sized blocks, where a hand-off to a busy core costs a scheduler slice)."""
    return using(1)
