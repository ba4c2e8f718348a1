"""A file's segments: the pieces, cut at blank lines about every megabyte, that tagging works within.

``windowclf predict`` tags a file segment by segment, each on its own, so that a segment's output
depends on its own bytes only: tagged on one machine or on many, one after another or in any
grouping, the segments give the same bytes. A segment also bounds what tagging reads at once
(:data:`MAX_SEGMENT_BYTES`), and no document crosses one.

A cut is found from the bytes alone, so a file's cuts are the same whether it is scanned ahead
(:func:`plan`) or read as a stream (:class:`Stream`). Within the window from ``spacing`` to
``limit`` bytes after a segment's start (1 MiB to 1.25 MiB), the segment ends

1. at the end of the first blank line (a line of spaces, TABs and CRs only, ended by ``\\n``) that
   ends in the window: a blank line ends a CoNLL sentence and a paragraph of raw text, and no
   sentence or token crosses a paragraph, so such a cut changes nothing;
2. failing one, after the first line end in the window whose line ends a sentence (``.``, ``!`` or
   ``?``, then closing quotes or brackets and blanks), or failing that, after its first line end
   (text with a sentence a line, or a CoNLL file without blank lines);
3. failing any line end (one very long line of raw text), after the first sentence end followed by
   blanks and a capital, digit, quote or bracket, else after the first run of blanks, else at the
   window's end (on a character's first byte). CoNLL input is never cut inside a line: it ends at
   the first line end after the window instead.

JSON lines are cut at the end of the first line (any line: a record is a line) that ends at least
``spacing`` bytes after the segment's start (``lines=True``). Files in encodings whose bytes do not
show their line ends (UTF-16, stateful codes) are one segment.

>>> _Cutter(8).feed(b"one two three\\n\\nfour\\n \\nfive\\n\\nsix\\n")
[15, 28]
>>> _Cutter(8, 20).feed(b"Oslo is cold. Rome is warm, Lyon too.")
[14, 22]
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

__all__ = ["MAX_SEGMENT_BYTES", "SEGMENT_BYTES", "Segment", "Stream", "cuttable", "open_segment", "plan"]

SEGMENT_BYTES = 1 << 20
"""Bytes a segment holds at least (but the last). Part of what ``predict`` writes: keep it fixed."""
MAX_SEGMENT_BYTES = SEGMENT_BYTES + SEGMENT_BYTES // 4
"""Bytes a segment holds at most (raw text; CoNLL input: up to the first line end after them), so
that what tagging reads at once is bounded whatever the file's layout."""

_READ_BYTES = 1 << 20
_NON_BLANK = re.compile(rb"[^ \t\r]")
_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
_BLANKS_TO_LINE_END = re.compile(rb"[ \t\r]*\n")
_SENTENCE_LINE_END = re.compile(rb"[.!?][\"')\]]*[ \t\r]*\n")
_SENTENCE_END = re.compile(rb"[.!?][\"')\]]*[ \t]+(?=[A-Z0-9\"'(\[])")
_BLANKS = re.compile(rb"[ \t]+")
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
    """Finds the cuts of a byte stream fed in pieces (absolute byte offsets, in order).

    ``limit`` (default MAX_SEGMENT_BYTES, at least ``spacing`` + 8) ends the window a cut is looked for
    in; ``lines_only`` (CoNLL input) never cuts inside a line; ``lines`` (JSON lines) cuts at the
    first line end, any line's, and never inside a line. No cut can come before :attr:`settled`.
    """

    def __init__(
        self, spacing: int = SEGMENT_BYTES, limit: int | None = None, lines_only: bool = False, *, lines: bool = False
    ):
        self.spacing, self.lines = spacing, lines
        self.limit = max(spacing + 8, MAX_SEGMENT_BYTES if limit is None else limit)  # room for a character
        self.lines_only = lines_only or lines
        self.start = 0  # where the current segment starts
        self.pos = 0  # bytes fed so far
        self.blank = True  # the current line, so far, holds blanks only
        self.window = bytearray()  # the bytes from start + spacing - 1 on, while no cut is found
        self.first_line = True  # the window's first line may still close a blank line
        self.searched = 0  # window bytes searched for a blank line
        self.next_line = False  # CoNLL input past its window: the segment ends at the next line end

    @property
    def settled(self) -> int:
        """No cut can come before this offset (the bytes before it may be handed out)."""
        return self.start + self.spacing if self.window else self.pos

    def feed(self, data: bytes) -> list:
        cuts: list[int] = []
        data = bytes(data)
        while data:
            data = self._take(data, cuts)
        return cuts

    def _take(self, data: bytes, cuts: list) -> bytes:
        """Consume ``data`` up to the next cut (appended to ``cuts``); returns the bytes after it."""
        if self.next_line:
            close = data.find(b"\n")
            if close < 0:
                self._advance(data)
                return b""
            self.pos += close + 1
            self._start_segment(self.pos, cuts)
            return data[close + 1 :]
        opens = self.start + self.spacing - 1  # the first index a blank line's closing newline may have
        if not self.window and self.pos < opens:
            head = min(len(data), opens - self.pos)
            self._advance(data[:head])
            data = data[head:]
            if not data:
                return b""
        if not self.window:
            self.first_line = self.blank
        full = self.start + self.limit - opens  # the window's size
        piece, rest = data[: full - len(self.window)], data[full - len(self.window) :]
        self.window += piece
        self.pos += len(piece)
        cut = self._blank_line_cut()
        if cut is None and len(self.window) >= full:
            cut = self._fallback_cut()
            if cut is None:  # CoNLL input holds no line end in the window: the line end after it
                window = bytes(self.window)
                self.window = bytearray()
                self.pos -= len(window)
                self._advance(window)
                self.next_line = True
                return rest
        if cut is None:
            return rest
        after = bytes(self.window[cut - opens :]) + rest  # the next segment's, fed again
        self.pos = cut
        self._start_segment(cut, cuts)
        return after

    def _start_segment(self, cut: int, cuts: list) -> None:
        cuts.append(cut)
        self.start, self.blank, self.next_line = cut, True, False
        self.window, self.searched = bytearray(), 0

    def _blank_line_cut(self) -> int | None:
        """Rule 1: the end of the first blank line whose closing newline is in the window (JSON lines:
        of the first line)."""
        window, opens = self.window, self.start + self.spacing - 1
        if self.lines:
            close = window.find(b"\n")
            return None if close < 0 else opens + close + 1
        if self.first_line:  # the line the window starts in, blank so far: its end closes a blank line
            close = window.find(b"\n")
            if _NON_BLANK.search(window, 0, len(window) if close < 0 else close) is not None:
                self.first_line = False
            elif close >= 0:
                return opens + close + 1
        start = max(0, window.rfind(b"\n", 0, self.searched))  # a match may begin before the bytes searched
        self.searched = len(window)
        match = _BLANK_LINE.search(window, start)
        return None if match is None else opens + match.end()

    def _fallback_cut(self) -> int | None:
        """Rules 2 and 3, on a full window without a blank line (None: CoNLL input without a line end)."""
        window, opens = self.window, self.start + self.spacing - 1
        patterns = (_SENTENCE_LINE_END, _BLANKS_TO_LINE_END) + (() if self.lines_only else (_SENTENCE_END, _BLANKS))
        for pattern in patterns:
            match = pattern.search(window)
            if match is not None:
                return opens + match.end()
        if self.lines_only:
            return None
        cut = len(window) - 1  # the next segment starts with the window's last character, or just before
        for _ in range(3):  # a UTF-8 character has at most three continuation bytes
            if window[cut] in _CONTINUATION:
                cut -= 1
        return opens + cut

    def _advance(self, data: bytes) -> None:
        self.pos += len(data)
        last = data.rfind(b"\n")
        if last >= 0:
            self.blank = _NON_BLANK.search(data, last + 1) is None
        elif self.blank:
            self.blank = _NON_BLANK.search(data) is None


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


def plan(
    path,
    encoding: str = "utf-8",
    spacing: int = SEGMENT_BYTES,
    *,
    limit: int | None = None,
    lines_only: bool = False,
    lines: bool = False,
) -> list:
    """The segments of the regular file ``path``, in order: one read of its bytes, nothing decoded.

    An empty file has one empty segment, a file in an encoding that is not :func:`cuttable` one
    segment of the whole file. ``limit``, ``lines_only`` (CoNLL input) and ``lines`` (JSON lines):
    see the module's rules.
    """
    if not cuttable(encoding):
        return [Segment(0, os.stat(path).st_size, 1, 0)]
    cutter, counter, segments = _Cutter(spacing, limit, lines_only, lines=lines), _Counter(encoding), []
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

    def __init__(
        self,
        raw,
        encoding: str = "utf-8",
        spacing: int = SEGMENT_BYTES,
        *,
        limit: int | None = None,
        lines_only: bool = False,
        lines: bool = False,
    ):
        self.raw = raw
        self.cut = cuttable(encoding)
        self.cutter, self.counter = _Cutter(spacing, limit, lines_only, lines=lines), _Counter(encoding)
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

    def _limit(self) -> int:
        """How many buffered bytes the current segment may hand out now: up to its cut, or while
        the cut is still looked for, up to where it may come."""
        if self.cuts:
            return min(len(self.buf), self.cuts[0] - self.counter.pos)
        if self.eof or not self.cut:
            return len(self.buf)
        return min(len(self.buf), self.cutter.settled - self.counter.pos)

    def _read(self, n: int) -> bytes:
        """Up to ``n`` bytes of the current segment; b"" at its end."""
        while not self._limit() and not self.eof and not (self.cuts and self.cuts[0] == self.counter.pos):
            self._fill()
        limit = self._limit()
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
