"""Tagged sentences in the JSON lines forms annotation tools and dataset hubs export.

Two forms, one JSON object per line:

- **tokens**: ``{"tokens": ["Anna", "lives"], "ner_tags": ["B-PER", "O"]}`` (or ``"tags"``); tags
  may be integers into a label list (the dataset hub's ``ClassLabel`` names), given as ``labels``;
- **spans**: ``{"text": "Anna lives in Oslo.", "entities": [[0, 4, "PER"], [14, 18, "LOC"]]}``
  (or ``"spans"``, or doccano's ``"label"``; character offsets, end exclusive; ``[start, end,
  label]`` lists or objects with ``start``/``end`` (``start_offset``/``end_offset``,
  ``char_start``/``char_end``) and ``label``), split into sentences and tokens by a tokenizer
  (:data:`~windowclf.text.tokenize.TOKENIZERS`); an entity whose ends do not fall on token
  boundaries inside one sentence cannot be a tag sequence, so it is left out and counted
  (``ReadReport.unaligned``).

Every token, tag and label is checked as a CoNLL file's fields are (:func:`~windowclf.formats.fields.check_field`),
and every error names the file and the line. :func:`read_jsonl` reads a whole file of tagged
records (``train``, ``evaluate``); :func:`iter_records` reads a stream record by record, tags
optional (``predict``, which can write each record back in its own form: :func:`record_with_predictions`).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from windowclf.errors import InputError
from windowclf.formats.fields import check_field
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import entities_to_tags
from windowclf.text.tokenize import check_tokenizer, split_sentences

__all__ = [
    "JsonRecord",
    "ReadReport",
    "iter_records",
    "looks_like_jsonl",
    "read_jsonl",
    "record_with_predictions",
]

MAX_LINE = 64 << 20  # one record: a long document's text, not a whole corpus
_SUFFIXES = (".jsonl", ".json", ".ndjson")
_TAG_KEYS = ("ner_tags", "tags")
_SPAN_KEYS = ("entities", "spans", "label")
_OFFSET_KEYS = (("start", "end"), ("start_offset", "end_offset"), ("char_start", "char_end"))
_EXPECTED = '({"tokens": [...], "ner_tags": [...]} or {"text": ..., "entities": [...]})'


@dataclass
class ReadReport:
    """What reading found: records, sentences (and the line of each that :func:`read_jsonl` keeps),
    entities kept and the span entities left out."""

    records: int = 0
    sentences: int = 0
    entities: int = 0
    unaligned: int = 0
    unaligned_examples: list = field(default_factory=list)  # (line, start, end, label), the first few
    lines: list = field(default_factory=list)  # read_jsonl: the line of each sentence kept
    texts: int = 0  # records of the spans form: texts a tokenizer split


@dataclass
class JsonRecord:
    """One record of a JSON lines file and its sentences.

    Attributes
    ----------
    line : int
        Its 1-based line in the file.
    record : dict
        The object as read.
    form : {"tokens", "spans"}
    sentences : list of (tokens, tags, offsets)
        Each sentence's tokens, its tags (None where the record has none: ``predict`` input) and,
        for the spans form, each token's (start, end) in the record's ``text`` (else None).
    integer_tags : bool
        The record's tags were label indices.
    entity_shape : tuple
        The spans form's way of writing an entity: ``("list",)``, or ``("dict", start key, end
        key)``, as its first entity was written.
    """

    line: int
    record: dict
    form: str
    sentences: list
    integer_tags: bool = False
    entity_shape: tuple = ("list",)

    @property
    def text(self) -> str | None:
        """The spans form's text."""
        return self.record.get("text") if self.form == "spans" else None


def looks_like_jsonl(path) -> bool:
    """Whether ``path``'s name says JSON lines (``.jsonl``, ``.json``, ``.ndjson``)."""
    return str(path).lower().endswith(_SUFFIXES)


def read_jsonl(path, *, labels=None, encoding: str = "utf-8", tokenizer: str = "conll"):
    """Tokens and tags of every sentence of a JSON lines file in either form.

    Returns ``(sentences, tags, report)``; span records become IOB2 tags (their text split by
    ``tokenizer``). Raises InputError naming the line for anything else (not JSON, a missing key,
    lengths that differ, a tag index outside ``labels``, offsets outside the text, overlapping
    entities, a token, tag or label that is not one field of a column file).
    """
    sentences, tags, report = [], [], ReadReport()
    with open(path, "rb") as f:
        for record in iter_records(f, path, labels=labels, encoding=encoding, tokenizer=tokenizer, report=report):
            for tokens, sentence_tags, _ in record.sentences:
                if sentence_tags is None:
                    what = "entities" if record.form == "spans" else '"ner_tags"'
                    raise InputError(f"no {what}; expected tagged records {_EXPECTED}", path, record.line)
                sentences.append(tokens)
                tags.append(sentence_tags)
                report.lines.append(record.line)
    if not sentences:
        raise InputError("no sentences; expected JSON records with tokens or text", path)
    return sentences, tags, report


def iter_records(
    stream,
    path,
    *,
    labels=None,
    encoding: str = "utf-8",
    tokenizer: str = "conll",
    first_line: int = 1,
    report: ReadReport | None = None,
) -> Iterator[JsonRecord]:
    """The records of a binary stream of JSON lines, one at a time.

    ``first_line`` is the number of the stream's first line (a part of a file, read from a line
    start); a UTF-8 byte-order mark at the file's start is skipped. Tags are optional (a record
    without them has tags None). ``report``, if given, counts what was read.
    """
    labels = None if labels is None else [check_field(label, "label") for label in labels]
    check_tokenizer(tokenizer)
    report = report if report is not None else ReadReport()
    utf8 = codecs.lookup(encoding).name == "utf-8"
    number = first_line - 1
    while raw := stream.readline(MAX_LINE + 1):
        number += 1
        if len(raw) > MAX_LINE:
            raise InputError(f"a line longer than {MAX_LINE >> 20} MB; expected one JSON record per line", path, number)
        if number == 1 and utf8:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode(encoding))
        except UnicodeDecodeError as err:
            raise InputError(
                f"cannot decode byte {raw[err.start]:#04x} as {encoding} ({err.reason}); choose another encoding "
                "(--encoding)",
                path,
                number,
            ) from None
        except (ValueError, RecursionError) as err:
            raise InputError(
                f"not a JSON record ({type(err).__name__}); expected one object per line {_EXPECTED}", path, number
            ) from None
        if not isinstance(record, dict):
            raise InputError(f"a JSON {_json_type(record)}, not an object; expected {_EXPECTED}", path, number)
        report.records += 1
        if "tokens" in record:
            parsed = _tokens_form(record, labels, path, number)
        elif "text" in record:
            parsed = _spans_form(record, path, number, report, tokenizer)
            report.texts += 1
        else:
            raise InputError(
                f'expected "tokens" (and "ner_tags"), or "text" (and "entities") {_EXPECTED}', path, number
            )
        for _, sentence_tags, _ in parsed.sentences:
            report.sentences += 1
            if sentence_tags is not None:
                report.entities += len(entity_spans(sentence_tags))
        yield parsed


def _json_type(value) -> str:
    return {list: "array", str: "string", bool: "true or false", type(None): "null"}.get(type(value), "number")


def _tokens_form(record, labels, path, number) -> JsonRecord:
    tokens = record.get("tokens")
    if not isinstance(tokens, list) or not tokens:
        raise InputError('"tokens" must be a non-empty list of strings', path, number)
    for token in tokens:
        check_field(token, "token", path, number)
    key = next((k for k in _TAG_KEYS if k in record), None)
    if key is None:
        return JsonRecord(number, record, "tokens", [(tokens, None, None)])
    raw_tags = record[key]
    if not isinstance(raw_tags, list) or len(raw_tags) != len(tokens):
        raise InputError(f'"{key}" must be a list of {len(tokens)} tags, one per token', path, number)
    out, integers = [], False
    for tag in raw_tags:
        if isinstance(tag, bool) or not isinstance(tag, (int, str)):
            raise InputError(f"tag {tag!r} is neither a label nor a label index", path, number)
        if isinstance(tag, int):
            if labels is None:
                raise InputError("tags are label indices; give the label list (--labels B-PER,I-PER,...)", path, number)
            if not 0 <= tag < len(labels):
                raise InputError(f"label index {tag} outside the {len(labels)} labels", path, number)
            tag, integers = labels[tag], True
        out.append(check_field(tag, "tag", path, number))
    return JsonRecord(number, record, "tokens", [(tokens, out, None)], integer_tags=integers)


def _spans(record, path, number) -> tuple:
    """(the record's entities as sorted (start, end, label), how they are written), or (None, ...)
    when the record has no entity key."""
    key = next((k for k in _SPAN_KEYS if k in record), None)
    if key is None or (key == "label" and isinstance(record[key], str)):  # a document's class, not spans
        return None, ("list",)
    spans = record[key]
    if not isinstance(spans, list):
        raise InputError(f'"{key}" must be a list of [start, end, label]', path, number)
    out = []
    shape_of: tuple = ("list",)
    for i, span in enumerate(spans):
        if isinstance(span, dict):
            keys = next((pair for pair in _OFFSET_KEYS if pair[0] in span), _OFFSET_KEYS[0])
            if i == 0:
                shape_of = ("dict", *keys)
            span = [span.get(keys[0]), span.get(keys[1]), span.get("label")]
        if (
            not isinstance(span, list)
            or len(span) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in span[:2])
            or not isinstance(span[2], str)
        ):
            raise InputError(f"entity {span!r} is not [start, end, label]", path, number)
        check_field(span[2], "entity label", path, number)
        out.append(tuple(span))
    return sorted(out), shape_of


def _spans_form(record, path, number, report, tokenizer) -> JsonRecord:
    text = record.get("text")
    if not isinstance(text, str):
        raise InputError('"text" must be a string', path, number)
    spans, shape = _spans(record, path, number)
    previous_end = 0
    for start, end, label in spans or ():
        if not 0 <= start < end <= len(text):
            raise InputError(
                f"entity [{start}, {end}, {label!r}] is outside the text of {len(text)} characters", path, number
            )
        if start < previous_end:
            raise InputError(f"entity [{start}, {end}, {label!r}] overlaps the one before it", path, number)
        previous_end = end
    sentences: list = []
    placed = set()
    for tokens in split_sentences(text, tokenizer=tokenizer):
        offsets = [(t.start, t.end) for t in tokens]
        words = [t.text for t in tokens]
        if spans is None:
            sentences.append((words, None, offsets))
            continue
        starts = {t.start: i for i, t in enumerate(tokens)}
        ends = {t.end: i for i, t in enumerate(tokens)}
        entities = []
        for start, end, label in spans:
            if start in starts and end in ends and starts[start] <= ends[end]:
                entities.append((label, starts[start], ends[end] + 1))
                placed.add((start, end, label))
        sentences.append((words, entities_to_tags(entities, len(tokens), "IOB2"), offsets))
    for span in spans or ():
        if span not in placed:
            report.unaligned += 1
            if len(report.unaligned_examples) < 5:
                report.unaligned_examples.append((number,) + span)
    return JsonRecord(number, record, "spans", sentences, entity_shape=shape)


def record_with_predictions(record: JsonRecord, tags: list, entities: list, labels=None, path=None) -> dict:
    """The record as read, its tags (tokens form) or its entities (spans form) replaced by predictions.

    Parameters
    ----------
    record : JsonRecord
    tags : list of list of str
        The predicted tags of each of its sentences.
    entities : list of list of Entity
        The predicted entities of each of its sentences (spans form: their ``char_start`` and
        ``char_end`` index the record's text).
    labels : sequence of str, optional
        The label names, for a record whose tags were label indices: predictions are written as
        indices too.
    path : str, optional
        The file, named in the error when a predicted tag is not among ``labels``.

    Returns
    -------
    dict
        A copy of the record: its other keys, and their order, as read.
    """
    out = dict(record.record)
    if record.form == "tokens":
        predicted = tags[0] if tags else []
        if record.integer_tags:
            index = {label: i for i, label in enumerate(labels or ())}
            missing = [t for t in predicted if t not in index]
            if missing:
                raise InputError(
                    f"the model predicts {missing[0]!r}, which is not among the labels ({', '.join(index)}); "
                    "pass labels that name every tag the model predicts",
                    path,
                    record.line,
                )
            predicted = [index[t] for t in predicted]
        key = next((k for k in _TAG_KEYS if k in out), "ner_tags")
        out[key] = list(predicted)
        return out
    found = [e for sentence in entities for e in sentence]
    if record.entity_shape[0] == "dict":
        _, start_key, end_key = record.entity_shape
        spans: list = [{start_key: e.char_start, end_key: e.char_end, "label": e.label} for e in found]
    else:
        spans = [[e.char_start, e.char_end, e.label] for e in found]
    key = next((k for k in _SPAN_KEYS if k in out and not (k == "label" and isinstance(out[k], str))), "entities")
    out[key] = spans
    return out
