"""The one entity record; scheme detection in constant memory, the scheme a model learns, and the
scheme predictions for a tagged file are written in."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import InputError
from windowclf.tags.entities import entity_spans
from windowclf.tags.record import ENTITY_FIELDS, Entity, sentence_entities
from windowclf.tags.schemes import (
    SCHEMES,
    SchemeDetector,
    convert,
    detect_scheme,
    learned_scheme,
    output_scheme,
    validate_tags,
)

TAGS = ["O", "B-PER", "I-PER", "E-PER", "S-PER", "PER", "B-LOC", "I-LOC", "LOC", "E-LOC", "S-LOC", "B", "I-A-B", "B-"]


def _valid_schemes(tag_lists) -> tuple:
    """The schemes every sentence is valid in, by validate_tags itself (the definition)."""
    out = []
    for scheme in ("IOBES", "IOB2", "IOB1", "IO"):
        try:
            for tags in tag_lists:
                validate_tags(tags, scheme)
        except InputError:
            continue
        out.append(scheme)
    return tuple(out)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(TAGS), max_size=6), min_size=1, max_size=4))
def test_the_detector_finds_exactly_the_schemes_validate_tags_accepts(tag_lists):
    detector = SchemeDetector()
    for tags in tag_lists:
        detector.add(tags)
    assert detector.candidates == _valid_schemes(tag_lists)
    assert detect_scheme(tag_lists) == detector.scheme
    ranking = detector.ranking()
    assert [s for s, bad in ranking if bad == 0] == list(detector.candidates) or not any(tag_lists)
    assert [bad for _, bad in ranking] == sorted(bad for _, bad in ranking)


def test_a_file_that_breaks_its_scheme_once_is_closest_to_it():
    # CoNLL-2003's eng.train: IOB1, but for one B-MISC after O
    detector = SchemeDetector()
    for tags in [["I-PER", "I-PER", "O", "I-LOC"], ["I-ORG", "B-ORG", "O"], ["O", "B-MISC"]]:
        detector.add(tags)
    assert detector.candidates == ()
    assert detector.ranking()[0] == ("IOB1", 1)
    assert output_scheme(detector.ranking(), "IOBES") == "IOB1"


def test_the_model_learns_the_training_tags_scheme_with_iob1_and_mixtures_as_iob2():
    assert [learned_scheme(s) for s in (None, *SCHEMES)] == ["IOB2", "IO", "IOB2", "IOB2", "IOBES"]


def test_predictions_for_a_tagged_file_follow_its_scheme_unless_the_models_fits_it():
    iob1 = SchemeDetector()
    iob1.add(["I-PER", "I-PER", "O", "I-LOC", "B-LOC"])
    assert output_scheme(iob1.ranking(), "IOBES") == "IOB1"
    assert output_scheme(iob1.ranking(), "IOB2") == "IOB1"
    no_entities = SchemeDetector()
    no_entities.add(["O", "O"])
    assert output_scheme(no_entities.ranking(), "IOBES") == "IOBES"  # every scheme fits: the model's
    assert output_scheme([], "IO") == "IO"  # a file without tags


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=1, max_size=10))
def test_records_of_a_sentence_are_its_entities_with_both_kinds_of_offsets(tags):
    tags = convert(tags, "IOB2")
    tokens = [f"w{i}" for i in range(len(tags))]
    text = "  ".join(tokens) + "."
    offsets, at = [], 0
    for token in tokens:
        offsets.append((at, at + len(token)))
        at += len(token) + 2
    found = [(t, s, e, 0.5) for t, s, e in entity_spans(tags)]
    plain = sentence_entities(tokens, found, sentence=3)
    placed = sentence_entities(tokens, found, sentence=3, offsets=offsets, text=text, file="a.txt")
    assert [(e.label, e.token_start, e.token_end) for e in plain] == entity_spans(tags)
    for a, b in zip(plain, placed):
        assert a.text == " ".join(tokens[a.token_start : a.token_end]) and a.char_start is None
        assert text[b.char_start : b.char_end] == b.text and b.sentence == 3 and b.file == "a.txt"
        record = b.to_dict(digits=6)
        assert list(record) == list(ENTITY_FIELDS) and json.loads(json.dumps(record)) == record
        assert "file" not in a.to_dict() and list(a.to_dict()) == list(ENTITY_FIELDS[1:])


def test_no_field_is_called_start_or_end():
    record = Entity("PER", "Anna", 0, 0, 1, 0, 4, 0.9, "a.txt").to_dict()
    assert not {"start", "end", "type", "first", "last"} & set(record)
    with pytest.raises(AttributeError):
        Entity("PER", "Anna", 0, 0, 1).label = "LOC"  # frozen: one record, not one per surface
