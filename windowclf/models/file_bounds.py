"""What an untrusted model file declares, read before anything is allocated for it: the central
directory its zip end records declare (:func:`declared_directory`), and the shape of its JSON
metadata, how deep and how many values (:func:`json_shape`), with what reading the metadata costs
(:data:`TEXT_COPIES`, :data:`SCAN_BYTES`, :data:`JSON_VALUE_BYTES`). :class:`~windowclf.models.container.ModelFile`
checks these against its limits and the memory available."""

from __future__ import annotations

import struct

import numpy as np

__all__ = ["JSON_VALUE_BYTES", "SCAN_BYTES", "TEXT_COPIES", "declared_directory", "json_shape"]

# What the metadata costs beyond its Python objects: its bytes and their decoded text (UTF-8 text
# of N bytes is at most 4N bytes as a str, 2N for the text windowclf writes; 3 copies in all), and
# the scan below, a piece at a time.
TEXT_COPIES = 3
"""Copies of the metadata's bytes reading it takes (its bytes and their decoded text)."""
_SCAN_PIECE = 1 << 20
SCAN_BYTES = 16 * _SCAN_PIECE
"""The most memory :func:`json_shape` takes beyond the text."""


# The most one JSON value costs as a Python object: a dict of a few keys is 184 to 272 bytes, a
# list 56 and 8 a member, a short str 50, an int 28, a float 24; with the pointer that holds it.
JSON_VALUE_BYTES = 280
"""The most one JSON value costs as a Python object, in bytes."""


_NOT_STRUCTURE = bytes(set(range(256)) - set(b'"[]{},:'))


def json_shape(raw: bytes) -> tuple:
    """(deepest nesting of [ and {, how many values at most) of JSON text, strings skipped (upper
    bounds for bad JSON).

    First the text is cut down, at C speed, to its quotes, brackets and separators: escaped
    backslashes and escaped quotes go, then every other character, so that what is left of a string
    is a pair of quotes around brackets and separators. That skeleton is scanned a piece at a time,
    so that the scan's memory stays small whatever the text.

    >>> json_shape(b'{"a": [1, 2, {"b": "x]"}]}')
    (3, 8)
    >>> json_shape(b'{"a": ["[[\\\\", "\\"]"], "b": [[1]]}')[0]
    3
    """
    bare = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    depth = deepest = values = 0
    inside = False  # within a string where the last piece ended
    for start in range(0, len(bare), _SCAN_PIECE):
        piece = np.frombuffer(bare, dtype=np.uint8, count=min(_SCAN_PIECE, len(bare) - start), offset=start)
        quote = piece == ord('"')
        # from an opening quote to its closing one, both included
        in_string = ((np.cumsum(quote, dtype=np.int64) + inside) & 1).astype(bool) | quote
        inside = bool((int(np.count_nonzero(quote)) + inside) & 1)
        steps = np.isin(piece, _OPENS).astype(np.int32) - np.isin(piece, _CLOSES)
        steps[in_string] = 0
        levels = np.cumsum(steps, dtype=np.int64) + depth
        deepest = max(deepest, int(levels.max()))
        depth = int(levels[-1])
        values += int(np.count_nonzero(np.isin(piece, _SEPARATORS) & ~in_string))
    return deepest, values + 1


_OPENS = np.frombuffer(b"[{", dtype=np.uint8)


_CLOSES = np.frombuffer(b"]}", dtype=np.uint8)


_SEPARATORS = np.frombuffer(b",:[{", dtype=np.uint8)  # a value follows each, and one stands alone


# The zip format's end records (APPNOTE.TXT 4.3.14 to 4.3.16): what they say of the central
# directory is read before zipfile reads the directory itself, so a file that declares millions of
# entries is refused before anything is allocated for them.
_END = struct.Struct("<4s4H2LH")  # end of central directory record


_END_SIGNATURE = b"PK\x05\x06"


_ZIP64_LOCATOR = struct.Struct("<4sLQL")


_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"


_ZIP64_END = struct.Struct("<4sQ2H2L4Q")


_ZIP64_END_SIGNATURE = b"PK\x06\x06"


_MAX_COMMENT = (1 << 16) - 1


def declared_directory(file) -> tuple | None:
    """(entries, bytes) the zip's end records declare for its central directory, or None where no
    end record is found (then zipfile says what is wrong)."""
    file.seek(0, 2)
    size = file.tell()
    tail_start = max(0, size - _END.size - _MAX_COMMENT)
    file.seek(tail_start)
    tail = file.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END.size:
        return None
    _, _, _, _, entries, directory_bytes, _, _ = _END.unpack_from(tail, at)
    locator_at = tail_start + at - _ZIP64_LOCATOR.size
    if locator_at >= 0:
        file.seek(locator_at)
        locator = file.read(_ZIP64_LOCATOR.size)
        if len(locator) == _ZIP64_LOCATOR.size and locator.startswith(_ZIP64_LOCATOR_SIGNATURE):
            file.seek(_ZIP64_LOCATOR.unpack(locator)[2])
            record = file.read(_ZIP64_END.size)
            if len(record) == _ZIP64_END.size and record.startswith(_ZIP64_END_SIGNATURE):
                fields = _ZIP64_END.unpack(record)
                entries, directory_bytes = fields[7], fields[8]
    file.seek(0)
    return entries, directory_bytes
