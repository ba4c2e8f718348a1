"""The user's own gazetteer files: entity strings by type, one a line.

``TYPE<TAB>the entity as written``, e.g. ``LOC<TAB>New York`` or ``ORG<TAB>Deutsche Bank AG``;
blank lines are skipped. The entity is split into words by windowclf's tokenizer
(:func:`~windowclf.text.tokenize.tokenize`), as raw text given to ``predict`` is, so that
``St. Louis`` and ``Smith's`` are the words a sentence holds. Every error names the file and
the line; a string of more words than a gazetteer matches is left out and counted.

>>> import io
>>> found = parse_gazetteer(io.BytesIO(b"LOC\\tNew York\\n\\nPER\\tAnna Keller\\n"), max_words=6)
>>> found.entries, found.too_long
([(['New', 'York'], 'LOC'), (['Anna', 'Keller'], 'PER')], 0)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO

from windowclf._util.hashing import open_input
from windowclf.errors import InputError
from windowclf.formats.lines import numbered_lines
from windowclf.text.tokenize import tokenize

__all__ = ["GazetteerFile", "parse_gazetteer", "read_gazetteer"]

MAX_LINE_LENGTH = 10_000  # an entity string is a name, not a paragraph


@dataclass
class GazetteerFile:
    """What a gazetteer file holds.

    Attributes
    ----------
    entries : list of (list of str, str)
        Each entity string's words and its type, in file order.
    too_long : int
        Strings of more than ``max_words`` words, left out.
    path : str or None
    """

    entries: list = field(default_factory=list)
    too_long: int = 0
    path: str | None = None


def read_gazetteer(path, *, max_words: int, encoding: str = "utf-8") -> GazetteerFile:
    """The entity strings of the gazetteer file ``path`` (see the module's docstring).

    Parameters
    ----------
    path : str or os.PathLike
    max_words : int
        Strings of more words are left out (counted in ``too_long``).
    encoding : str
        Any ASCII-compatible encoding.

    Returns
    -------
    GazetteerFile

    Raises
    ------
    InputError
        A line without a TAB (or nothing but blanks after it), an empty or spaced type, no words
        after the TAB, undecodable or binary data, an over-long line, a file without entries;
        each naming the file and line.
    """
    with open_input(path) as file:
        return parse_gazetteer(file, max_words=max_words, encoding=encoding, path=os.fspath(path))


def parse_gazetteer(file_obj: IO, *, max_words: int, encoding: str = "utf-8", path=None) -> GazetteerFile:
    """:func:`read_gazetteer` of an open binary (or text) stream, named ``path`` in errors."""
    found = GazetteerFile(path=path)
    for number, text in numbered_lines(file_obj, path, encoding, MAX_LINE_LENGTH):
        if not text.strip():
            continue
        etype, tab, entity = text.partition("\t")
        etype = etype.strip()
        if not tab:
            raise InputError("no TAB; expected TYPE<TAB>entity (e.g. LOC<TAB>New York)", path, number)
        if not etype or any(c.isspace() for c in etype):
            raise InputError(f"type {etype!r} must be one word; expected TYPE<TAB>entity", path, number)
        words = [t.text for t in tokenize(entity)]
        if not words:  # blanks an ASCII line end does not strip (no-break spaces)
            raise InputError("no words after the TAB; expected TYPE<TAB>entity", path, number)
        if len(words) > max_words:
            found.too_long += 1
            continue
        found.entries.append((words, etype))
    if not found.entries:
        raise InputError("no entity strings; expected lines of TYPE<TAB>entity", path)
    return found
