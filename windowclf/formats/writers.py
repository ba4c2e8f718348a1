"""Tagged sentences as text: CoNLL columns, inline brackets, JSON lines.

Every writer that carries entities takes them from :meth:`Tagged.records`: the one entity record
(:class:`~windowclf.tags.record.Entity`) of the sentence.

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
from typing import IO, Any

from windowclf._util.printable import file_name
from windowclf.formats.conll import format_sentence
from windowclf.formats.jsonl import record_with_predictions
from windowclf.tags.entities import entity_spans
from windowclf.tags.record import sentence_entities
from windowclf.tags.schemes import one_vs_rest

__all__ = [
    "CONFIDENCE_FORMATS",
    "INPUT_FORM_FORMATS",
    "WRITERS",
    "RecordParts",
    "Tagged",
    "entities",
    "sentence_json",
    "write_conll",
    "write_inline",
    "write_json",
    "write_jsonl",
]

CONFIDENCE_DIGITS = 6  # the confidences written: enough to tell entities apart, short enough to read


@dataclass
class Tagged:
    """One predicted sentence and what is known about where it came from.

    Attributes
    ----------
    tokens : list of str, length n_tokens
    tags : list of str, length n_tokens
        Predicted tags.
    offsets : sequence of (int, int), optional
        Character offsets of each token into the input's text (raw text input: the file's text;
        JSON lines: the record's ``text``): a list, or an :class:`~windowclf.text.reader.Offsets`
        (as :func:`~windowclf.text.reader.text_sentences` gives them).
    text : str, optional
        The sentence as written in the input, from its first token's start to its last's end.
    columns : list of list of str, optional
        The input file's fields of each token (CoNLL input); written before the predicted tag.
    probabilities : list of float, optional
        P(positive class) per token (sigmoid output).
    positive : str, optional
        A one-vs-rest model's class: the tags are read through
        :func:`~windowclf.tags.schemes.one_vs_rest` (``O`` or ``0`` is no entity); None: as given.
    file : str, optional
        Where the sentence came from.
    document : int
        Which document of its part of the input it belongs to (features that read the document).
    found : list of (label, token_start, token_end, confidence), optional
        The entities as the model read them, with their probabilities (``predict(confidences=True)``);
        None: read from ``tags``, without confidences.
    sentence : int
        Its index among the sentences of its input (0-based).
    gold : list of str, optional
        The input's own tags of the sentence (tagged input).
    record : RecordParts, optional
        JSON lines input: the record the sentence is part of.
    """

    tokens: list
    tags: list
    offsets: Any = None
    text: str | None = None
    columns: list | None = None
    probabilities: list | None = None
    positive: str | None = None
    file: str | None = None
    document: int = 0  # CoNLL: the -DOCSTART- lines before it in its segment; raw text: 0, or its line
    found: list | None = None
    sentence: int = 0
    gold: list | None = None
    record: Any = None

    def records(self) -> list:
        """The sentence's entities as :class:`~windowclf.tags.record.Entity` records."""
        found = self.found if self.found is not None else [(*e, None) for e in entities(self)]
        offsets = None if self.offsets is None else [tuple(o) for o in self.offsets]
        return sentence_entities(
            self.tokens,
            found,
            sentence=self.sentence,
            offsets=offsets,
            text=self.text,
            text_start=offsets[0][0] if offsets else 0,
            file=None if self.file is None else file_name(self.file),
        )


class RecordParts:
    """A JSON lines record being tagged sentence by sentence: its predictions gathered until the
    last of its ``count`` sentences is written (see :func:`write_jsonl`)."""

    def __init__(self, record, count: int, labels=None, path=None):
        self.record, self.count, self.labels, self.path = record, count, labels, path
        self.tags: list = []
        self.entities: list = []

    def add(self, s: Tagged) -> bool:
        """Take one sentence's predictions; True once the record has them all."""
        self.tags.append(list(s.tags))
        self.entities.append(s.records())
        return len(self.tags) == self.count


def entities(s: Tagged) -> list:
    """(type, start, end) of each entity of ``s`` (``end`` exclusive), read as its model reads them.

    >>> entities(Tagged(["a", "b", "c", "d"], ["0", "1", "1", "0"], positive="1"))
    [('1', 1, 3)]
    """
    return entity_spans(s.tags if s.positive is None else one_vs_rest(s.tags, s.positive))


def write_conll(out: IO[str], s: Tagged) -> None:
    """``token TAB tag`` (or the input's fields TAB tag), a blank line after the sentence."""
    rows = zip(s.tokens, s.tags) if s.columns is None else [row + [tag] for row, tag in zip(s.columns, s.tags)]
    out.write(format_sentence(rows, "\t"))


def write_inline(out: IO[str], s: Tagged) -> None:
    """One line a sentence, entities bracketed with their type: ``[PER John Smith] visited``.

    Raw text keeps its own spacing between tokens (line breaks inside a sentence become spaces,
    so each sentence stays on one line); CoNLL input joins its tokens with single spaces.
    """
    found = entities(s)
    if s.offsets is None or s.text is None:
        words = list(s.tokens)
        for etype, start, end in found:
            words[start] = f"[{etype} {words[start]}"
            words[end - 1] = f"{words[end - 1]}]"
        out.write(" ".join(words) + "\n")
        return
    offsets = [tuple(o) for o in s.offsets]
    base, pieces, cursor = offsets[0][0], [], offsets[0][0]
    opening = {start: etype for etype, start, _ in found}
    closing = {end - 1 for _, _, end in found}
    for i, (start, end) in enumerate(offsets):
        pieces.append(s.text[cursor - base : start - base])
        if i in opening:
            pieces.append(f"[{opening[i]} ")
        pieces.append(s.text[start - base : end - base])
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

    Keys: ``file`` (where it came from a file), ``sentence`` (its index), for input with a text
    (raw text, JSON lines texts) ``text`` (the sentence as written), ``char_start`` / ``char_end``
    (where it is in the input's text) and ``offsets`` (each token's ``[char_start, char_end]``),
    then ``tokens``, ``tags`` and ``entities`` (:meth:`Entity.to_dict
    <windowclf.tags.record.Entity.to_dict>`, confidences to 6 decimals). With a sigmoid model,
    ``probabilities`` holds P(positive) per token.
    """
    record: dict = {}
    if s.file is not None:
        record["file"] = file_name(s.file)  # valid Unicode: a name's undecodable bytes as \\xNN
    record["sentence"] = s.sentence
    if s.offsets is not None:
        offsets = [tuple(o) for o in s.offsets]
        record.update(text=s.text or "", char_start=offsets[0][0], char_end=offsets[-1][1])
        record["offsets"] = [list(o) for o in offsets]
    record.update(tokens=list(s.tokens), tags=list(s.tags))
    record["entities"] = [e.to_dict(digits=CONFIDENCE_DIGITS) for e in s.records()]
    if s.probabilities is not None:
        record["probabilities"] = [round(float(p), CONFIDENCE_DIGITS) for p in s.probabilities]
    return record


def write_entities(out: IO[str], s: Tagged) -> None:
    """One JSON object per entity (sentences without one write nothing): :meth:`Entity.to_dict
    <windowclf.tags.record.Entity.to_dict>`, confidences to 6 decimals."""
    for entity in s.records():
        out.write(json.dumps(entity.to_dict(digits=CONFIDENCE_DIGITS), ensure_ascii=False) + "\n")


def write_tokens_json(out: IO[str], s: Tagged) -> None:
    """``{"tokens": [...], "ner_tags": [...]}`` a line: the form dataset hubs use (see jsonl.py)."""
    out.write(json.dumps({"tokens": list(s.tokens), "ner_tags": list(s.tags)}, ensure_ascii=False) + "\n")


def write_spans_json(out: IO[str], s: Tagged) -> None:
    """``{"text": ..., "entities": [[start, end, label], ...]}`` a line, offsets into that text (the
    sentence as written; for input that was tokens, its tokens joined by single spaces): the form
    annotation tools export, which ``train`` reads back (see jsonl.py)."""
    if s.offsets is not None:
        text, base = s.text or "", s.offsets[0][0]
        spans = [[e.char_start - base, e.char_end - base, e.label] for e in s.records()]
    else:
        text = " ".join(s.tokens)
        starts = [0]
        for token in s.tokens:
            starts.append(starts[-1] + len(token) + 1)
        spans = [[starts[e.token_start], starts[e.token_end] - 1, e.label] for e in s.records()]
    out.write(json.dumps({"text": text, "entities": spans}, ensure_ascii=False) + "\n")


def write_jsonl(out: IO[str], s: Tagged) -> None:
    """JSON lines input written back in its own form, record by record: each record as read, its
    tags (``{"tokens", "ner_tags"}``: label indices stay indices) or its entities (``{"text",
    "entities"}``: spans written as the record wrote them, offsets into its text) replaced by the
    predictions (:func:`~windowclf.formats.jsonl.record_with_predictions`). A record is written once
    its last sentence is."""
    parts = s.record
    if parts is None:
        raise ValueError("write_jsonl writes JSON lines input back: the sentence has no record")
    if parts.add(s):
        record = record_with_predictions(parts.record, parts.tags, parts.entities, parts.labels, parts.path)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


WRITERS = {
    "conll": write_conll,
    "inline": write_inline,
    "json": write_json,
    "entities": write_entities,
    "tokens-json": write_tokens_json,
    "spans-json": write_spans_json,
    "jsonl": write_jsonl,
}
# The formats that print each entity's confidence (predict computes it only for them).
CONFIDENCE_FORMATS = frozenset({"json", "entities"})
# The formats that write JSON lines input back in its own form (and only that input).
INPUT_FORM_FORMATS = frozenset({"jsonl"})
