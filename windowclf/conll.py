"""Read and write CoNLL-style column files incrementally.

One token a line, fields separated by TABs or by runs of spaces, a blank line
between sentences, optional ``-DOCSTART-`` lines between documents.  The reader is
a generator in the style of the ``conllu`` package's ``parse_incr``; unlike it,
every error names the file and the 1-based line.

>>> sentences = parse("EU\\tB-ORG\\nrejects\\tO\\n\\nPeter\\tB-PER\\n")
>>> [(s.tokens, s.tags) for s in sentences]
[(['EU', 'rejects'], ['B-ORG', 'O']), (['Peter'], ['B-PER'])]
"""

from __future__ import annotations

import codecs
import io
import os
import re
from dataclasses import dataclass, field
from typing import IO, Iterable, Iterator

from windowclf.atomic import atomic_writer
from windowclf.errors import ConfigError, InputError

__all__ = ["Sentence", "read_conll", "parse_incr", "parse", "write_conll"]

DOCSTART = "-DOCSTART-"
MAX_LINE_LENGTH = 1_000_000

# C0 control characters other than TAB, LF, VT, FF and CR never occur in text files.
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1f]")
_BINARY_BYTES = re.compile(b"[\x00-\x08\x0e-\x1f]")
_LINE_END = " \t\r\n"
_NO_SENTENCES = "no sentences found; expected word/tag lines separated by blank lines"


@dataclass
class Sentence:
    """One sentence of a column file.

    Attributes
    ----------
    tokens : list of str, length n_tokens
        The word column.
    tags : list of str, length n_tokens, or None
        The tag column; None when the file has a single column.
    columns : list of list of str, shape (n_tokens, n_columns)
        Every field of every token line, as read (``columns[i]`` is token i's line).
    lines : list of int, length n_tokens
        1-based line number of each token in its file, for error messages.
    path : str or None
        The file the sentence came from.
    """

    tokens: list[str]
    tags: list[str] | None = None
    columns: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    path: str | None = None

    def __len__(self) -> int:
        return len(self.tokens)


def read_conll(
    path,
    *,
    word_column: int = 0,
    tag_column: int = -1,
    encoding: str = "utf-8",
    separator: str | None = None,
    docstart: bool = True,
    require_sentences: bool = False,
    max_line_length: int = MAX_LINE_LENGTH,
) -> Iterator[Sentence]:
    """Yield the sentences of a CoNLL file one at a time, reading line by line.

    Parameters
    ----------
    path : str or os.PathLike
        The file.  It is read in binary and decoded one line at a time, so a decoding
        error names its line.
    word_column, tag_column : int
        Which fields are the word and the tag (negative counts from the end).
        A one-column file has no tags (``Sentence.tags`` is None).
    encoding : str
        Any ASCII-compatible encoding (``"utf-8"``, ``"latin-1"``, ``"cp1252"``...).
        A UTF-8 byte-order mark is skipped.
    separator : {None, "\\t", " "} or str
        None: TABs if the first non-blank line holds a TAB, else runs of spaces.
        ``" "`` means runs of spaces; any other string is split on exactly.
    docstart : bool
        Skip ``-DOCSTART-`` lines (they also end any open sentence).
    require_sentences : bool
        Raise InputError at the end when the file held no sentence at all.
    max_line_length : int
        Longest line accepted, in characters; longer lines fail without being read whole.

    Yields
    ------
    Sentence

    Raises
    ------
    InputError
        Inconsistent column counts, mixed separators, empty fields, undecodable
        bytes, binary data, over-long lines; each with path and line.
    """
    with open(path, "rb") as file:
        yield from parse_incr(
            file,
            path=os.fspath(path),
            word_column=word_column,
            tag_column=tag_column,
            encoding=encoding,
            separator=separator,
            docstart=docstart,
            require_sentences=require_sentences,
            max_line_length=max_line_length,
        )


def parse_incr(
    file_obj: IO,
    *,
    path=None,
    word_column: int = 0,
    tag_column: int = -1,
    encoding: str = "utf-8",
    separator: str | None = None,
    docstart: bool = True,
    require_sentences: bool = False,
    max_line_length: int = MAX_LINE_LENGTH,
) -> Iterator[Sentence]:
    """Yield sentences from an open stream; the work behind :func:`read_conll`.

    ``file_obj`` may be binary (decoded line by line with ``encoding``, the precise
    way) or text (already decoded: a decoding error can then only be located
    approximately).  ``path`` names the stream in errors.  Other parameters as in
    :func:`read_conll`.

    >>> import io
    >>> [s.tokens for s in parse_incr(io.StringIO("-DOCSTART- O\\n\\na O\\nb O\\n"))]
    [['a', 'b']]
    """
    path = None if path is None else os.fspath(path)
    lines = _numbered_lines(file_obj, path, encoding, max_line_length)
    reader = _SentenceReader(path, word_column, tag_column, separator, docstart)
    found = False
    for number, text in lines:
        sentence = reader.feed(number, text)
        if sentence is not None:
            found = True
            yield sentence
    sentence = reader.finish()
    if sentence is not None:
        found = True
        yield sentence
    if require_sentences and not found:
        raise InputError(_NO_SENTENCES, path=path)


def parse(text: str, **kwargs) -> list[Sentence]:
    """All sentences of a string (keyword arguments as in :func:`parse_incr`)."""
    return list(parse_incr(io.StringIO(text), **kwargs))


class _SentenceReader:
    """Turns numbered lines into sentences; remembers the file's layout from its first line."""

    def __init__(self, path, word_column, tag_column, separator, docstart):
        self.path = path
        self.word_column = word_column
        self.tag_column = tag_column
        self.separator = separator
        self.docstart = docstart
        self.n_columns = None
        self.first_line = None
        self.rows: list[list[str]] = []
        self.numbers: list[int] = []

    def feed(self, number: int, text: str) -> Sentence | None:
        """Take one line (line end already stripped); return a sentence it completes."""
        if not text:
            return self.finish()
        if self.separator is None:
            self.separator = "\t" if "\t" in text else " "
        fields = self._split(number, text)
        if self.docstart and fields[0] == DOCSTART:
            return self.finish()
        if self.n_columns is None:
            self._set_layout(number, fields)
        elif len(fields) != self.n_columns:
            raise InputError(
                f"expected {self.n_columns} columns like line {self.first_line}, found {len(fields)}",
                path=self.path,
                line=number,
            )
        self.rows.append(fields)
        self.numbers.append(number)
        return None

    def finish(self) -> Sentence | None:
        """Close the open sentence, if any, and return it."""
        if not self.rows:
            return None
        rows, numbers = self.rows, self.numbers
        self.rows, self.numbers = [], []
        tags = [row[self.tag_column] for row in rows] if self.n_columns > 1 else None
        return Sentence(
            tokens=[row[self.word_column] for row in rows],
            tags=tags,
            columns=rows,
            lines=numbers,
            path=self.path,
        )

    def _split(self, number: int, text: str) -> list[str]:
        sep = self.separator
        if sep == " ":
            if "\t" in text:
                raise InputError(
                    "line mixes tabs and spaces as separators; this file separates columns with spaces",
                    path=self.path,
                    line=number,
                )
            fields = text.split(" ")
            # Runs of spaces (aligned columns) leave empty strings; most files have none.
            return [f for f in fields if f] if "" in fields else fields
        if sep == "\t" and " " in text:
            raise InputError(
                "line mixes tabs and spaces as separators; this file separates columns with TABs",
                path=self.path,
                line=number,
            )
        fields = text.split(sep)
        if "" in fields:
            raise InputError(
                f"empty token in column {fields.index('') + 1}; "
                f"expected one value between each pair of separators {sep!r}",
                path=self.path,
                line=number,
            )
        return fields

    def _set_layout(self, number: int, fields: list[str]) -> None:
        n = len(fields)
        columns = [("word_column", self.word_column)]
        if n > 1:
            columns.append(("tag_column", self.tag_column))
        for name, index in columns:
            if not -n <= index < n:
                raise InputError(
                    f"{name}={index} is out of range for a file with {n} columns", path=self.path, line=number
                )
        self.n_columns = n
        self.first_line = number


def _numbered_lines(file_obj: IO, path, encoding: str, max_line_length: int) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without its end or trailing blanks)."""
    if _is_binary(file_obj):
        yield from _decoded_lines(file_obj, path, encoding, max_line_length)
        return
    number = 0
    while True:
        try:
            text = file_obj.readline(max_line_length + 2)
        except UnicodeDecodeError as err:
            # A text stream decodes in blocks, so the failing line is only approximately known.
            raise InputError(
                f"cannot decode text ({err.reason}) at or after this line; "
                "open the file in binary mode for an exact position or pass another encoding",
                path=path,
                line=number + 1,
            ) from err
        if not text:
            return
        number += 1
        if number == 1:
            text = text.removeprefix("\ufeff")
        _check_text(text, path, number, max_line_length)
        yield number, text.rstrip(_LINE_END)


def _is_binary(file_obj: IO) -> bool:
    if isinstance(file_obj, io.TextIOBase):
        return False
    return isinstance(file_obj, (io.RawIOBase, io.BufferedIOBase)) or "b" in str(getattr(file_obj, "mode", ""))


def _decoded_lines(file_obj: IO, path, encoding: str, max_line_length: int) -> Iterator[tuple[int, str]]:
    codec = _ascii_compatible_codec(encoding)
    # UTF-8 needs at most 4 bytes a character; 2 more for a CRLF line end.
    byte_limit = 4 * max_line_length + 2
    number = 0
    while True:
        raw = file_obj.readline(byte_limit)
        if not raw:
            return
        number += 1
        if number == 1 and codec.name == "utf-8":
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if _BINARY_BYTES.search(raw):
            raise InputError("binary data; is this a CoNLL text file?", path=path, line=number)
        if len(raw) >= byte_limit and not raw.endswith(b"\n"):
            raise _too_long(path, number, max_line_length)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as err:
            raise InputError(
                f"cannot decode byte {raw[err.start]:#04x} at column {err.start + 1} as {encoding} "
                f"({err.reason}); choose another encoding (encoding=, or --encoding on the command line)",
                path=path,
                line=number,
            ) from err
        if len(text) > max_line_length and len(text.rstrip("\r\n")) > max_line_length:
            raise _too_long(path, number, max_line_length)
        yield number, text.rstrip(_LINE_END)


def _check_text(text: str, path, number: int, max_line_length: int) -> None:
    if _BINARY_CHARS.search(text):
        raise InputError("binary data; is this a CoNLL text file?", path=path, line=number)
    if len(text.rstrip("\r\n")) > max_line_length:
        raise _too_long(path, number, max_line_length)


def _too_long(path, number: int, max_line_length: int) -> InputError:
    return InputError(
        f"line longer than {max_line_length:,} characters; is this a CoNLL file with one token a line?",
        path=path,
        line=number,
    )


def _ascii_compatible_codec(encoding: str) -> codecs.CodecInfo:
    try:
        codec = codecs.lookup(encoding)
    except LookupError as err:
        raise ConfigError(f"unknown encoding {encoding!r}") from err
    # Lines are split on b"\n" before decoding, which only works when the newline is one byte.
    if "\n \t".encode(codec.name) != b"\n \t":
        raise ConfigError(f"encoding {encoding!r} is not ASCII-compatible; re-encode the file as UTF-8")
    return codec


def write_conll(path_or_file, sentences: Iterable[Sentence], *, separator: str = " ", encoding: str = "utf-8") -> None:
    """Write sentences as a column file, a blank line after each sentence.

    Each token line is ``sentence.columns[i]`` when the sentence has columns, else
    ``tokens[i]`` and ``tags[i]``.  Reading the result gives the same sentences
    back (same tokens, tags and columns), except that a first field ``-DOCSTART-``
    reads back as a document separator unless read with ``docstart=False``.  Writing to a path is atomic: a temporary
    file in the same directory replaces the target only once complete.

    Parameters
    ----------
    path_or_file : str, os.PathLike or text stream
    sentences : iterable of Sentence
    separator : str
        ``" "`` (CoNLL-2003) or ``"\\t"`` (CS224d).
    encoding : str
        Used when writing to a path.

    Raises
    ------
    InputError
        A field that would not read back: empty, holding whitespace or control
        characters, or a sentence with no tokens or a different number of columns
        than the first one.
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        with atomic_writer(path_or_file, "w", encoding=encoding, newline="\n") as file:
            _write_sentences(file, sentences, separator)
    else:
        _write_sentences(path_or_file, sentences, separator)


def _write_sentences(file: IO, sentences: Iterable[Sentence], separator: str) -> None:
    n_columns = None
    for sentence in sentences:
        rows = sentence.columns or _rows_from_tokens(sentence)
        if not rows:
            raise InputError("cannot write an empty sentence: it would read back as nothing", path=sentence.path)
        for i, row in enumerate(rows):
            line = sentence.lines[i] if i < len(sentence.lines) else None
            if n_columns is None:
                n_columns = len(row)
            if len(row) != n_columns:
                raise InputError(
                    f"token {i + 1} has {len(row)} columns, earlier tokens {n_columns}; "
                    "a column file needs the same number on every line",
                    path=sentence.path,
                    line=line,
                )
            for value in row:
                if not value or _UNWRITABLE.search(value):
                    raise InputError(
                        f"cannot write field {value!r}: fields must be non-empty, without whitespace "
                        "or control characters",
                        path=sentence.path,
                        line=line,
                    )
            file.write(separator.join(row))
            file.write("\n")
        file.write("\n")


# Whitespace and control characters would split a field, end a line, or read back as binary data.
_UNWRITABLE = re.compile("[\x00-\x20]")


def _rows_from_tokens(sentence: Sentence) -> list[list[str]]:
    if sentence.tags is None:
        return [[token] for token in sentence.tokens]
    if len(sentence.tags) != len(sentence.tokens):
        raise InputError(
            f"sentence has {len(sentence.tokens)} tokens but {len(sentence.tags)} tags", path=sentence.path
        )
    return [[token, tag] for token, tag in zip(sentence.tokens, sentence.tags)]
