"""glibc keeps freed heap memory after :func:`tailtamer.memory.keep_heap_memory` (no page faults on reuse)."""
from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import resource, sys, torch
from tailtamer.memory import keep_heap_memory
if sys.argv[1] == "keep":
    assert keep_heap_memory()
x = torch.empty(1 << 24); x.fill_(1.0); del x          # 64 MiB: touched, then freed
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
y = torch.empty(1 << 24); y.fill_(2.0)                  # the same size again
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_freed_buffers_are_reused_without_page_faults():
    """64 MiB is 16,384 pages of 4 KiB. By default glibc maps such a block and unmaps it when freed, so the
    second one faults in every page; with the heap kept (the trim threshold is a C int: a value that does
    not fit would be truncated, e.g. to 0 = trim at every free), the freed block is reused."""
    assert _faults("default") > 8000
    assert _faults("keep") < 1000
