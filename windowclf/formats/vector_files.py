"""Parsing word-vector files (word2vec text and binary, GloVe, CS224d) into words and one array of rows.

Files are streamed line by line (or record by record); given ``keep``, only the kept words'
numbers are parsed. Readers return ``(keys, vectors, key_to_index)``, the arguments of
:class:`windowclf.formats.vectors.WordVectors`, whose loaders are the public way in.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import zlib
from typing import IO, Any, cast

import numpy as np

from windowclf._util.hashing import open_input
from windowclf._util.limits import require_memory
from windowclf.errors import InputError

# Nothing public: windowclf.formats.vectors's loaders are the way in.
__all__ = ["WORD_BREAKS", "Parsed", "detect_format", "open_binary", "read_binary", "read_cs224d", "read_text_vectors"]

# The warnings name the module whose functions users call (and configure logging for).
logger = logging.getLogger("windowclf.formats.vectors")

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_MAX_WORD_BYTES = 100_000
_MAX_LINE_BYTES = 16 * 2**20  # a word and 400,000 values: far beyond any vector file's lines
# What ends a word in every format (text lines split at ASCII whitespace, binary words at a
# space): a word holding one cannot be written, so writing refuses it and reading never gives it.
WORD_BREAKS = re.compile("[ \t\n\r\x0b\x0c]")
_TRUNCATED = "unexpected end of input; is the count in the header wrong or the file truncated?"

# What a reader returns: the kept words, their rows, and word -> row (WordVectors's arguments).
Parsed = tuple[list[str], np.ndarray, dict[str, int]]


def open_binary(path: str) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (by its magic bytes, whatever its name).

    The file is opened once and only peeked at, so a pipe (``<(zcat vec.gz)``) reads whole.
    """
    raw = open_input(path)
    try:
        return cast(IO[bytes], _GzipReader(raw) if raw.peek(2)[:2] == _GZIP_MAGIC else raw)
    except BaseException:
        raw.close()
        raise


class _GzipReader(gzip.GzipFile):
    """A GzipFile that closes the file it reads (a GzipFile leaves a given file object open)."""

    def __init__(self, raw):
        super().__init__(fileobj=raw, mode="rb")
        self._raw = raw

    def close(self):
        try:
            super().close()
        finally:
            self._raw.close()


class _Replay(io.RawIOBase):
    """The bytes format detection read, then the rest of the stream: nothing read twice, or lost."""

    def __init__(self, prefix: bytes, inner):
        self.prefix, self.inner = memoryview(prefix), inner

    def readable(self):
        return True

    def readinto(self, b):
        if self.prefix:
            n = min(len(b), len(self.prefix))
            b[:n] = self.prefix[:n]
            self.prefix = self.prefix[n:]
            return n
        data = self.inner.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self):
        if not self.closed:
            self.inner.close()
        super().close()


def _lines(stream: IO[bytes], path: str, first: int = 1):
    """(number, line) of a binary stream, each line at most _MAX_LINE_BYTES (else InputError)."""
    number = first - 1
    while True:
        line = _read(stream.readline, _MAX_LINE_BYTES + 1, path, number + 1)
        if not line:
            return
        number += 1
        if len(line) > _MAX_LINE_BYTES:
            raise InputError(
                f"line longer than {_MAX_LINE_BYTES:,} bytes; is this a word-vector file?", path=path, line=number
            )
        yield number, line


# What a damaged or truncated gzip stream raises while it is read.
_GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)


def _read(read, size: int, path: str, line: int | None):
    """``read(size)`` (a stream's read or readline), a damaged gzip stream's error as InputError."""
    try:
        return read(size)
    except _GZIP_ERRORS as err:
        raise InputError(f"damaged or truncated gzip data ({err})", path=path, line=line) from None


def _decode(word: bytes, path: str, line: int | None, encoding: str, where: str = "") -> str:
    try:
        return word.decode(encoding)
    except UnicodeDecodeError as err:
        raise InputError(
            f"{where}cannot decode the word as {encoding} ({err.reason}); "
            "choose another encoding (encoding=, or --encoding on the command line)",
            path=path,
            line=line,
        ) from err


def _parse_header(line: bytes) -> tuple[int, int] | None:
    fields = line.split()
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        return int(fields[0]), int(fields[1])
    return None


def _header(line: bytes, path: str, message: str) -> tuple[int, int]:
    """``count dim`` of a word2vec header, dim at least 1 (a file of 0-dimensional vectors would
    train a model with an empty L, which no command could use)."""
    count_dim = _parse_header(line)
    if count_dim is None:
        raise InputError(message, path=path, line=1)
    if count_dim[1] < 1:
        raise InputError(
            f"the header declares dimension {count_dim[1]}; expected 'count dim' with dim >= 1", path=path, line=1
        )
    return count_dim


def detect_format(stream: IO[bytes], path: str, encoding: str) -> tuple[str, IO[bytes]]:
    """The format of the file ``stream`` reads, from its first lines, and a stream that reads
    the file from its start again (those lines replayed: a pipe cannot be reopened)."""
    first = _read(stream.readline, _MAX_WORD_BYTES, path, 1)
    if not first.removeprefix(_BOM):
        raise InputError("empty file; expected word vectors", path=path, line=1)
    header = _parse_header(first.removeprefix(_BOM))
    second = b"" if header is None else _read(stream.readline, _MAX_WORD_BYTES, path, 2)
    replay = io.BufferedReader(_Replay(first + second, stream), buffer_size=1 << 16)  # little to hold
    if not second:
        return ("glove" if header is None else "word2vec"), replay
    try:
        for value in second.split()[1:]:
            float(value)
        second.decode(encoding)
    except (ValueError, UnicodeDecodeError):
        return "word2vec-binary", replay
    return "word2vec", replay


class _Rows:
    """Kept words and their rows, in one array grown in place; no list of Python floats is built."""

    def __init__(self, dim: int, dtype: np.dtype, capacity: int, path: str | None = None, line: int = 1):
        require_memory(
            capacity * dim * np.dtype(dtype).itemsize, f"{capacity:,} vectors of dimension {dim:,}", path, line
        )
        self.vectors = np.empty((capacity, dim), dtype=dtype)
        self.keys: list[str] = []
        self.key_to_index: dict[str, int] = {}
        self.n_duplicates = 0

    def add_key(self, word: str, path: str, line: int) -> bool:
        """Register ``word``; False (and a warning) if it was already there."""
        if word in self.key_to_index:
            self.n_duplicates += 1
            if self.n_duplicates <= 10:
                logger.warning("%s:%d: duplicate word %r; keeping its first vector", path, line, word)
            return False
        self.key_to_index[word] = len(self.keys)
        self.keys.append(word)
        return True

    def next_row(self) -> np.ndarray:
        """The row to fill for the word just added; valid only until the next call."""
        n = len(self.keys)
        if n > len(self.vectors):
            # realloc: large blocks are remapped, not copied, so growing never holds two copies.
            self.vectors.resize((max(1024, n + n // 2), self.vectors.shape[1]), refcheck=False)
        return self.vectors[n - 1]

    def finish(self, path: str) -> Parsed:
        """The kept words, their rows and word -> row, once every line is read."""
        if self.n_duplicates:
            logger.warning("%s: %d duplicate words skipped", path, self.n_duplicates)
        self.vectors.resize((len(self.keys), self.vectors.shape[1]), refcheck=False)
        return self.keys, self.vectors, self.key_to_index


def _parse_values(fields: list[bytes], out: np.ndarray, path: str, line: int) -> None:
    """Parse ``fields`` into the row ``out``, checking count and finiteness."""
    if len(fields) != len(out):
        raise InputError(f"expected {len(out)} values after the word, found {len(fields)}", path=path, line=line)
    try:
        # Overflow to inf when narrowing is caught just below, with the value named.
        with np.errstate(over="ignore"):
            out[:] = np.array(fields, dtype=np.float64)
    except ValueError:
        for k, field in enumerate(fields, 1):
            try:
                float(field)
            except ValueError:
                text = field.decode("utf-8", "replace")
                raise InputError(f"non-numeric value {text!r} (value {k})", path=path, line=line) from None
        raise
    if not np.isfinite(out).all():
        k = int(np.argmin(np.isfinite(out)))
        raise InputError(
            f"non-finite value {fields[k].decode()!r} (value {k + 1}) for {out.dtype}", path=path, line=line
        )


def read_text_vectors(stream: IO[bytes], path: str, header: bool, keep, dtype: np.dtype, encoding: str) -> Parsed:
    count = dim = None
    rows: Any = None  # a _Rows once the first vector says its dimension
    n_lines = number = 0
    for number, line in _lines(stream, path):
        if number == 1:
            line = line.removeprefix(_BOM)
            if header:
                count, dim = _header(
                    line, path, "expected a header 'count dim' (word2vec text format); use format='glove' for none"
                )
                rows = _Rows(dim, dtype, count if keep is None else min(count, len(keep)), path)
                continue
        parts = line.split(None, 1)
        if not parts:
            continue
        n_lines += 1
        if count is not None and n_lines > count:
            raise InputError(
                f"more vectors than the header's count {count}; is the count wrong?", path=path, line=number
            )
        word = _decode(parts[0], path, number, encoding)
        fields = parts[1].split() if len(parts) == 2 else []
        if dim is None:
            dim = len(fields)
            if dim == 0:
                raise InputError("expected a word followed by its values, found a word alone", path=path, line=number)
            rows = _Rows(dim, dtype, 0 if keep is None else len(keep), path, number)
        if keep is not None and word not in keep:
            if n_lines == 1:
                _parse_values(fields, np.empty(dim, dtype=dtype), path, number)
            continue
        if rows.add_key(word, path, number):
            _parse_values(fields, rows.next_row(), path, number)
    if rows is None:
        raise InputError("empty file; expected word vectors", path=path, line=number or 1)
    if count is not None and n_lines < count:
        raise InputError(f"{_TRUNCATED} (read {n_lines} of {count} vectors)", path=path, line=number)
    return rows.finish(path)


def read_binary(stream: IO[bytes], path: str, keep, dtype: np.dtype, encoding: str) -> Parsed:
    header = _read(stream.readline, _MAX_WORD_BYTES, path, 1).removeprefix(_BOM)
    count, dim = _header(
        header, path, "empty file; expected word vectors" if not header else "expected a header 'count dim'"
    )
    rows = _Rows(dim, dtype, count if keep is None else min(count, len(keep)), path)
    reader = _ByteReader(stream, path)
    for record in range(1, count + 1):
        where = f"vector {record} of {count} (byte {reader.offset}): "
        word_bytes = reader.read_word()
        values = reader.read_exact(4 * dim)
        if word_bytes is None or values is None:
            raise InputError(f"{where}{_TRUNCATED}", path=path)
        word = _decode(word_bytes, path, None, encoding, where)
        if (keep is None or word in keep) and rows.add_key(word, path, record):
            row = rows.next_row()
            row[:] = np.frombuffer(values, dtype="<f4")
            if not np.isfinite(row).all():
                raise InputError(f"{where}non-finite value for word {word!r}", path=path)
    if reader.read_word() is not None:
        raise InputError(f"data after the header's {count} vectors; is the count wrong?", path=path)
    return rows.finish(path)


class _ByteReader:
    """Buffered reads of word2vec binary records: ``word `` then raw bytes."""

    def __init__(self, stream: IO[bytes], path: str):
        self.stream, self.path, self.buffer, self.pos, self.offset = stream, path, b"", 0, 0

    def _fill(self) -> bool:
        more = _read(self.stream.read, 1 << 20, self.path, None)
        self.buffer = self.buffer[self.pos :] + more
        self.pos = 0
        return bool(more)

    def read_word(self) -> bytes | None:
        """The next word, skipping the newline the C tool writes after each vector."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in b"\n\r":
                self.pos += 1
                self.offset += 1
            end = self.buffer.find(b" ", self.pos)
            if end >= 0:
                word = self.buffer[self.pos : end]
                self.offset += end + 1 - self.pos
                self.pos = end + 1
                return word
            if len(self.buffer) - self.pos > _MAX_WORD_BYTES or not self._fill():
                return None

    def read_exact(self, n: int) -> bytes | None:
        while len(self.buffer) - self.pos < n:
            if not self._fill():
                return None
        data = self.buffer[self.pos : self.pos + n]
        self.pos += n
        self.offset += n
        return data


def read_cs224d(vocab_path: str, vectors_path: str, dtype: np.dtype, encoding: str) -> Parsed:
    """The words of ``vocab_path`` and the rows of ``vectors_path``, paired line by line."""
    words = []
    with open_binary(vocab_path) as stream:
        for number, line in _lines(stream, vocab_path):
            word = _decode(line.strip(b" \t\r\n").removeprefix(_BOM), vocab_path, number, encoding)
            if not word:
                raise InputError("empty line; expected one word a line", path=vocab_path, line=number)
            if WORD_BREAKS.search(word):
                raise InputError(
                    f"the word {word!r} holds whitespace; expected one word a line", path=vocab_path, line=number
                )
            words.append(word)
    if not words:
        raise InputError("empty file; expected one word a line", path=vocab_path)
    vectors: Any = None  # allocated once the first line says the dimension
    number = 0
    with open_binary(vectors_path) as stream:
        for number, line in _lines(stream, vectors_path):
            values = (line.removeprefix(_BOM) if number == 1 else line).split()
            if vectors is None:
                if not values:
                    raise InputError("empty line; expected space-separated numbers", path=vectors_path, line=number)
                require_memory(
                    len(words) * len(values) * np.dtype(dtype).itemsize,
                    f"{len(words):,} vectors of dimension {len(values):,}",
                    vectors_path,
                    number,
                )
                vectors = np.empty((len(words), len(values)), dtype=dtype)
            if number > len(words):
                raise InputError(
                    f"more lines than the {len(words)} words of {vocab_path}", path=vectors_path, line=number
                )
            _parse_values(values, vectors[number - 1], vectors_path, number)
    if number != len(words):
        raise InputError(
            f"{number} lines of vectors but {len(words)} words in {vocab_path}; the files must pair line by line",
            path=vectors_path,
        )
    builder = _Rows(vectors.shape[1], dtype, 0)
    kept = [i for i, word in enumerate(words) if builder.add_key(word, vocab_path, i + 1)]
    if len(kept) < len(words):
        vectors = vectors[kept]
    return builder.keys, vectors, builder.key_to_index
