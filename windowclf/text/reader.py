"""Raw text read from a stream into sentences in bounded memory, each with its tokens' character
offsets, its own text and its document: what ``windowclf predict`` tags."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import IO, NamedTuple

from windowclf.errors import InputError
from windowclf.text.sentences import PARAGRAPH_BREAKS
from windowclf.text.tokenize import iter_sentence_spans

__all__ = ["Offsets", "TextSentence", "text_sentences"]

_LINE_BREAK = PARAGRAPH_BREAKS["document-per-line"]  # where one of its lines (documents) ends


class TextSentence(NamedTuple):
    """One sentence of raw text: its tokens, their (start, end) offsets, its text as written
    (first token's start to last token's end), the stream's name and its document."""

    tokens: list
    offsets: Sequence
    text: str
    file: str | None = None
    document: int = 0


def text_sentences(
    stream: IO[str],
    name: str | None = None,
    *,
    offset_base: int = 0,
    line_base: int = 1,
    encoding: str | None = None,
    mode: str = "text",
    make=TextSentence,
    tokenizer: str = "conll",
) -> Iterator:
    """Sentences of raw text, read in blocks, each with its token offsets and its original text.

    Offsets count characters of the decoded stream (open files with ``newline=""`` so that
    ``\\r\\n`` counts as two), plus ``offset_base``; a stream that is part of a file passes the
    characters before it, and the number of its first line (``line_base``) for errors, which name
    ``encoding`` (default: the stream's). Only the text that later sentences may still need is
    held, and what they no longer need until it is most of what is held. ``mode`` is one of
    :data:`~windowclf.text.sentences.SENTENCE_MODES` (one sentence, or paragraph, per line) and
    ``tokenizer`` one of :data:`~windowclf.text.tokenize.TOKENIZERS`. Sentences
    are of document 0, or with ``document-per-line`` numbered by line from 0 (lines with no token
    take no number), so that the documents of a stream's sentences are those of its lines. Each
    sentence is ``make(tokens, offsets=, text=, file=, document=)``: a :class:`TextSentence`, or
    the caller's own record.

    >>> import io
    >>> [(s.tokens, s.offsets[-1], s.text) for s in text_sentences(io.StringIO("Oslo is cold.  Rome too."))]
    [(['Oslo', 'is', 'cold', '.'], (12, 13), 'Oslo is cold.'), (['Rome', 'too', '.'], (23, 24), 'Rome too.')]
    >>> [s.document for s in text_sentences(io.StringIO("A b. C.\\n\\nD.\\nE."), mode="document-per-line")]
    [0, 0, 1, 2]
    """
    text = _TextWindow(stream, name, offset_base, line_base, encoding)
    per_line = mode == "document-per-line"
    document, end = 0, None
    spans = iter_sentence_spans(text.pieces(), offset_base=offset_base, mode=mode, tokenizer=tokenizer)
    for tokens, starts, ends in spans:
        if per_line and end is not None and text.breaks_line(end, starts[0]):
            document += 1
        end = ends[-1]
        yield make(tokens, offsets=Offsets(starts, ends), text=text.take(starts[0], end), file=name, document=document)


class Offsets(Sequence):
    """The (start, end) character offsets of a sentence's tokens, made into pairs when read.

    A sequence of tuples, equal to the list of them; it holds the two lists of numbers, so that
    a tagged file's sentences need no tuple per token unless a writer asks for the offsets.

    >>> Offsets([0, 5], [4, 7]) == [(0, 4), (5, 7)], Offsets([0, 5], [4, 7])[-1]
    (True, (5, 7))
    """

    __slots__ = ("ends", "starts")

    def __init__(self, starts: list, ends: list):
        self.starts, self.ends = starts, ends

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return list(zip(self.starts[index], self.ends[index]))
        return self.starts[index], self.ends[index]

    def __iter__(self):
        return zip(self.starts, self.ends)

    def __eq__(self, other) -> bool:
        if isinstance(other, Offsets):
            return self.starts == other.starts and self.ends == other.ends
        return isinstance(other, Sequence) and list(self) == [tuple(pair) for pair in other]

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable as they are

    def __repr__(self) -> str:
        return repr(list(self))


def _undecodable_line(raw, start: int, encoding: str) -> int | None:
    """1-based line, counted from byte ``start``, of the first line ``encoding`` cannot decode."""
    try:
        raw.seek(start)
        for number, line in enumerate(raw, 1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError:
                return number
    except (OSError, LookupError, ValueError):
        pass
    return None


class _TextWindow:
    """The text read from a stream that sentences still to come may need."""

    def __init__(self, stream, name, base=0, line_base=1, encoding=None):
        self.stream, self.name, self.line_base = stream, name, line_base
        self.encoding = encoding or getattr(stream, "encoding", None) or "the given encoding"
        self.buf, self.base = "", base
        self.newlines = 0  # line feeds read so far, for the line an error names
        # A text stream decodes in blocks, so its errors do not say which line failed; when its bytes
        # can be read again (a file), a rescan on the error path finds the line.
        raw = getattr(stream, "buffer", None)
        self.raw_start = raw.tell() if raw is not None and raw.seekable() else None

    def pieces(self) -> Iterator[str]:
        while True:
            try:
                block = self.stream.read(1 << 16)
            except UnicodeDecodeError as err:
                raise InputError(
                    f"cannot decode the text as {self.encoding} ({err.reason}); pass --encoding",
                    self.name,
                    self._undecodable_line(),
                ) from None
            if not block:
                return
            nul = block.find("\x00")
            if nul >= 0:  # no text holds one: binary data, which would be tagged as prose
                line = self.line_base + self.newlines + block.count("\n", 0, nul)
                raise InputError("binary data (a NUL character); expected text: is this a text file?", self.name, line)
            self.newlines += block.count("\n")
            self.buf += block
            yield block

    def _undecodable_line(self) -> int | None:
        if self.raw_start is None:
            return None
        number = _undecodable_line(self.stream.buffer, self.raw_start, self.stream.encoding)
        return None if number is None else number + self.line_base - 1

    def breaks_line(self, start: int, end: int) -> bool:
        """Whether text[start:end] holds a line break (``start``: at or after the last take's end)."""
        return _LINE_BREAK.search(self.buf, start - self.base, end - self.base) is not None

    def take(self, start: int, end: int) -> str:
        """text[start:end], forgetting everything before ``end`` (sentences come in order)."""
        piece = self.buf[start - self.base : end - self.base]
        # Drop the text before ``end`` once it is most of the buffer: dropping it at every
        # sentence would copy the rest of the block each time.
        if 2 * (end - self.base) > len(self.buf):
            self.buf, self.base = self.buf[end - self.base :], end
        return piece
