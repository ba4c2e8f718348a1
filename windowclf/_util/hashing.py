"""The sha256 of a file, read a block at a time; and of the inputs a command reads, as it reads them."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import io
import os
import stat

from windowclf._util.outputs import open_regular

__all__ = ["ReadLedger", "file_sha256", "open_input", "recorded_reads"]

_BLOCK = 1 << 20


def file_sha256(path) -> str:
    """The hex sha256 of the bytes of the file at ``path``; OSError as ``open`` raises it.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> file_sha256(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.remove(f.name)
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


class _HashingRaw(io.RawIOBase):
    """A file's raw bytes, each one hashed as it is read (the buffered reader above reads through it)."""

    def __init__(self, raw: io.FileIO, ledger: tuple, key: str):
        self._raw, self._ledgers, self._key = raw, ledger, key
        self._digest = hashlib.sha256()
        self._regular = stat.S_ISREG(os.fstat(raw.fileno()).st_mode)

    @property
    def name(self):
        return self._raw.name

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._raw.fileno()

    def readinto(self, b) -> int:
        n = self._raw.readinto(b)
        if n:
            self._digest.update(memoryview(b)[:n])
        return n or 0

    def close(self) -> None:
        if self.closed:
            return
        try:
            # A reader may stop before the end (a header's count, an error): the rest is hashed
            # from a copy of this descriptor when the digest is asked for, never read again by
            # name (and not at all when the command fails first, a huge file's bad first line).
            fd = self._raw.fileno()
            at_end = self._regular and os.lseek(fd, 0, os.SEEK_CUR) >= os.fstat(fd).st_size
            for ledger in self._ledgers:
                if self._key not in ledger.digests:
                    rest = None
                    if at_end:  # read whole (the common case): the digest is complete now
                        rest = _Rest(None, self._digest.copy())
                        rest.finish()
                    elif self._regular:
                        rest = _Rest(os.dup(fd), self._digest.copy())
                    ledger.digests[self._key] = rest
        finally:
            self._raw.close()
            super().close()


class _Rest:
    """What was read of a file, and a descriptor open on it where the reading stopped."""

    def __init__(self, fd: int | None, digest):
        self.fd: int | None = fd
        self.digest = digest
        self.hex: str | None = None

    def finish(self) -> str:
        if self.hex is not None:
            return self.hex
        if self.fd is not None:
            with open(self.fd, "rb", closefd=True) as f:
                self.fd = None
                while block := f.read(_BLOCK):
                    self.digest.update(block)
        elif self.digest is None:
            raise ValueError("the ledger is closed: ask for the digest of a file read in part inside recorded_reads()")
        hex_digest = self.hex = self.digest.hexdigest()
        self.digest = None
        return hex_digest

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
            self.digest = None


class ReadLedger:
    """The sha256 of every file opened with :func:`open_input` while it is active
    (:func:`recorded_reads`), from the bytes read through that open file: ``sha256(path)`` is a
    file's hex sha256, or None for what is not a regular file (a pipe holds no bytes to hash again)."""

    def __init__(self):
        self.digests: dict = {}  # absolute path -> _Rest, or None

    def sha256(self, path) -> str | None:
        """The digest of ``path`` as it was read; KeyError if it was never read while recording."""
        rest = self.digests[os.path.abspath(os.fspath(path))]
        return None if rest is None else rest.finish()

    def close(self) -> None:
        """Let go of the descriptors kept for digests never asked for."""
        for rest in self.digests.values():
            if rest is not None:
                rest.close()


_LEDGERS: contextvars.ContextVar[tuple] = contextvars.ContextVar("windowclf_read_ledgers", default=())


@contextlib.contextmanager
def recorded_reads():
    """A :class:`ReadLedger` of the files read (through :func:`open_input`) inside the block."""
    ledger = ReadLedger()
    token = _LEDGERS.set((*_LEDGERS.get(), ledger))
    try:
        yield ledger
    finally:
        _LEDGERS.reset(token)
        ledger.close()


def open_input(path, regular: str | None = None) -> io.BufferedReader:
    """Open the input file ``path`` to read in binary (as ``open(path, "rb")``, with its OSError);
    with ``regular`` (what the file must be, "a TOML settings file"), anything but a regular file
    is refused as :func:`~windowclf._util.outputs.open_regular` refuses it.

    While :func:`recorded_reads` is active the bytes are hashed as they are read, and the digest
    goes to the ledger when the file is closed: what a command records of its inputs is what it
    read, whatever happens to the file by name afterwards.
    """
    ledgers = _LEDGERS.get()
    opened = open_regular(path, regular) if regular is not None else None
    if not ledgers:
        return opened or open(path, "rb")
    raw = opened.detach() if opened is not None else io.FileIO(path, "r")
    try:
        return io.BufferedReader(_HashingRaw(raw, ledgers, os.path.abspath(os.fspath(path))))
    except BaseException:
        raw.close()
        raise
