"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

Missing parent directories are created; an error names the target, never the temporary file.

An interruption at any point (an exception, Ctrl-C, SIGKILL) leaves the previous file, if any,
untouched; at worst a hidden ``.NAME.*.tmp`` file stays behind after a SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_writer"]


@contextlib.contextmanager
def atomic_writer(path, mode: str = "w", **open_kwargs):
    """Open a temporary file beside ``path``; on success it replaces ``path`` atomically.

    On an exception the temporary file is removed and ``path`` is left untouched.
    The new file gets the permissions an ordinary ``open(path, "w")`` would give.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise _named(err, path) from None
    try:
        with open(fd, mode, **open_kwargs) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp_name, 0o666 & ~_umask())
        os.replace(tmp_name, path)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(err, OSError) and err.filename in (None, tmp_name):
            raise _named(err, path) from None
        raise


def _named(err: OSError, path: Path) -> OSError:
    """The error with the user's path in it, never the temporary file's name."""
    return err if err.errno is None else type(err)(err.errno, err.strerror, os.fspath(path))


def _umask() -> int:
    # The only portable way to read the umask is to set it and put it back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
