"""Tagged sentences in the JSON lines forms annotation tools and dataset hubs export.

Two forms, one JSON object per line:

- **tokens**: ``{"tokens": ["Anna", "lives"], "ner_tags": ["B-PER", "O"]}``; tags may be integers
  into a label list (the dataset hub's ``ClassLabel`` names), given as ``labels``;
- **spans**: ``{"text": "Anna lives in Oslo.", "entities": [[0, 4, "PER"], [14, 18, "LOC"]]}``
  (character offsets, end exclusive; ``[start, end, label]`` lists or ``{"start", "end", "label"}``
  objects), split into sentences and tokens by the project's tokenizer; an entity whose ends do
  not fall on token boundaries inside one sentence cannot be a tag sequence, so it is left out and
  counted (``ReadReport.unaligned``).

:func:`read_jsonl` detects the form line by line; ``windowclf predict --format tokens-json`` and
``--format spans-json`` write predictions in the same forms (:mod:`windowclf.formats.writers`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from windowclf._util.hashing import open_input
from windowclf.errors import InputError
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import entities_to_tags
from windowclf.text.tokenize import split_sentences

__all__ = ["ReadReport", "looks_like_jsonl", "read_jsonl"]

_MAX_LINE = 64 << 20  # one record: a long document's text, not a whole corpus


@dataclass
class ReadReport:
    """What reading found: records, sentences, entities kept and the span entities left out."""

    records: int = 0
    sentences: int = 0
    entities: int = 0
    unaligned: int = 0
    unaligned_examples: list = field(default_factory=list)  # (line, start, end, label), the first few
    lines: list = field(default_factory=list)  # the line of each sentence's record


def looks_like_jsonl(path) -> bool:
    """Whether ``path``'s name says JSON lines (``.jsonl``, ``.json``, ``.ndjson``)."""
    return str(path).lower().endswith((".jsonl", ".json", ".ndjson"))


def read_jsonl(path, *, labels=None, encoding: str = "utf-8"):
    """Tokens and tags of every sentence of a JSON lines file in either form.

    Returns ``(sentences, tags, report)``; span records become IOB2 tags. Raises InputError naming
    the line for anything else (not JSON, a missing key, lengths that differ, a tag index outside
    ``labels``, offsets outside the text, overlapping entities).
    """
    sentences, tags, report = [], [], ReadReport()
    labels = None if labels is None else list(labels)
    with open_input(path) as f:
        number = 0
        while raw := f.readline(_MAX_LINE + 1):
            number += 1
            if len(raw) > _MAX_LINE:
                raise InputError(
                    f"a line longer than {_MAX_LINE >> 20} MB; expected one JSON record per line", path, number
                )
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode(encoding))
            except (UnicodeDecodeError, ValueError, RecursionError) as err:
                raise InputError(
                    f"not a JSON record ({type(err).__name__}); expected one object per line "
                    '({"tokens": [...], "ner_tags": [...]} or {"text": ..., "entities": [...]})',
                    path,
                    number,
                ) from None
            if not isinstance(record, dict):
                raise InputError(f"a JSON {type(record).__name__}, not an object", path, number)
            report.records += 1
            if "tokens" in record:
                pairs = [_tokens_form(record, labels, path, number)]
            elif "text" in record:
                pairs = _spans_form(record, path, number, report)
            else:
                raise InputError('expected "tokens" and "ner_tags", or "text" and "entities"', path, number)
            for tokens, sentence_tags in pairs:
                sentences.append(tokens)
                tags.append(sentence_tags)
                report.lines.append(number)
                report.sentences += 1
                report.entities += len(entity_spans(sentence_tags))
    if not sentences:
        raise InputError("no sentences; expected JSON records with tokens or text", path)
    return sentences, tags, report


def _tokens_form(record, labels, path, number):
    tokens, raw_tags = record.get("tokens"), record.get("ner_tags", record.get("tags"))
    if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens) or not tokens:
        raise InputError('"tokens" must be a non-empty list of non-empty strings', path, number)
    if not isinstance(raw_tags, list) or len(raw_tags) != len(tokens):
        raise InputError(f'"ner_tags" must be a list of {len(tokens)} tags, one per token', path, number)
    out = []
    for tag in raw_tags:
        if isinstance(tag, bool) or not isinstance(tag, (int, str)):
            raise InputError(f"tag {tag!r} is neither a label nor a label index", path, number)
        if isinstance(tag, int):
            if labels is None:
                raise InputError("tags are label indices; give the label list (--labels B-PER,I-PER,...)", path, number)
            if not 0 <= tag < len(labels):
                raise InputError(f"label index {tag} outside the {len(labels)} labels", path, number)
            tag = labels[tag]
        out.append(tag)
    return tokens, out


def _spans(record, path, number) -> list:
    spans = record.get("entities", record.get("spans", record.get("label", [])))
    if not isinstance(spans, list):
        raise InputError('"entities" must be a list of [start, end, label]', path, number)
    out = []
    for span in spans:
        if isinstance(span, dict):
            span = [
                span.get("start", span.get("start_offset")),
                span.get("end", span.get("end_offset")),
                span.get("label"),
            ]
        if (
            not isinstance(span, list)
            or len(span) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in span[:2])
            or not isinstance(span[2], str)
            or not span[2]
        ):
            raise InputError(f"entity {span!r} is not [start, end, label]", path, number)
        out.append(tuple(span))
    return sorted(out)


def _spans_form(record, path, number, report):
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string', path, number)
    spans = _spans(record, path, number)
    previous_end = 0
    for start, end, label in spans:
        if not 0 <= start < end <= len(text):
            raise InputError(
                f"entity [{start}, {end}, {label!r}] is outside the text of {len(text)} characters", path, number
            )
        if start < previous_end:
            raise InputError(f"entity [{start}, {end}, {label!r}] overlaps the one before it", path, number)
        previous_end = end
    out = []
    placed = set()
    for tokens in split_sentences(text):
        starts = {t.start: i for i, t in enumerate(tokens)}
        ends = {t.end: i for i, t in enumerate(tokens)}
        entities = []
        for start, end, label in spans:
            if start in starts and end in ends and starts[start] <= ends[end]:
                entities.append((label, starts[start], ends[end] + 1))
                placed.add((start, end, label))
        out.append(([t.text for t in tokens], entities_to_tags(entities, len(tokens), "IOB2")))
    for span in spans:
        if span not in placed:
            report.unaligned += 1
            if len(report.unaligned_examples) < 5:
                report.unaligned_examples.append((number,) + span)
    return out
