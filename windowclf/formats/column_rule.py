"""The column rule: the lines of a column file as sentences (:class:`ColumnReader`), fields split
as the rule of :mod:`windowclf.formats.conll` says (TABs, or runs of spaces; spaces around a
TAB-separated field taken off, inside the word kept as no-break spaces; a line without a word left
out), every other irregularity an InputError naming the file and the line."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Generic, TypeVar

from windowclf.errors import InputError

__all__ = ["DOCSTART", "NO_BREAK_SPACE", "ColumnReader"]

S = TypeVar("S")

DOCSTART = "-DOCSTART-"
"""The first field of a line between documents."""
NO_BREAK_SPACE = "\u00a0"
"""What a space inside a token becomes: one field, as it looks."""
_BLANKS = re.compile("[ \t]+")  # what separates the columns of a space-separated file


class ColumnReader(Generic[S]):
    """Turns numbered lines of a column file into sentences, by the column rule; remembers the
    file's layout from its first line.

    ``make`` makes a sentence from the keywords ``tokens``, ``tags`` (None for a file of one
    column), ``columns``, ``lines``, ``path`` and ``document`` (the ``-DOCSTART-`` lines before it,
    where ``docstart``); :attr:`repairs` counts the lines the rule read, by the keys of
    :data:`~windowclf.formats.conll.REPAIRS`.
    """

    def __init__(self, path, word_column, tag_column, separator, docstart, make: Callable[..., S]):
        self.path = path
        self.make = make
        self.word_column = word_column
        self.tag_column = tag_column
        self.separator = separator
        self.docstart = docstart
        self.n_columns: int | None = None  # set by the first row
        self.first_line: int | None = None
        self.rows: list[list[str]] = []
        self.numbers: list[int] = []
        self.document = 0
        self.repairs: Counter = Counter()  # lines read by the column rule, by REPAIRS key

    def feed(self, number: int, text: str) -> S | None:
        """Take one line (line end already stripped); return a sentence it completes."""
        if not text:
            return self.finish()
        if self.separator is None:
            self.separator = "\t" if "\t" in text else " "
        fields = self._split(number, text)
        if self.docstart and fields[0] == DOCSTART:
            sentence = self.finish()
            self.document += 1
            return sentence
        if self.n_columns is None:
            self._set_layout(number, fields)
        elif len(fields) != self.n_columns:
            hint = "; this line has no TAB, and TABs separate this file's columns" if self.separator == "\t" else ""
            raise InputError(
                f"expected {self.n_columns} columns like line {self.first_line}, found {len(fields)}{hint}",
                path=self.path,
                line=number,
            )
        if not fields[self.word_column]:  # the column rule: no word to tag
            self.repairs["empty"] += 1
            return None
        self.rows.append(fields)
        self.numbers.append(number)
        return None

    def finish(self) -> S | None:
        """Close the open sentence, if any, and return it."""
        if not self.rows:
            return None
        rows, numbers = self.rows, self.numbers
        self.rows, self.numbers = [], []
        tags = [row[self.tag_column] for row in rows] if (self.n_columns or 0) > 1 else None
        return self.make(
            tokens=[row[self.word_column] for row in rows],
            tags=tags,
            columns=rows,
            lines=numbers,
            path=self.path,
            document=self.document,
        )

    def _split(self, number: int, text: str) -> list[str]:
        sep = self.separator
        if sep == " ":
            if "\t" in text:  # the column rule: TABs among the spaces separate as they do
                self.repairs["tabs"] += 1
                return _BLANKS.split(text.strip(" \t"))
            fields = text.split(" ")
            # Runs of spaces (aligned columns) leave empty strings; most files have none.
            return [f for f in fields if f] if "" in fields else fields
        fields = text.split(sep)
        n = len(fields)
        word = self.word_column % n if -n <= self.word_column < n else None  # out of range: _set_layout says so
        if sep == "\t" and " " in text:  # the column rule: spaces around a field go, inside one stay
            stripped = [f.strip(" ") for f in fields]
            if stripped != fields:
                self.repairs["spaces"] += 1
                fields = stripped
            if word is not None and " " in fields[word]:
                self.repairs["inner"] += 1
                fields[word] = fields[word].replace(" ", NO_BREAK_SPACE)
        for i, f in enumerate(fields):
            if " " in f and i != word:
                raise InputError(
                    f"a space inside the field in column {i + 1}; expected one value between TABs",
                    path=self.path,
                    line=number,
                )
            if not f and i != word:  # an empty word is the column rule's (feed leaves the line out)
                raise InputError(
                    f"empty field in column {i + 1}; expected one value between each pair of separators {sep!r}",
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
