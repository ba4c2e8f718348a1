"""How much memory an allocation may take: every size read from a header or an option is
checked here, before anything of that size is allocated.

The limit is the memory this process can still get: the system's available memory (Linux
``MemAvailable``), the cgroup's limit when the process runs in a container, and the address
space and data-segment limits set with ``ulimit -v`` / ``-d`` (``resource.setrlimit``), each
minus what is in use.

>>> format_bytes(40 * 2**30), format_bytes(1536), format_bytes(12)
('40.0 GiB', '1.5 KiB', '12 bytes')
>>> require_memory(1000, "a small array")  # fits: returns quietly
"""

from __future__ import annotations

import os

from windowclf.errors import ConfigError, InputError

__all__ = ["MemoryLimitError", "available_memory", "format_bytes", "require_memory"]

# Address space a process needs beyond its arrays (thread stacks and malloc arenas of the
# scoring threads, the interpreter's own growth); kept free under an address-space limit.
_ADDRESS_SPACE_RESERVE = 256 * 2**20


class MemoryLimitError(ConfigError):
    """An allocation (sized by settings) larger than the memory available; names both sizes."""


def format_bytes(n: int) -> str:
    """``n`` bytes in binary units, one decimal."""
    if n < 1024:
        return f"{n} bytes"
    size = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        size /= 1024
        if size < 1024 or unit == "PiB":
            return f"{size:,.1f} {unit}"
    raise AssertionError("unreachable")


def available_memory() -> int:
    """Bytes this process can still allocate (the smallest of the limits above)."""
    limits = [_meminfo_available(), _cgroup_available(), _rlimit_headroom()]
    known = [n for n in limits if n is not None]
    return max(0, min(known)) if known else 2**63


def require_memory(n_bytes: int, what: str, path=None, line: int | None = None, *, error=InputError) -> None:
    """Raise unless ``n_bytes`` (an exact Python int, so no overflow) fits in memory.

    ``what`` names the allocation: "the network (hidden 10000000, ...)" reads as
    "the network (...) would need 40.0 GiB of memory; 23.1 GiB is available". With ``path``
    (a size read from a file) the error is an ``error`` (InputError, or a subclass such as
    ModelFileError) naming the file and ``line``, else a MemoryLimitError (a ConfigError: the size
    came from settings).
    """
    n_bytes = int(n_bytes)
    if n_bytes <= 0:
        return
    free = available_memory()
    if n_bytes > free:
        message = f"{what} would need {format_bytes(n_bytes)} of memory; {format_bytes(free)} is available"
        if path is not None:
            raise error(message, path, line)
        raise MemoryLimitError(message)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    try:
        with open("/sys/fs/cgroup/memory.max", "rb") as f:
            limit = f.read().strip()
        if limit == b"max":
            return None
        with open("/sys/fs/cgroup/memory.current", "rb") as f:
            return int(limit) - int(f.read().strip())
    except (OSError, ValueError):
        return None


def _rlimit_headroom() -> int | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    headroom = None
    for limit, field in ((resource.RLIMIT_AS, b"VmSize:"), (resource.RLIMIT_DATA, b"VmData:")):
        soft = resource.getrlimit(limit)[0]
        if soft == resource.RLIM_INFINITY:
            continue
        used = _proc_status(field)
        room = soft - (used or 0) - _ADDRESS_SPACE_RESERVE
        headroom = room if headroom is None else min(headroom, room)
    return headroom


def _proc_status(field: bytes) -> int | None:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None
