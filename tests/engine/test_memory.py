""":func:`tailtamer.memory.keep_heap_memory` hands glibc values it can take (mallopt's value is a C int)."""

from __future__ import annotations

import ctypes

from tailtamer import memory


class _Libc:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def mallopt(self, param: int, value) -> int:
        value = value.value if isinstance(value, ctypes.c_int) else value
        self.calls.append((param, ctypes.c_int(value).value))  # what a C int parameter receives
        return 1


def test_the_trim_threshold_reaches_glibc_as_a_large_positive_int(monkeypatch):
    """The threshold must arrive as the intended value: a Python int beyond 2³¹ − 1 is cut to its low 32 bits
    on the way (1 << 40 arrived as 0, "trim at every free": the opposite of keeping freed memory)."""
    libc = _Libc()
    monkeypatch.setattr(memory.sys, "platform", "linux")
    monkeypatch.setattr(memory.ctypes, "CDLL", lambda name: libc)
    assert memory.keep_heap_memory()
    sent = dict(libc.calls)
    assert sent[memory.M_MMAP_MAX] == 0
    assert sent[memory.M_TRIM_THRESHOLD] == memory.INT_MAX == 2**31 - 1
