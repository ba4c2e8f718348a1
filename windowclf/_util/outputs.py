"""The files a command may write, and the inputs that must be regular files.

:func:`check_output` is the one guard every writing command passes its output paths through
before it reads or computes anything: it refuses a path that is one of the command's inputs
(the same file by device and inode, so through symbolic and hard links too), a directory,
or anything but a regular file or a new name (a FIFO, a character device such as
``/dev/null``, a socket). Missing parent directories are fine: the atomic writer creates them.

:func:`open_regular` opens an input that must be a regular file (a model file is a zip,
read by seeking) without blocking on a FIFO and without reading a device.

>>> import os, tempfile
>>> with tempfile.TemporaryDirectory() as where:
...     train = os.path.join(where, "train.conll")
...     open(train, "w").close()
...     print(check_output(os.path.join(where, "runs", "ner.npz"), {"TRAIN": train}).name)
...     try:
...         check_output(train, {"TRAIN": train})
...     except InputError as err:
...         print(err.message)
ner.npz
is the input TRAIN; writing the output there would destroy it
>>> check_output("/dev/null")
Traceback (most recent call last):
...
windowclf.errors.InputError: /dev/null: is a character device; expected a regular file or a new file name to write
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from windowclf.errors import InputError

__all__ = ["check_output", "file_kind", "open_regular"]


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words: "a directory", "a FIFO (named pipe)", ..."""
    for test, name in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def check_output(path, inputs=None) -> Path:
    """The path to write for the output ``path``, or InputError saying why not.

    Parameters
    ----------
    path : str or os.PathLike
        The output as the user gave it; every message names it so.
    inputs : dict of str to path, optional
        The command's inputs, by the name the user knows them by (``"TRAIN"``, ``"--dev"``);
        None values are skipped, and so are inputs that do not exist (their reader says so).

    Returns
    -------
    Path
        Where to write: ``path`` itself, or for a symbolic link the file it points to (the
        link stays a link).
    """
    name = os.fspath(path)
    if not name:
        raise InputError("empty output file name")
    try:
        st = os.stat(name)
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        raise InputError("a parent of this path is a file, not a directory", name) from None
    except OSError as err:
        raise InputError(f"cannot check the output ({err.strerror})", name) from None
    _check_directory(name)
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"is {file_kind(st.st_mode)}; expected a regular file or a new file name to write", name)
        for label, source in (inputs or {}).items():
            if source is not None and _same_file(st, source):
                raise InputError(f"is the input {label}; writing the output there would destroy it", name)
    return Path(os.path.realpath(name)) if os.path.islink(name) else Path(name)


def _same_file(st: os.stat_result, source) -> bool:
    try:
        other = os.stat(source)
    except (OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (other.st_dev, other.st_ino)


def _check_directory(name: str) -> None:
    """The output's directory must exist or be creatable, and be writable (the atomic writer puts
    a temporary file beside the output): its nearest existing ancestor a writable directory."""
    parent = os.path.dirname(os.path.realpath(name))
    while True:
        try:
            st = os.stat(parent)
        except FileNotFoundError:
            up = os.path.dirname(parent)
            if up == parent:
                return
            parent = up
            continue
        except OSError as err:
            raise InputError(f"cannot check the output's directory ({err.strerror})", name) from None
        if not stat.S_ISDIR(st.st_mode):
            raise InputError(f"cannot create the file: {parent} is {file_kind(st.st_mode)}, not a directory", name)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"cannot write in {parent} (permission denied or a read-only file system)", name)
        return


def open_regular(path, what: str):
    """Open ``path`` for reading in binary, refusing anything but a regular file.

    A FIFO is opened without blocking (then refused), a device is never read. Raises
    InputError naming ``path`` and ``what`` was expected (e.g. "a model file (.npz)"), or the
    OSError of a missing or unreadable file.
    """
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(name, flags)
    except OSError as err:
        if err.errno in (errno.ENXIO, errno.EOPNOTSUPP):  # a socket, a FIFO on some systems
            raise InputError(f"not a regular file; expected {what}", name) from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(f"is {file_kind(mode)}; expected {what}", name)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
