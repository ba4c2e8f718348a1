"""Memory given back to the system as soon as it is freed (glibc's allocator), so that a long tagging
run's peak is what it holds at once, not what it once held.

glibc serves blocks above its mmap threshold (128 KiB) from their own mappings, returned when
freed, but it raises the threshold each time such a block is freed (up to 32 MiB): after the first
few-megabyte arrays of a batch are freed, the next ones come from the heap, where fragmentation keeps
the memory of every batch before. Fixing the threshold (``mallopt``, as ``MALLOC_MMAP_THRESHOLD_``
does) keeps them in their own mappings; tagging's arrays are few and large, so it costs nothing
measurable. A no-op where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

__all__ = ["return_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 << 10  # glibc's own starting value
_done = False


def return_freed_memory() -> bool:
    """Fix glibc's mmap and trim thresholds for this process (and the processes it forks from here
    on); whether it could (False where the C library is not glibc)."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, _THRESHOLD))
    return _done
