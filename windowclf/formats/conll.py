"""Read and write CoNLL-style column files incrementally.

One token a line, fields separated by TABs or by runs of spaces, a blank line
between sentences, optional ``-DOCSTART-`` lines between documents.  The reader is
a generator in the style of the ``conllu`` package's ``parse_incr``; unlike it,
every error names the file and the 1-based line.

Files as they come (the column rule). Published files have quirks that the readers
people use on them (flair's column reader, spaCy's converter: fields are whatever
whitespace separates) pass over; this reader reads them by one rule and counts them
(:data:`REPAIRS`, logged once per file, and given to a caller's ``repairs`` counter):

- in a file whose columns are separated by TABs, fields are what lies between TABs,
  with the spaces around each taken off (``MH17 <TAB>O`` is ``MH17``, ``O``);
- a token with spaces inside such a field is one token (TABs separate the fields, as
  CoNLL-U's words with spaces), each of its spaces written as a no-break space
  (U+00A0): ``ke s`` is ``ke\u00a0s``, so that it stays one field wherever it is
  written (:mod:`windowclf.formats.fields`);
- a token line whose word field is empty (``<TAB>O``, `` <TAB>O``) has no word to
  tag: it is left out (a sentence of nothing else is no sentence);
- in a file whose columns are separated by spaces, runs of spaces and TABs alike
  separate the fields.

What stays an error, naming the file and the line: another number of columns than
the file's first token line has, an empty field other than the word, a space inside
a field other than the word, binary data, undecodable bytes, over-long lines. The
rule's reader of lines is :class:`~windowclf.formats.column_rule.ColumnReader`.

>>> sentences = parse("EU\\tB-ORG\\nrejects\\tO\\n\\nPeter\\tB-PER\\n")
>>> [(s.tokens, s.tags) for s in sentences]
[(['EU', 'rejects'], ['B-ORG', 'O']), (['Peter'], ['B-PER'])]
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO

from windowclf._util.arguments import (
    check_bool,
    check_int,
    check_path,
    check_str,
    check_strings,
    iter_string_lists,
    kind_of,
)
from windowclf._util.atomic import atomic_writer
from windowclf._util.hashing import open_input
from windowclf.errors import ConfigError, InputError
from windowclf.formats.column_rule import ColumnReader
from windowclf.formats.lines import numbered_lines, text_codec

__all__ = [
    "REPAIRS",
    "Sentence",
    "file_layout",
    "format_sentence",
    "parse",
    "parse_incr",
    "read_conll",
    "repairs_line",
    "write_conll",
]

log = logging.getLogger(__name__)

MAX_LINE_LENGTH = 1_000_000


# What the column rule (the module's docstring) counts, in the words of its one-line report.
REPAIRS = {
    "spaces": "with spaces around a field (taken off)",
    "inner": "with a space inside the token (one token, its spaces no-break spaces)",
    "empty": "with an empty token (left out)",
    "tabs": "with TABs among the spaces that separate its columns (read as spaces)",
}

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
    document : int
        The number of ``-DOCSTART-`` lines before it in what was read: the sentences of one
        document have the same number.
    """

    tokens: list[str]
    tags: list[str] | None = None
    columns: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    path: str | None = None
    document: int = 0  # how many -DOCSTART- lines came before it (documents: sentences alike in this)

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
    repairs: Counter | None = None,
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
    repairs : collections.Counter, optional
        Counts the lines read by the column rule (the module's docstring), keyed as
        :data:`REPAIRS`; :func:`repairs_line` says them in one line. Either way a file
        with such lines logs that line (``logging``, level INFO) once it is read.

    Yields
    ------
    Sentence

    Raises
    ------
    InputError
        Inconsistent column counts, empty fields but the word, undecodable bytes,
        binary data, over-long lines; each with path and line.
    """
    path = check_path("path", path)
    options = _reading_options(
        word_column, tag_column, encoding, separator, docstart, require_sentences, max_line_length
    )
    return _read_file(path, options, repairs)


def _read_file(path: str, options: dict, repairs: Counter | None) -> Iterator[Sentence]:
    with open_input(path) as file:
        yield from parse_incr(file, path=path, repairs=repairs, **options)


def _reading_options(
    word_column, tag_column, encoding, separator, docstart, require_sentences, max_line_length
) -> dict:
    """The options of :func:`read_conll` and :func:`parse_incr`, checked where they are given (a
    generator would only check them when the first sentence is asked for)."""
    text_codec(encoding)
    separator = check_str("separator", separator, optional=True, nonempty=True)
    if separator is not None and ("\n" in separator or "\r" in separator):
        raise ConfigError(f"separator must not hold a line break, got {separator!r}")
    return {
        "word_column": check_int("word_column", word_column),
        "tag_column": check_int("tag_column", tag_column),
        "encoding": encoding,
        "separator": separator,
        "docstart": check_bool("docstart", docstart),
        "require_sentences": check_bool("require_sentences", require_sentences),
        "max_line_length": check_int("max_line_length", max_line_length, low=1, high=1 << 40),
    }


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
    first_line: int = 1,
    layout: dict | None = None,
    repairs: Counter | None = None,
) -> Iterator[Sentence]:
    """Yield sentences from an open stream; the work behind :func:`read_conll`.

    ``file_obj`` may be binary (decoded line by line with ``encoding``, the precise
    way) or text (already decoded: a decoding error can then only be located
    approximately).  ``path`` names the stream in errors.  Other parameters as in
    :func:`read_conll`. A stream that is part of a file, from a line start, passes the
    number of its ``first_line`` and the ``layout`` the file's earlier lines set (a dict
    from :func:`file_layout`, or one an earlier part filled in: it is updated as lines set it).

    >>> import io
    >>> [s.tokens for s in parse_incr(io.StringIO("-DOCSTART- O\\n\\na O\\nb O\\n"))]
    [['a', 'b']]
    """
    if not callable(getattr(file_obj, "readline", None)):
        raise TypeError(f"file_obj must be an open file (binary or text), got {kind_of(file_obj)}")
    path = None if path is None else check_path("path", path)
    options = _reading_options(
        word_column, tag_column, encoding, separator, docstart, require_sentences, max_line_length
    )
    first_line = check_int("first_line", first_line, low=1)
    if layout is not None and (
        not isinstance(layout, dict)
        or not set(layout) <= {"separator", "separator_line", "n_columns", "first_line"}
        or not isinstance(layout.get("separator") or "", str)
        or not all(isinstance(layout.get(k) or 1, int) for k in ("separator_line", "n_columns", "first_line"))
    ):
        raise TypeError(f"layout must be None or the dict of file_layout(path), got {layout!r:.60}")
    if repairs is not None and not isinstance(repairs, Counter):
        raise TypeError(f"repairs must be None or a collections.Counter, got {kind_of(repairs)}")
    return _parse(file_obj, path, options, first_line, layout, repairs)


def _parse(file_obj, path, options, first_line, layout, repairs) -> Iterator[Sentence]:
    word_column, tag_column, separator = options["word_column"], options["tag_column"], options["separator"]
    docstart, require_sentences = options["docstart"], options["require_sentences"]
    lines = numbered_lines(file_obj, path, options["encoding"], options["max_line_length"], first_line)
    reader = ColumnReader(path, word_column, tag_column, separator, docstart, Sentence)
    if layout:
        reader.separator = layout.get("separator") or reader.separator
        reader.n_columns, reader.first_line = layout.get("n_columns"), layout.get("first_line")
    found = False
    try:
        for number, text in lines:
            sentence = reader.feed(number, text)
            if sentence is not None:
                found = True
                yield sentence
    finally:
        if layout is not None:
            layout.update(separator=reader.separator, n_columns=reader.n_columns, first_line=reader.first_line)
    sentence = reader.finish()
    if sentence is not None:
        found = True
        yield sentence
    if reader.repairs:
        log.info("%s", repairs_line(reader.repairs, path))
        if repairs is not None:
            repairs.update(reader.repairs)
    if require_sentences and not found:
        raise InputError(_NO_SENTENCES, path=path)


def repairs_line(repairs: Counter, path=None) -> str:
    """What the column rule did, in one line (empty when it did nothing).

    >>> print(repairs_line(Counter(spaces=17, empty=2), "btc"))
    btc: read by the column rule: 17 lines with spaces around a field (taken off), 2 with an empty token (left out)
    """
    parts = [
        f"{repairs[key]:,} {('line ' if repairs[key] == 1 else 'lines ') if not i else ''}{words}"
        for i, (key, words) in enumerate(_present(repairs))
    ]
    if not parts:
        return ""
    return f"{path or '<input>'}: read by the column rule: {', '.join(parts)}"


def _present(repairs: Counter):
    return [(key, words) for key, words in REPAIRS.items() if repairs.get(key)]


def file_layout(
    path,
    *,
    word_column: int = 0,
    tag_column: int = -1,
    encoding: str = "utf-8",
    separator: str | None = None,
    docstart: bool = True,
    max_line_length: int = MAX_LINE_LENGTH,
) -> dict:
    """What a file's first lines set for the lines after them, for :func:`parse_incr`'s ``layout``.

    ``separator`` (found on the first non-blank line, number ``separator_line``), and the number of
    columns and the line of the first token line (``n_columns``, ``first_line``); None where the
    file never sets them, or where a line cannot be read (reading that part of the file names it).
    """
    layout = {"separator": separator, "separator_line": 0 if separator else None, "n_columns": None, "first_line": None}
    reader = ColumnReader(None, word_column, tag_column, separator, docstart, Sentence)
    with open(path, "rb") as file:
        try:
            for number, text in numbered_lines(file, path, encoding, max_line_length):
                if text and layout["separator_line"] is None:
                    layout["separator_line"] = number
                reader.feed(number, text)
                layout.update(separator=reader.separator, n_columns=reader.n_columns, first_line=reader.first_line)
                if reader.n_columns is not None:
                    break
        except (InputError, ConfigError):
            pass
    return layout


def parse(text: str, **kwargs) -> list[Sentence]:
    """All sentences of a string (keyword arguments as in :func:`parse_incr`)."""
    return list(parse_incr(io.StringIO(text), **kwargs))


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
    separator = check_str("separator", separator, nonempty=True)
    if separator.strip(" \t") or separator != separator[0] * len(separator):
        raise ConfigError(f"separator must be spaces or TABs (a reader splits on them), got {separator!r}")
    if isinstance(sentences, (str, bytes, dict)) or not isinstance(sentences, Iterable):
        raise TypeError(f"sentences must be an iterable of Sentence, got {kind_of(sentences)}")
    sentences = (_sentence(i, s) for i, s in enumerate(sentences))
    if isinstance(path_or_file, (str, os.PathLike)):
        text_codec(encoding)
        with atomic_writer(check_path("path_or_file", path_or_file), "w", encoding=encoding, newline="\n") as file:
            _write_sentences(file, sentences, separator)
    elif callable(getattr(path_or_file, "write", None)):
        _write_sentences(path_or_file, sentences, separator)
    else:
        raise TypeError(f"path_or_file must be a path or a text stream, got {kind_of(path_or_file)}")


def _sentence(i: int, sentence) -> Sentence:
    if not isinstance(sentence, Sentence):
        raise TypeError(f"sentences[{i}] must be a Sentence, got {kind_of(sentence)}")
    check_strings(f"sentences[{i}].tokens", sentence.tokens, what="a list of str")
    check_strings(f"sentences[{i}].tags", sentence.tags, optional=True, what="a list of str")
    list(iter_string_lists(f"sentences[{i}].columns", sentence.columns, what="a row of fields (str)"))
    return sentence


def format_sentence(rows, separator: str) -> str:
    """The text of one sentence of a column file: a line a token, then a blank line.

    Fields are written as given; :func:`write_conll` checks them first.

    Parameters
    ----------
    rows : iterable of sequences of str, shape (n_tokens, n_columns)
        Each token's fields.
    separator : str
        Between the fields of a line.

    Returns
    -------
    str
        Each row's fields joined by ``separator`` and followed by ``"\\n"``, then one more
        ``"\\n"``: the blank line that ends the sentence.

    Examples
    --------
    >>> format_sentence([["EU", "B-ORG"], ["rejects", "O"]], "\\t")
    'EU\\tB-ORG\\nrejects\\tO\\n\\n'
    """
    return "".join([separator.join(row) + "\n" for row in rows]) + "\n"


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
        # Checked whole before any of it is written: a refused sentence leaves no partial lines.
        file.write(format_sentence(rows, separator))


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
