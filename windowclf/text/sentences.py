"""Text paragraph by paragraph into sentences: a whole string, or a stream of pieces in bounded memory.

The tokenizer is a parameter, so that this module knows only paragraphs and where their
sentences settle: ``split(text, start, end, base)`` gives the paragraph text[start:end] as
``(texts, starts, ends, firsts)`` (token texts, offsets plus ``base``, and the index of each
sentence's first token), or None when it holds no token; ``make(paragraph, first, stop)``
turns tokens first..stop-1 of it into one sentence. :mod:`windowclf.text.tokenize` passes its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from windowclf.errors import ConfigError, InputError

__all__ = ["PARAGRAPH_BREAKS", "SENTENCE_MODES", "mode_splitting", "sentences_of_text", "stream_sentences"]

_READ_CHARS = 1 << 16

_PARAGRAPH_BREAK_RE = re.compile(r"\n[^\S\n]*\n")
# Every line break str.splitlines knows: where a paragraph (or sentence) per line ends.
_LINE_BREAK_RE = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# how a stream is cut into paragraphs: blank lines (running text), or every line break
PARAGRAPH_BREAKS = {
    "text": _PARAGRAPH_BREAK_RE,
    "paragraph-per-line": _LINE_BREAK_RE,
    "sentence-per-line": _LINE_BREAK_RE,
    "document-per-line": _LINE_BREAK_RE,
}


SENTENCE_MODES = tuple(PARAGRAPH_BREAKS)
"""How raw text is cut into sentences: ``text``, ``paragraph-per-line``, ``sentence-per-line``,
``document-per-line`` (sentences as ``paragraph-per-line``; to a tagger, each line is also a document)."""


def mode_splitting(mode: str, split):
    """(split, breaks) for a sentence ``mode``: the tokenizer's ``split`` (for one sentence per
    line, one that keeps each paragraph, a line, whole) and where paragraphs end."""
    try:
        breaks = PARAGRAPH_BREAKS[mode]
    except (KeyError, TypeError):
        raise ConfigError(f"mode must be one of {', '.join(SENTENCE_MODES)}, got {mode!r}") from None
    if mode != "sentence-per-line":
        return split, breaks

    def whole(text: str, start: int, end: int, base: int):
        paragraph = split(text, start, end, base)
        return None if paragraph is None else paragraph[:3] + ([0],)

    return whole, breaks


def sentences_of_text(text: str, split, make, breaks=_PARAGRAPH_BREAK_RE) -> Iterator:
    """The sentences of a whole string, paragraph by paragraph (paragraphs end at ``breaks``)."""
    start = 0
    for match in breaks.finditer(text):
        yield from _paragraph_sentences(text, start, match.start(), 0, split, make)
        start = match.end()
    yield from _paragraph_sentences(text, start, len(text), 0, split, make)


def stream_sentences(
    lines_or_file, offset_base: int, max_chars: int, split, make, breaks=_PARAGRAPH_BREAK_RE
) -> Iterator:
    """The sentences of a text stream, yielded as they settle; see :func:`windowclf.text.tokenize.iter_sentences`.

    ``max_chars`` is checked at the call, not at the first ``next``.
    """
    if max_chars < 1:
        raise ConfigError(f"max_chars must be positive, got {max_chars}")
    path = getattr(lines_or_file, "name", None)
    return _sentences_of_pieces(_pieces(lines_or_file, path), offset_base, max_chars, split, make, breaks)


def _pieces(source, path) -> Iterator[str]:
    if isinstance(source, str):
        yield source
        return
    if hasattr(source, "read"):
        while True:
            block = source.read(_READ_CHARS)
            if not block:
                return
            if not isinstance(block, str):
                raise InputError("lines_or_file gave bytes; open the file in text mode", path=path)
            yield block
    if not isinstance(source, Iterable):
        raise InputError(f"lines_or_file must be a text stream or an iterable of str, got {type(source).__name__}")
    for number, piece in enumerate(source, start=1):
        if not isinstance(piece, str):
            raise InputError(
                f"lines_or_file gave a {type(piece).__name__}; expected str pieces", path=path, line=number
            )
        yield piece


def _sentences_of_pieces(pieces: Iterator[str], offset_base: int, max_chars: int, split, make, breaks) -> Iterator:
    # buf[:para] is at most one character already consumed, kept because a token's
    # look-behind (a list marker must follow a newline) reads it; base is buf[0]'s offset.
    # buf[blank_from:] is whitespace: a blank line straddling the next seam starts there.
    buf, base, para, blank_from = "", offset_base, 0, 0
    limit = max_chars
    for piece in pieces:
        if not piece:
            continue
        search_from = max(para, blank_from)
        if not piece.isspace():
            blank_from = len(buf) + len(piece.rstrip())
        buf += piece
        for match in breaks.finditer(buf, search_from):
            yield from _paragraph_sentences(buf, para, match.start(), base, split, make)
            para = match.end()
        if len(buf) - para > limit:
            para = yield from _emit_settled(buf, para, base, max_chars, split, make)
            # Doubling when little was settled (one giant token) keeps the re-scans linear.
            limit = max(max_chars, 2 * (len(buf) - para))
        if para > 1:
            drop = para - 1
            base += drop
            buf = buf[drop:]
            para, blank_from = 1, max(blank_from - drop, 0)
    yield from _paragraph_sentences(buf, para, len(buf), base, split, make)


def _emit_settled(buf: str, start: int, base: int, max_chars: int, split, make):
    """Yield the sentences of an unfinished paragraph that later text cannot change.

    Returns the index in ``buf`` where the unsettled rest begins. A token followed by
    whitespace and then more text is final (no rule looks past the next non-space
    character), so every token before the last one that follows whitespace (index
    ``last_gap``) is final, and so is every sentence boundary decided by final tokens
    alone. Only when no boundary is settled and the text still exceeds ``max_chars`` is
    the sentence broken, before ``tokens[last_gap]``.
    """
    paragraph = split(buf, start, len(buf), base)
    if paragraph is None:
        return len(buf)
    _, starts, ends, firsts = paragraph
    last_gap = 0
    for index in range(len(starts) - 1, 0, -1):
        if starts[index] > ends[index - 1]:
            last_gap = index
            break
    bounds = firsts + [len(starts)]
    # A boundary is settled when the sentence after it starts before tokens[last_gap - 1].
    n_settled = sum(1 for next_start in firsts[1:] if next_start <= last_gap - 1)
    if n_settled:
        for k in range(n_settled):
            yield make(paragraph, bounds[k], bounds[k + 1])
        return starts[firsts[n_settled]] - base
    first = starts[0] - base
    if len(buf) - first <= max_chars or last_gap == 0:
        return first
    for k, sentence_start in enumerate(firsts):
        if sentence_start < last_gap:
            yield make(paragraph, sentence_start, min(bounds[k + 1], last_gap))
    return starts[last_gap] - base


def _paragraph_sentences(text: str, start: int, end: int, base: int, split, make) -> list:
    """Tokenize text[start:end] (one paragraph) and split it into sentences (made by ``make``)."""
    paragraph = split(text, start, end, base)
    if paragraph is None:
        return []
    bounds = paragraph[3] + [len(paragraph[0])]
    return [make(paragraph, bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]
