"""Tagged sentences as text: CoNLL columns, inline brackets, JSON lines; raw text read into sentences.

>>> import io
>>> out = io.StringIO()
>>> s = Tagged(["John", "Smith", "visited", "Paris", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"])
>>> write_inline(out, s)
>>> out.getvalue()
'[PER John Smith] visited [LOC Paris] .\\n'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from collections.abc import Sequence
from typing import IO, Iterator

from .conll import format_sentence
from .errors import InputError
from .printable import file_name
from .schemes import OUTSIDE, get_entities
from .sentence_stream import PARAGRAPH_BREAKS
from .tokenize import iter_sentence_spans

__all__ = ["Tagged", "Offsets", "text_sentences", "entities", "write_conll", "write_inline", "write_json",
           "sentence_json", "WRITERS", "CONFIDENCE_FORMATS"]


_LINE_BREAK = PARAGRAPH_BREAKS["document-per-line"]  # where one of its lines (documents) ends


@dataclass
class Tagged:
    """One predicted sentence and what is known about where it came from.

    Attributes
    ----------
    tokens : list of str, length n_tokens
    tags : list of str, length n_tokens
        Predicted tags.
    offsets : sequence of (int, int), optional
        Character offsets of each token into the input file's text (raw text input): a list,
        or an :class:`Offsets` (as :func:`text_sentences` gives them).
    text : str, optional
        The sentence as written in the input, from its first token's start to its last's end.
    columns : list of list of str, optional
        The input file's fields of each token (CoNLL input); written before the predicted tag.
    probabilities : list of float, optional
        P(positive class) per token (sigmoid output).
    negative : str
        The tag that means "no entity" (``O``, or ``0`` for a 0/1 detector).
    file : str, optional
        Where the sentence came from.
    document : int
        Which document of its part of the input it belongs to (features that read the document).
    confidences : dict, optional
        (first token, last token) -> the probability of that entity (written in JSON).
    """

    tokens: list
    tags: list
    offsets: list | None = None
    text: str | None = None
    columns: list | None = None
    probabilities: list | None = None
    negative: str = OUTSIDE
    file: str | None = None
    document: int = 0  # CoNLL: the -DOCSTART- lines before it in its segment; raw text: 0, or its line
    confidences: dict | None = None


def text_sentences(stream: IO[str], name: str | None = None, *, offset_base: int = 0, line_base: int = 1,
                   encoding: str | None = None, mode: str = "text") -> Iterator[Tagged]:
    """Sentences of raw text, read in blocks, each with its token offsets and its original text.

    Offsets count characters of the decoded stream (open files with ``newline=""`` so that
    ``\\r\\n`` counts as two), plus ``offset_base``; a stream that is part of a file passes the
    characters before it, and the number of its first line (``line_base``) for errors, which name
    ``encoding`` (default: the stream's). Only the text that later sentences may still need is
    held, and what they no longer need until it is most of what is held. ``mode`` is one of
    :data:`~windowclf.tokenize.SENTENCE_MODES` (one sentence, or paragraph, per line). Sentences
    are of document 0, or with ``document-per-line`` numbered by line from 0 (lines with no token
    take no number), so that the documents of a stream's sentences are those of its lines.

    >>> import io
    >>> [(s.tokens, s.offsets[-1], s.text) for s in text_sentences(io.StringIO("Oslo is cold.  Rome too."))]
    [(['Oslo', 'is', 'cold', '.'], (12, 13), 'Oslo is cold.'), (['Rome', 'too', '.'], (23, 24), 'Rome too.')]
    >>> [s.document for s in text_sentences(io.StringIO("A b. C.\\n\\nD.\\nE."), mode="document-per-line")]
    [0, 0, 1, 2]
    """
    text = _TextWindow(stream, name, offset_base, line_base, encoding)
    per_line = mode == "document-per-line"
    document, end = 0, None
    for tokens, starts, ends in iter_sentence_spans(text.pieces(), offset_base=offset_base, mode=mode):
        if per_line and end is not None and text.breaks_line(end, starts[0]):
            document += 1
        end = ends[-1]
        yield Tagged(tokens, None, offsets=Offsets(starts, ends), text=text.take(starts[0], end), file=name,
                     document=document)


class Offsets(Sequence):
    """The (start, end) character offsets of a sentence's tokens, made into pairs when read.

    A sequence of tuples, equal to the list of them; it holds the two lists of numbers, so that
    a tagged file's sentences need no tuple per token unless a writer asks for the offsets.

    >>> Offsets([0, 5], [4, 7]) == [(0, 4), (5, 7)], Offsets([0, 5], [4, 7])[-1]
    (True, (5, 7))
    """

    __slots__ = ("starts", "ends")

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

    __hash__ = None

    def __repr__(self) -> str:
        return repr(list(self))


def _undecodable_line(raw, start: int, encoding: str) -> int | None:
    """1-based line, counted from byte ``start``, of the first line ``encoding`` cannot decode."""
    try:
        raw.seek(start)
        for number, line in enumerate(raw, 1):
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
        # A text stream decodes in blocks, so its errors do not say which line failed; when its bytes
        # can be read again (a file), a rescan on the error path finds the line.
        raw = getattr(stream, "buffer", None)
        self.raw_start = raw.tell() if raw is not None and raw.seekable() else None

    def pieces(self) -> Iterator[str]:
        while True:
            try:
                block = self.stream.read(1 << 16)
            except UnicodeDecodeError as err:
                raise InputError(f"cannot decode the text as {self.encoding} ({err.reason}); pass --encoding",
                                 self.name, self._undecodable_line()) from None
            if not block:
                return
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
        piece = self.buf[start - self.base:end - self.base]
        # Drop the text before ``end`` once it is most of the buffer: dropping it at every
        # sentence would copy the rest of the block each time.
        if 2 * (end - self.base) > len(self.buf):
            self.buf, self.base = self.buf[end - self.base:], end
        return piece


def entities(tags: Sequence[str], negative: str = OUTSIDE) -> list:
    """(type, first token, last token) of each entity, read with conlleval's rules.

    >>> entities(["0", "1", "1", "0"], negative="0")
    [('1', 1, 2)]
    """
    if negative != OUTSIDE:
        tags = [OUTSIDE if t == negative else t for t in tags]
    return get_entities(tags)


def write_conll(out: IO[str], s: Tagged) -> None:
    """``token TAB tag`` (or the input's fields TAB tag), a blank line after the sentence."""
    rows = zip(s.tokens, s.tags) if s.columns is None else [row + [tag] for row, tag in zip(s.columns, s.tags)]
    out.write(format_sentence(rows, "\t"))


def write_inline(out: IO[str], s: Tagged) -> None:
    """One line a sentence, entities bracketed with their type: ``[PER John Smith] visited``.

    Raw text keeps its own spacing between tokens (line breaks inside a sentence become spaces,
    so each sentence stays on one line); CoNLL input joins its tokens with single spaces.
    """
    found = entities(s.tags, s.negative)
    if s.offsets is None or s.text is None:
        words = list(s.tokens)
        for etype, first, last in found:
            words[first] = f"[{etype} {words[first]}"
            words[last] = f"{words[last]}]"
        out.write(" ".join(words) + "\n")
        return
    offsets = [tuple(o) for o in s.offsets]
    base, pieces, cursor = offsets[0][0], [], offsets[0][0]
    opening = {first: etype for etype, first, _ in found}
    closing = {last for _, _, last in found}
    for i, (start, end) in enumerate(offsets):
        pieces.append(s.text[cursor - base:start - base])
        if i in opening:
            pieces.append(f"[{opening[i]} ")
        pieces.append(s.text[start - base:end - base])
        if i in closing:
            pieces.append("]")
        cursor = end
    out.write(_one_line("".join(pieces)) + "\n")


def _one_line(text: str) -> str:
    return " ".join(text.splitlines()) if len(text.splitlines()) > 1 else text


def write_json(out: IO[str], s: Tagged) -> None:
    """One JSON object a line; see :func:`sentence_json`."""
    out.write(json.dumps(sentence_json(s), ensure_ascii=False) + "\n")


def sentence_json(s: Tagged) -> dict:
    """A sentence as a JSON-ready dict.

    Keys: ``tokens``, ``tags``, ``entities`` (``type``, token ``start``/``end`` with ``end``
    exclusive, ``char_start``/``char_end``, ``text``), ``text`` (the sentence), and for raw
    text input ``file``, ``start``/``end`` and per-token ``offsets``. Character offsets index
    the input file's text for raw input (so ``file_text[char_start:char_end]`` is the entity),
    and the sentence's ``text`` (tokens joined by single spaces) for CoNLL input. With a
    sigmoid model, ``probabilities`` holds P(positive) per token; with ``confidences``, each
    entity the model read as one has its ``confidence`` (its probability under the model).
    """
    if s.offsets is None:
        text = " ".join(s.tokens)
        offsets, cursor = [], 0
        for token in s.tokens:
            offsets.append((cursor, cursor + len(token)))
            cursor += len(token) + 1
        base = 0
    else:
        offsets = [tuple(o) for o in s.offsets]
        base, text = offsets[0][0], s.text
    spans = []
    for etype, first, last in entities(s.tags, s.negative):
        char_start, char_end = offsets[first][0], offsets[last][1]
        spans.append({"type": etype, "start": first, "end": last + 1, "char_start": char_start,
                      "char_end": char_end, "text": text[char_start - base:char_end - base]})
        confidence = None if s.confidences is None else s.confidences.get((first, last))
        if confidence is not None:
            spans[-1]["confidence"] = round(float(confidence), 6)
    record = {}
    if s.file is not None:
        record["file"] = file_name(s.file)  # valid Unicode: a name's undecodable bytes as \xNN
    record["text"] = text
    if s.offsets is not None:
        record.update(start=offsets[0][0], end=offsets[-1][1], offsets=[list(o) for o in offsets])
    record.update(tokens=list(s.tokens), tags=list(s.tags), entities=spans)
    if s.probabilities is not None:
        record["probabilities"] = [round(float(p), 6) for p in s.probabilities]
    return record


def write_entities(out: IO[str], s: Tagged) -> None:
    """One JSON object per entity (sentences without one write nothing): the entity as
    :func:`sentence_json` lists it, with the ``file`` it came from when known."""
    record = sentence_json(s)
    for entity in record["entities"]:
        if "file" in record:
            entity = {"file": record["file"], **entity}
        out.write(json.dumps(entity, ensure_ascii=False) + "\n")


def write_tokens_json(out: IO[str], s: Tagged) -> None:
    """``{"tokens": [...], "ner_tags": [...]}`` a line: the form dataset hubs use (see jsonl.py)."""
    out.write(json.dumps({"tokens": list(s.tokens), "ner_tags": list(s.tags)}, ensure_ascii=False) + "\n")


def write_spans_json(out: IO[str], s: Tagged) -> None:
    """``{"text": ..., "entities": [[start, end, label], ...]}`` a line, offsets into that text: the
    form annotation tools export (see jsonl.py)."""
    record = sentence_json(s)
    base = record.get("start", 0)
    spans = [[e["char_start"] - base, e["char_end"] - base, e["type"]] for e in record["entities"]]
    out.write(json.dumps({"text": record["text"], "entities": spans}, ensure_ascii=False) + "\n")


WRITERS = {"conll": write_conll, "inline": write_inline, "json": write_json, "entities": write_entities,
           "tokens-json": write_tokens_json, "spans-json": write_spans_json}
# The formats that print each entity's confidence (predict computes it only for them).
CONFIDENCE_FORMATS = frozenset({"json", "entities"})
