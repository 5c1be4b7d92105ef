"""Keep freed large buffers in the process heap (glibc only; opt-in).

Simulating n nodes allocates fresh ``[n, d]`` tensors every step (the algorithms are functional: state in,
new state out). For models, ``n·d`` floats are tens of megabytes, above glibc's mmap threshold, so every
such tensor is a fresh ``mmap`` whose pages fault in on first touch and is unmapped when freed. On CPU this
page-fault traffic measured ≈ 0.8 s per GT-NSGDm step of 8 GPT nodes (2.95M parameters each), about as much
as the forward/backward passes. :func:`keep_heap_memory` makes glibc serve large blocks from the heap and
keep freed memory for reuse (``mallopt(M_MMAP_MAX, 0)``, a large ``M_TRIM_THRESHOLD``) — the same as the
environment variables ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=<large>``. It changes the allocator of the
whole process, so it is opt-in: ``tailtamer run`` (whose process is one simulation), every sweep worker of the
local process pool (:func:`tailtamer.experiments.executors._start_worker`: a setting of each process, which the
process starting the pool cannot make for its workers), the E2 study's own process and the benchmarks call it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
INT_MAX = (1 << 31) - 1


def keep_heap_memory() -> bool:
    """Apply the glibc settings above; returns False (doing nothing) where glibc's ``mallopt`` is absent."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    # mallopt's value is a C int: 2³¹ − 1 (2 GiB of free heap before trimming) is the largest. (A larger Python
    # int would be truncated to its low 32 bits by ctypes: 1 << 40 became 0, "trim at every free", the opposite.)
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, ctypes.c_int(INT_MAX)))
