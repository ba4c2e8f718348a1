"""Tag schemes: reading tags (split_tag, entity_spans), writing them, checking them."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import ConfigError, InputError
from windowclf.tags import schemes
from windowclf.tags.entities import entity_spans, split_tag
from windowclf.tags.schemes import (
    SCHEMES,
    check_tag,
    convert,
    entities_to_tags,
    tag_set,
    validate_tags,
)


def test_docstring_examples_hold():
    result = doctest.testmod(schemes, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_schemes_are_the_four_names():
    assert SCHEMES == ("IO", "IOB1", "IOB2", "IOBES")


# --- split_tag ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, expected",
    [
        ("B-PER", ("B", "PER")),
        ("O", ("O", "")),
        ("PER", ("I", "PER")),  # CS224d's bare tags read as IO
        ("I-SUB-TYPE", ("I", "SUB-TYPE")),  # split on the first hyphen only
        ("B-", ("B", "")),
        ("B", ("B", "")),  # a bare prefix letter is a typeless chunk tag, as in conlleval
        ("[", ("[", "")),
        ("-PER", ("", "PER")),
        ("O-PER", ("O", "PER")),
    ],
)
def test_split_tag_reads_prefix_and_type_as_conlleval(tag, expected):
    assert split_tag(tag) == expected


# --- entity_spans ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags, expected",
    [
        ([], []),
        (["O", "O"], []),
        (["I-PER"], [("PER", 0, 1)]),
        (["O", "I-PER", "I-PER"], [("PER", 1, 3)]),  # I- after O starts
        (["I-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),  # I- after another type starts
        (["B-PER", "I-LOC"], [("PER", 0, 1), ("LOC", 1, 2)]),
        (["I-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),  # IOB1 split
        (["B-PER", "B-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["I-PER", "E-PER", "I-PER"], [("PER", 0, 2), ("PER", 2, 3)]),  # IOE: E-then-I starts
        (["E-PER", "E-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["B-PER", "E-PER", "B-PER", "E-PER"], [("PER", 0, 2), ("PER", 2, 4)]),
        (["S-PER", "S-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["B-PER", "S-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["S-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 2)]),
        (["[-NP", "[-NP"], [("NP", 0, 1), ("NP", 1, 2)]),  # conlleval's length-1 chunks
        (["]-NP", "I-NP"], [("NP", 0, 1)]),  # nothing restarts after ]
        (["B-NP", "[-NP", "I-NP"], [("NP", 0, 1), ("NP", 1, 2)]),
        ([".-NP", ".-NP"], []),  # "." never starts a chunk
        (["B-A-B", "I-A-B", "I-A"], [("A-B", 0, 2), ("A", 2, 3)]),
    ],
)
def test_entity_spans_follows_conlleval_chunk_rules(tags, expected):
    assert entity_spans(tags) == expected


def test_bare_tags_read_as_io_so_a_run_is_one_entity():
    assert entity_spans(["PER", "PER", "O", "LOC", "ORG"]) == [("PER", 0, 2), ("LOC", 3, 4), ("ORG", 4, 5)]


# --- writing --------------------------------------------------------------------------

ENTITIES = [("PER", 0, 2), ("PER", 2, 3), ("LOC", 3, 6), ("LOC", 7, 8)]


@pytest.mark.parametrize(
    "scheme, expected",
    [
        ("IO", ["PER", "PER", "PER", "LOC", "LOC", "LOC", "O", "LOC"]),
        ("IOB1", ["I-PER", "I-PER", "B-PER", "I-LOC", "I-LOC", "I-LOC", "O", "I-LOC"]),
        ("IOB2", ["B-PER", "I-PER", "B-PER", "B-LOC", "I-LOC", "I-LOC", "O", "B-LOC"]),
        ("IOBES", ["B-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC", "O", "S-LOC"]),
    ],
)
def test_entities_to_tags_spells_each_scheme(scheme, expected):
    assert entities_to_tags(ENTITIES, 8, scheme) == expected


def test_iob1_writes_b_only_between_entities_of_one_type():
    tags = entities_to_tags([("PER", 0, 1), ("LOC", 1, 2), ("LOC", 2, 4), ("LOC", 5, 6)], 6, "IOB1")
    assert tags == ["I-PER", "I-LOC", "B-LOC", "I-LOC", "O", "I-LOC"]


def test_io_merges_adjacent_entities_of_one_type():
    tags = entities_to_tags([("PER", 0, 1), ("PER", 1, 3)], 3, "IO")
    assert entity_spans(tags) == [("PER", 0, 3)]


def test_entities_to_tags_accepts_entities_in_any_order():
    assert entities_to_tags(list(reversed(ENTITIES)), 8, "IOB1") == entities_to_tags(ENTITIES, 8, "IOB1")


@pytest.mark.parametrize(
    "entities",
    [
        [("PER", 0, 4)],  # past the end
        [("PER", 2, 2)],  # empty
        [("PER", 2, 1)],  # end before start
        [("PER", -1, 1)],
        [("PER", 0, 2), ("LOC", 1, 3)],
    ],
)
def test_entities_to_tags_refuses_entities_that_do_not_fit(entities):
    with pytest.raises(InputError):
        entities_to_tags(entities, 3, "IOB2")


def test_unknown_scheme_is_a_config_error_naming_the_choices():
    with pytest.raises(ConfigError, match=r"unknown tag scheme 'BIO'.*IO, IOB1, IOB2, IOBES"):
        convert(["O"], "BIO")


def test_convert_iob1_to_iob2_rewrites_i_that_begins_an_entity():
    assert convert(["I-ORG", "I-ORG", "O", "I-LOC", "B-LOC", "I-PER"], "IOB2") == [
        "B-ORG",
        "I-ORG",
        "O",
        "B-LOC",
        "B-LOC",
        "B-PER",
    ]


# --- round trips (property tests) -----------------------------------------------------

TYPES = ("PER", "LOC", "SUB-TYPE")


@st.composite
def sentences_with_entities(draw):
    """(length, entities): random non-overlapping entities, adjacent ones included."""
    entities, position = [], 0
    for gap, size, entity_type in draw(
        st.lists(st.tuples(st.integers(0, 2), st.integers(1, 3), st.sampled_from(TYPES)), max_size=6)
    ):
        start = position + gap
        entities.append((entity_type, start, start + size))
        position = start + size
    return position + draw(st.integers(0, 2)), entities


def merge_adjacent_same_type(entities):
    merged = []
    for entity_type, start, end in entities:
        if merged and merged[-1][0] == entity_type and merged[-1][2] == start:
            merged[-1] = (entity_type, merged[-1][1], end)
        else:
            merged.append((entity_type, start, end))
    return merged


@settings(max_examples=300, deadline=None)
@given(sentences_with_entities(), st.sampled_from(SCHEMES), st.sampled_from(SCHEMES))
def test_converting_between_schemes_preserves_entities(sentence, source, target):
    length, entities = sentence
    tags = entities_to_tags(entities, length, source)
    expected = merge_adjacent_same_type(entities) if "IO" in (source, target) else entities
    assert entity_spans(convert(tags, target)) == expected


@settings(max_examples=300, deadline=None)
@given(sentences_with_entities(), st.sampled_from(SCHEMES[1:]), st.sampled_from(SCHEMES[1:]))
def test_converting_there_and_back_gives_the_same_tags(sentence, source, target):
    length, entities = sentence
    tags = entities_to_tags(entities, length, source)
    assert convert(convert(tags, target), source) == tags


@settings(max_examples=200, deadline=None)
@given(sentences_with_entities(), st.sampled_from(SCHEMES))
def test_tags_a_scheme_writes_pass_its_validation(sentence, scheme):
    length, entities = sentence
    tags = entities_to_tags(entities, length, scheme)
    validate_tags(tags, scheme)
    assert set(tags) <= set(tag_set(TYPES, scheme))


# --- checking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, scheme",
    [
        ("O", None),
        ("PER", None),
        ("B-PER", None),
        ("S-SUB-TYPE", None),
        ("PER", "IO"),
        ("I-PER", "IO"),
        ("I-PER", "IOB1"),
        ("B-PER", "IOB1"),
        ("B-PER", "IOB2"),
        ("I-PER", "IOB2"),
        ("S-PER", "IOBES"),
        ("E-PER", "IOBES"),
    ],
)
def test_check_tag_accepts_tags_of_the_scheme(tag, scheme):
    check_tag(tag, scheme)


@pytest.mark.parametrize(
    "tag, scheme, message",
    [
        ("S-PER", "IOB2", "tag 'S-PER' is not an IOB2 tag (expected O, B-TYPE or I-TYPE)"),
        ("E-PER", "IOB1", "tag 'E-PER' is not an IOB1 tag (expected O, I-TYPE or B-TYPE)"),
        ("B-PER", "IO", "tag 'B-PER' is not an IO tag (expected O, TYPE or I-TYPE)"),
        ("PER", "IOBES", "tag 'PER' is not an IOBES tag (expected O, B-TYPE, I-TYPE, E-TYPE or S-TYPE)"),
        ("X-PER", None, "tag 'X-PER' is not a tag of any scheme (expected O, TYPE, B-TYPE, I-TYPE, E-TYPE or S-TYPE)"),
        ("B-", None, "tag 'B-' is not a tag of any scheme"),
        ("-PER", "IO", "tag '-PER' is not an IO tag"),
        ("B", None, "tag 'B' is not a tag of any scheme"),
        ("O-PER", None, "tag 'O-PER' is not a tag of any scheme"),
        ("", None, "tag '' is not a tag of any scheme"),
    ],
)
def test_check_tag_refuses_tags_outside_the_scheme_saying_what_was_expected(tag, scheme, message):
    with pytest.raises(InputError) as err:
        check_tag(tag, scheme)
    assert err.value.message.startswith(message)


def test_validate_tags_names_the_path_and_line_of_the_bad_tag():
    with pytest.raises(InputError) as err:
        validate_tags(["B-PER", "I-PER", "S-PER"], "IOB2", path="dev.txt", lines=[10, 11, 12])
    assert str(err.value) == "dev.txt:12: tag 'S-PER' is not an IOB2 tag (expected O, B-TYPE or I-TYPE)"


@pytest.mark.parametrize(
    "tags, scheme, bad_index, expected",
    [
        (["O", "I-PER"], "IOB2", 1, "B-PER"),
        (["B-PER"], "IOB1", 0, "I-PER"),
        (["I-PER", "B-LOC"], "IOB1", 1, "I-LOC"),
        (["B-PER", "O"], "IOBES", 0, "S-PER"),
        (["B-PER", "I-PER"], "IOBES", 1, "E-PER"),
    ],
)
def test_validate_tags_refuses_sequences_the_scheme_would_not_write(tags, scheme, bad_index, expected):
    with pytest.raises(InputError) as err:
        validate_tags(tags, scheme, path="f", lines=list(range(1, len(tags) + 1)))
    assert err.value.line == bad_index + 1
    assert f"is not valid {scheme} (expected {expected!r}" in err.value.message


def test_validate_tags_checks_single_tags_only_when_asked():
    validate_tags(["O", "I-PER"], "IOB2", check_sequence=False)


def test_validate_tags_without_a_scheme_accepts_any_scheme_mixture():
    validate_tags(["O", "I-PER", "B-PER", "LOC", "S-ORG", "E-ORG"])


def test_validate_tags_accepts_iob1_data_and_refuses_it_as_iob2(data_dir):
    path = data_dir / "conll2003" / "eng.testa"
    sentences, tags, lines = [], [], []
    with open(path, encoding="ascii") as f:
        for number, line in enumerate(f, 1):
            fields = line.split()
            if fields and fields[0] != "-DOCSTART-":
                tags.append(fields[-1])
                lines.append(number)
            elif tags:
                sentences.append((tags, lines))
                tags, lines = [], []
    for tags, lines in sentences:
        validate_tags(tags, "IOB1", path, lines)
    with pytest.raises(InputError) as err:
        for tags, lines in sentences:
            validate_tags(tags, "IOB2", path, lines)
    assert str(err.value) == (
        f"{path}:5: tag 'I-ORG' after 'O' is not valid IOB2 (expected 'B-ORG': an entity is B-TYPE followed by I-TYPE)"
    )


# --- tag_set --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scheme, expected",
    [
        ("IO", ["O", "LOC", "PER"]),
        ("IOB1", ["O", "I-LOC", "B-LOC", "I-PER", "B-PER"]),
        ("IOB2", ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]),
        ("IOBES", ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]),
    ],
)
def test_tag_set_lists_o_then_sorted_types_in_scheme_prefix_order(scheme, expected):
    assert tag_set({"PER", "LOC"}, scheme) == expected


def test_io_keeps_the_prefix_of_types_a_bare_tag_would_misread():
    assert tag_set(["SUB-TYPE", "B", "PER"], "IO") == ["O", "I-B", "PER", "I-SUB-TYPE"]


def test_tag_set_of_cs224d_types_is_its_five_classes():
    assert tag_set(["PER", "ORG", "LOC", "MISC"], "IO") == ["O", "LOC", "MISC", "ORG", "PER"]
