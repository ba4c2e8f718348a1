"""The sha256 of a file, read a block at a time."""

from __future__ import annotations

import hashlib

__all__ = ["file_sha256"]

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
