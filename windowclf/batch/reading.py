"""The sentences of a segment of an input, read in its form (CoNLL columns, JSON lines, raw text)
as :class:`~windowclf.formats.writers.Tagged` sentences to be tagged (:func:`segment_sentences`);
and a stream's first bytes, read to tell its form, then replayed (:func:`read_head`,
:class:`Replayed`)."""

from __future__ import annotations

import codecs
import io

from windowclf.batch import segments as seg
from windowclf.formats.conll import parse_incr
from windowclf.formats.jsonl import iter_records
from windowclf.formats.sniff import HEAD_BYTES
from windowclf.formats.writers import RecordParts, Tagged
from windowclf.text.reader import text_sentences

__all__ = ["Replayed", "read_head", "segment_sentences"]


def _raw_tagged(tokens, **fields) -> Tagged:
    """A sentence of raw text, to be tagged (what text_sentences makes of each sentence)."""
    return Tagged(tokens, [], **fields)


def _jsonl_tagged(stream, name: str, segment: seg.Segment, options, labels):
    """The sentences of a segment of JSON lines, each tied to its record (RecordParts)."""
    records = iter_records(
        stream,
        name,
        labels=labels,
        encoding=options.encoding,
        tokenizer=options.tokenizer or "conll",
        first_line=segment.line,
    )
    for record in records:
        parts = RecordParts(record, max(1, len(record.sentences)), labels, name)
        if not record.sentences:  # a text without a token: written back as it came, with no entity
            yield Tagged([], [], file=name, record=parts)
            continue
        text = record.text or ""
        for tokens, gold, offsets in record.sentences:
            sentence_text = None if offsets is None else text[offsets[0][0] : offsets[-1][1]]
            yield Tagged(tokens, [], offsets=offsets, text=sentence_text, file=name, gold=gold, record=parts)


def segment_sentences(stream, name: str, segment: seg.Segment, options, layout: dict, repairs=None):
    """The sentences of one segment's bytes (a binary stream) in the form ``options`` (a resolved
    :class:`~windowclf.batch.shards.TagOptions`) reads, named and numbered as in the file (CoNLL
    input: the lines read by the column rule counted in ``repairs``, a Counter, if given)."""
    if options.input_format == "conll":
        for s in parse_incr(
            stream,
            path=name,
            word_column=options.word_column,
            tag_column=options.tag_column,
            encoding=options.encoding,
            separator=options.separator,
            first_line=segment.line,
            layout=layout,
            repairs=repairs,
        ):
            yield Tagged(s.tokens, [], columns=s.columns, file=s.path, document=s.document, gold=s.tags)
        return
    if options.input_format == "jsonl":
        yield from _jsonl_tagged(
            stream, name, segment, options, None if options.labels is None else list(options.labels)
        )
        return
    encoding = options.encoding
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig" if segment.start == 0 else "utf-8"  # a byte-order mark is not text
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # newline="": offsets count \r\n as 2
    try:
        yield from text_sentences(
            text,
            name,
            offset_base=segment.char,
            line_base=segment.line,
            encoding=options.encoding,
            mode=options.sentence_mode,
            make=_raw_tagged,
            tokenizer=options.tokenizer or "conll",
        )
    finally:
        text.detach()


def read_head(raw) -> bytes:
    """Up to HEAD_BYTES of a stream's start (fewer at its end), to tell its form."""
    read = getattr(raw, "read1", raw.read)
    head = b""
    while len(head) < HEAD_BYTES and (piece := read(HEAD_BYTES - len(head))):
        head += piece
    return head


class Replayed(io.RawIOBase):
    """A binary stream: ``head`` (already read from ``raw``), then the rest of ``raw``."""

    def __init__(self, head: bytes, raw):
        super().__init__()
        self.head, self.raw = head, raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = getattr(self.raw, "read1", self.raw.read)(len(buffer))
        buffer[: len(data)] = data
        return len(data)
