"""A file's segments: the pieces, cut at blank lines about every megabyte, that tagging batches within.

``windowclf predict`` tags a file segment by segment, its batches of sentences starting afresh at
each segment, so that a segment's output depends on its own bytes only: tagged on one machine or
on many, one after another or in any grouping, the segments give the same bytes. (Batches must not
straddle a cut: BLAS may round a row of a product differently for another number of rows.)

A cut is the end of the first blank line (a line of spaces, TABs and CRs only, ended by ``\\n``)
that ends at least ``spacing`` bytes after the segment's start; it is found from the bytes alone,
so a file's cuts are the same whether it is scanned ahead (:func:`plan`) or read as a stream
(:class:`Stream`). A blank line ends a CoNLL sentence and a paragraph of raw text, and no
sentence or token crosses a paragraph, so the cuts change no sentence. JSON lines are cut at
the end of the first line (any line: a record is a line) that ends at least ``spacing`` bytes
after the segment's start (``lines=True``). Files in encodings whose bytes do not show their line
ends (UTF-16, stateful codes) are one segment.

>>> _Cutter(8).feed(b"one two three\\n\\nfour\\n \\nfive\\n\\nsix\\n")
[15, 28]
>>> _Cutter(8, lines=True).feed(b'{"a": 1}\\n{"b": 2}\\n{"c": 3}\\n')
[9, 18, 27]
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
from typing import NamedTuple

__all__ = ["SEGMENT_BYTES", "Segment", "Stream", "cuttable", "open_segment", "plan"]

SEGMENT_BYTES = 1 << 20
"""Bytes a segment holds at least (but the last). Part of what ``predict`` writes: keep it fixed."""

_READ_BYTES = 1 << 20
_NON_BLANK = re.compile(rb"[^ \t\r]")
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
# UTF-8 continuation bytes: every other byte starts a character.
_CONTINUATION = bytes(range(0x80, 0xC0))
_STATEFUL = {"utf-7", "hz"}


class Segment(NamedTuple):
    """Bytes ``start`` to ``stop`` of a file, its first line's number and the characters before it.

    ``char`` counts the decoded text's characters before ``start`` (a UTF-8 byte-order mark is not
    text), so that raw text's offsets index the whole file.
    """

    start: int
    stop: int
    line: int
    char: int


def cuttable(encoding: str) -> bool:
    """Whether files in ``encoding`` can be cut at ``\\n`` bytes and their characters counted.

    UTF-8, and the codes of one byte a character in which the ASCII blanks are themselves.

    >>> cuttable("utf-8"), cuttable("latin-1"), cuttable("utf-16"), cuttable("iso2022_jp"), cuttable("cp500")
    (True, True, False, False, False)
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name in ("utf-8", "utf-8-sig"):
        return True
    if name.startswith("iso2022") or name in _STATEFUL:
        return False  # escape sequences switch what the following bytes mean
    try:
        if b"\n \t\r".decode(name) != "\n \t\r":
            return False
        return len(bytes(range(256)).decode(name, "replace")) == 256 and all(
            len(bytes([b]).decode(name, "replace")) == 1 for b in range(256)
        )
    except (UnicodeError, LookupError, TypeError):
        return False


class _Cutter:
    """Finds the cuts of a byte stream fed in pieces (absolute byte offsets, in order)."""

    def __init__(self, spacing: int = SEGMENT_BYTES, lines: bool = False):
        self.spacing, self.lines = spacing, lines
        self.start = 0  # where the current segment starts
        self.pos = 0  # bytes fed so far
        self.blank = True  # the current line, so far, holds blanks only

    def feed(self, data: bytes) -> list:
        cuts, i, n = [], 0, len(data)
        while i < n:
            target = self.start + self.spacing - 1 - self.pos  # first index a closing newline may have
            if target >= n:
                self._advance(data, i, n)
                break
            if target > i:
                self._advance(data, i, target)
                i = target
            close = data.find(b"\n", i)
            if close < 0:
                self._advance(data, i, n)
                break
            if not self.lines and not (self.blank and _NON_BLANK.search(data, i, close) is None):
                match = _BLANK_LINE.search(data, close)
                if match is None:
                    self._advance(data, close, n)
                    break
                close = match.end() - 1
            i = close + 1
            self.start, self.blank = self.pos + i, True
            cuts.append(self.start)
        self.pos += n
        return cuts

    def _advance(self, data: bytes, a: int, b: int) -> None:
        last = data.rfind(b"\n", a, b)
        if last >= 0:
            self.blank = _NON_BLANK.search(data, last + 1, b) is None
        elif self.blank:
            self.blank = _NON_BLANK.search(data, a, b) is None


class _Counter:
    """Lines and characters of a file's bytes, fed in order."""

    def __init__(self, encoding: str):
        self.utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
        self.lines, self.chars, self.pos, self.head = 1, 0, 0, b""

    def feed(self, data: bytes) -> None:
        if self.utf8 and len(self.head) < 3:
            head = (self.head + data)[:3]
            if len(head) == 3 and head == codecs.BOM_UTF8:
                self.chars -= 1  # read as utf-8-sig: the mark is not text
            self.head = head if len(head) < 3 else head + b"!"
        self.pos += len(data)
        self.lines += data.count(b"\n")
        self.chars += len(data.translate(None, _CONTINUATION)) if self.utf8 else len(data)


def plan(path, encoding: str = "utf-8", spacing: int = SEGMENT_BYTES, *, lines: bool = False) -> list:
    """The segments of the regular file ``path``, in order: one read of its bytes, nothing decoded.

    An empty file has one empty segment, a file in an encoding that is not :func:`cuttable` one
    segment of the whole file. ``lines``: cut at any line end (JSON lines), not at blank lines.
    """
    if not cuttable(encoding):
        return [Segment(0, os.stat(path).st_size, 1, 0)]
    cutter, counter, segments = _Cutter(spacing, lines), _Counter(encoding), []
    start, line, char = 0, 1, 0
    with open(path, "rb") as file:
        while data := file.read(_READ_BYTES):
            base, at = cutter.pos, 0
            for cut in cutter.feed(data):
                counter.feed(data[at : cut - base])
                at = cut - base
                segments.append(Segment(start, cut, line, char))
                start, line, char = cut, counter.lines, counter.chars
            counter.feed(data[at:])
    if start < counter.pos or not segments:
        segments.append(Segment(start, counter.pos, line, char))
    return segments


def is_regular(path) -> bool:
    """Whether ``path`` is a regular file (which :func:`plan` reads ahead; pipes are streams)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True  # opening it will say what is wrong


class _Range(io.RawIOBase):
    """Bytes ``start`` to ``stop`` of a file, as a seekable binary stream of their own."""

    def __init__(self, path, start: int, stop: int):
        super().__init__()
        self._file = open(path, "rb")  # noqa: SIM115 - this reader owns the file and closes it
        self._start, self._stop, self._pos = start, stop, 0
        self._file.seek(start)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._stop - self._start - self._pos)
        if n <= 0:
            return 0
        got = self._file.readinto(memoryview(buffer)[:n])
        self._pos += got
        return got

    def seek(self, offset: int, whence: int = 0) -> int:
        size = self._stop - self._start
        self._pos = max(0, min(size, {0: offset, 1: self._pos + offset, 2: size + offset}[whence]))
        self._file.seek(self._start + self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


def open_segment(path, segment: Segment):
    """A buffered binary stream of the bytes of ``segment`` of ``path``."""
    return io.BufferedReader(_Range(path, segment.start, segment.stop), 1 << 16)


class Stream:
    """A binary stream (stdin, a pipe) read segment by segment as it comes, with the cuts of :func:`plan`.

    ``segments()`` yields (Segment, binary stream of its bytes) in order; each stream must be read
    to its end before the next one is asked for. The Segment's ``stop`` is not known while it is
    read, so it is given as -1.
    """

    def __init__(self, raw, encoding: str = "utf-8", spacing: int = SEGMENT_BYTES, *, lines: bool = False):
        self.raw = raw
        self.cut = cuttable(encoding)
        self.cutter, self.counter = _Cutter(spacing, lines), _Counter(encoding)
        self.buf, self.eof = b"", False
        self.cuts: list[int] = []

    def _fill(self) -> None:
        read = getattr(self.raw, "read1", self.raw.read)
        data = read(1 << 16)
        if not data:
            self.eof = True
            return
        if self.cut:
            self.cuts.extend(self.cutter.feed(data))
        self.buf += data

    def _read(self, n: int) -> bytes:
        """Up to ``n`` bytes of the current segment; b"" at its end."""
        while not self.buf and not self.eof:
            self._fill()
        limit = len(self.buf) if not self.cuts else min(len(self.buf), self.cuts[0] - self.counter.pos)
        out, self.buf = self.buf[: min(n, limit)], self.buf[min(n, limit) :]
        self.counter.feed(out)
        return out

    def segments(self):
        while True:
            segment = Segment(self.counter.pos, -1, self.counter.lines, self.counter.chars)
            yield segment, io.BufferedReader(_Piece(self), 1 << 16)
            if self.cuts and self.cuts[0] == self.counter.pos:
                self.cuts.pop(0)
                continue
            return


class _Piece(io.RawIOBase):
    def __init__(self, stream: Stream):
        super().__init__()
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream._read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
