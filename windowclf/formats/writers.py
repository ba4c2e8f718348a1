"""Tagged sentences as text: CoNLL columns, inline brackets, JSON lines.

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
from typing import IO

from windowclf._util.printable import file_name
from windowclf.formats.conll import format_sentence
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import one_vs_rest

__all__ = [
    "CONFIDENCE_FORMATS",
    "WRITERS",
    "Tagged",
    "entities",
    "sentence_json",
    "write_conll",
    "write_inline",
    "write_json",
]


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
        or an :class:`~windowclf.text.reader.Offsets` (as
        :func:`~windowclf.text.reader.text_sentences` gives them).
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
    confidences : dict, optional
        (first token, last token) -> the probability of that entity (written in JSON), as
        :meth:`WindowTagger.predict(confidences=True) <windowclf.models.tagger.WindowTagger.predict>`
        gives them.
    """

    tokens: list
    tags: list
    offsets: list | None = None
    text: str | None = None
    columns: list | None = None
    probabilities: list | None = None
    positive: str | None = None
    file: str | None = None
    document: int = 0  # CoNLL: the -DOCSTART- lines before it in its segment; raw text: 0, or its line
    confidences: dict | None = None


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
        base, text = offsets[0][0], s.text or ""
    spans = []
    for etype, start, end in entities(s):
        char_start, char_end = offsets[start][0], offsets[end - 1][1]
        spans.append(
            {
                "type": etype,
                "start": start,
                "end": end,
                "char_start": char_start,
                "char_end": char_end,
                "text": text[char_start - base : char_end - base],
            }
        )
        confidence = None if s.confidences is None else s.confidences.get((start, end - 1))
        if confidence is not None:
            spans[-1]["confidence"] = round(float(confidence), 6)
    record: dict = {}
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


WRITERS = {
    "conll": write_conll,
    "inline": write_inline,
    "json": write_json,
    "entities": write_entities,
    "tokens-json": write_tokens_json,
    "spans-json": write_spans_json,
}
# The formats that print each entity's confidence (predict computes it only for them).
CONFIDENCE_FORMATS = frozenset({"json", "entities"})
