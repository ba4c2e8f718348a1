"""Scoring: conlleval golden reports, a transcription of the Perl script, token F1, confusion."""

from __future__ import annotations

import doctest
import importlib.util
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import InputError
from windowclf.tags import conlleval as metrics
from windowclf.tags.conlleval import (
    ConllevalCounts,
    conlleval_report,
    count_chunks,
    precision_recall_f1,
    to_json,
)
from windowclf.tags.entities import entity_spans, split_tag
from windowclf.tags.token_metrics import Scores, confusion_matrix, format_confusion_matrix, token_f1, token_f1_report


def test_docstring_examples_hold():
    result = doctest.testmod(metrics)
    assert result.attempted > 0 and result.failed == 0


# --- reading conlleval's input format, as the Perl script does ------------------------


def read_conlleval(text: str) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted tag sequences of conlleval input (the last two space-separated fields).

    A blank line, or one whose first field is ``-X-``, ends a sentence; any other line,
    ``-DOCSTART-`` included, is a token, as in the script.
    """
    gold, pred, sentence_gold, sentence_pred = [], [], [], []
    for line in text.split("\n"):
        fields = line.split(" ")
        while fields and fields[-1] == "":  # Perl's split drops trailing empty fields
            fields.pop()
        if not fields or fields[0] == "-X-":
            if sentence_gold:
                gold.append(sentence_gold)
                pred.append(sentence_pred)
            sentence_gold, sentence_pred = [], []
        else:
            sentence_gold.append(fields[-2])
            sentence_pred.append(fields[-1])
    if sentence_gold:
        gold.append(sentence_gold)
        pred.append(sentence_pred)
    return gold, pred


def report_for(path) -> bytes:
    gold, pred = read_conlleval(path.read_text(encoding="utf-8"))
    return conlleval_report(count_chunks(gold, pred)).encode("utf-8")


# --- golden reports made by the Perl script (tests/data/conlleval/HOW.md) --------------

GOLDEN = ["iob1", "iob2", "type_changes", "iobes", "zero_counts", "all_o", "empty", "rounding_ties", "exotic"]
# Inputs conlleval 2004 cannot read as meant; their reports come from a twin spelled so it can.
GOLDEN_FROM_TWIN = ["iobes_adjacent", "bare_io"]


@pytest.mark.parametrize("name", GOLDEN + GOLDEN_FROM_TWIN)
def test_report_equals_perl_conlleval_byte_for_byte(test_data, name):
    folder = test_data / "conlleval"
    assert report_for(folder / f"{name}.txt") == (folder / f"{name}.report").read_bytes()


@pytest.mark.parametrize("name", GOLDEN_FROM_TWIN)
def test_twin_inputs_score_the_same_as_their_originals(test_data, name):
    folder = test_data / "conlleval"
    assert report_for(folder / f"{name}.as-iob.txt") == report_for(folder / f"{name}.txt")


@pytest.mark.parametrize("name", GOLDEN + GOLDEN_FROM_TWIN)
def test_chunk_counts_equal_entities_read_by_entity_spans(test_data, name):
    gold, pred = read_conlleval((test_data / "conlleval" / f"{name}.txt").read_text(encoding="utf-8"))
    counts = count_chunks(gold, pred)
    for sequences, total, by_type in [
        (gold, counts.n_gold_chunks, counts.gold_chunks_by_type),
        (pred, counts.n_pred_chunks, counts.pred_chunks_by_type),
    ]:
        entities = [e for tags in sequences for e in entity_spans(tags)]
        assert total == len(entities)
        assert by_type == {t: sum(e[0] == t for e in entities) for t in {e[0] for e in entities}}


@pytest.mark.parametrize("name", [n for n in GOLDEN + GOLDEN_FROM_TWIN if n != "exotic"])
def test_correct_chunks_are_the_entities_both_columns_share(test_data, name):
    gold, pred = read_conlleval((test_data / "conlleval" / f"{name}.txt").read_text(encoding="utf-8"))
    shared = sum(len(set(entity_spans(g)) & set(entity_spans(p))) for g, p in zip(gold, pred))
    assert count_chunks(gold, pred).n_correct_chunks == shared


def load_report_maker(test_data):
    spec = importlib.util.spec_from_file_location("make_reports", test_data / "conlleval" / "make_reports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_report_on_noisy_eng_testa_equals_perl(data_dir, test_data):
    make_reports = load_report_maker(test_data)
    text = make_reports.noisy_testa_text(data_dir / "conll2003" / "eng.testa")
    gold, pred = read_conlleval(text)
    golden = (test_data / "conlleval" / f"{make_reports.NOISY_NAME}.report").read_bytes()
    assert conlleval_report(count_chunks(gold, pred)).encode("ascii") == golden


def read_tag_column(path) -> list[list[str]]:
    sentences, tags = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] != "-DOCSTART-":
                tags.append(fields[-1])
            elif tags:
                sentences.append(tags)
                tags = []
    return sentences + ([tags] if tags else [])


def test_eng_testa_has_the_published_entity_counts(data_dir):
    gold = read_tag_column(data_dir / "conll2003" / "eng.testa")
    counts = count_chunks(gold, gold)
    assert (counts.n_tokens, counts.n_gold_chunks, counts.n_correct_chunks) == (51362, 5942, 5942)
    assert counts.gold_chunks_by_type == {"LOC": 1837, "MISC": 922, "ORG": 1341, "PER": 1842}


def test_cs224d_bare_tags_lose_only_the_entities_iob1_separates_with_b(data_dir):
    # eng.testa's four B-MISC each follow a MISC entity; without prefixes they merge into it.
    gold = read_tag_column(data_dir / "conll2003" / "eng.testa")
    bare = read_tag_column(data_dir / "cs224d_ner" / "dev")
    counts = count_chunks(gold, bare)
    assert counts.n_pred_chunks == 5942 - 4
    assert counts.pred_chunks_by_type["MISC"] == 922 - 4


# --- a direct transcription of the Perl script, for random inputs ---------------------


def perl_split(tag):
    match = re.match(r"^([^-]*)-(.*)$", tag)
    prefix, entity_type = match.groups() if match else (tag, "")
    return prefix, entity_type if entity_type not in ("", "0") else ""  # $type ? $type : ""


def perl_end_of_chunk(prev_tag, tag, prev_type, type_):
    chunk_end = False
    if prev_tag == "B" and tag == "B":
        chunk_end = True  # line for line with the Perl
    if prev_tag == "B" and tag == "O":
        chunk_end = True
    if prev_tag == "I" and tag == "B":
        chunk_end = True
    if prev_tag == "I" and tag == "O":
        chunk_end = True
    if prev_tag == "E" and tag == "E":
        chunk_end = True
    if prev_tag == "E" and tag == "I":
        chunk_end = True
    if prev_tag == "E" and tag == "O":
        chunk_end = True
    if prev_tag == "I" and tag == "O":
        chunk_end = True
    if prev_tag != "O" and prev_tag != "." and prev_type != type_:
        chunk_end = True
    if prev_tag == "]":
        chunk_end = True
    if prev_tag == "[":
        chunk_end = True
    return chunk_end


def perl_start_of_chunk(prev_tag, tag, prev_type, type_):
    chunk_start = False
    if prev_tag == "B" and tag == "B":
        chunk_start = True
    if prev_tag == "I" and tag == "B":
        chunk_start = True
    if prev_tag == "O" and tag == "B":
        chunk_start = True
    if prev_tag == "O" and tag == "I":
        chunk_start = True
    if prev_tag == "E" and tag == "E":
        chunk_start = True
    if prev_tag == "E" and tag == "I":
        chunk_start = True
    if prev_tag == "O" and tag == "E":
        chunk_start = True
    if prev_tag == "O" and tag == "I":
        chunk_start = True
    if tag != "O" and tag != "." and prev_type != type_:
        chunk_start = True
    if tag == "[":
        chunk_start = True
    if tag == "]":
        chunk_start = True
    return chunk_start


def perl_conlleval(gold_sequences, pred_sequences) -> ConllevalCounts:
    """The script's main loop over sentences, each followed by a blank line."""
    c = ConllevalCounts()
    in_correct = False
    last_correct, last_correct_type, last_guessed, last_guessed_type = "O", "", "O", ""
    lines = []
    for gold, pred in zip(gold_sequences, pred_sequences):
        lines += [(g, p, False) for g, p in zip(gold, pred)] + [("O", "O", True)]
    for gold_tag, pred_tag, boundary in lines:
        guessed, guessed_type = perl_split(pred_tag)
        correct, correct_type = perl_split(gold_tag)
        if boundary:
            guessed = "O"
        if in_correct:
            correct_ends = perl_end_of_chunk(last_correct, correct, last_correct_type, correct_type)
            guessed_ends = perl_end_of_chunk(last_guessed, guessed, last_guessed_type, guessed_type)
            if correct_ends and guessed_ends and last_guessed_type == last_correct_type:
                in_correct = False
                c.n_correct_chunks += 1
                c.correct_chunks_by_type[last_correct_type] = c.correct_chunks_by_type.get(last_correct_type, 0) + 1
            elif correct_ends != guessed_ends or guessed_type != correct_type:
                in_correct = False
        correct_starts = perl_start_of_chunk(last_correct, correct, last_correct_type, correct_type)
        guessed_starts = perl_start_of_chunk(last_guessed, guessed, last_guessed_type, guessed_type)
        if correct_starts and guessed_starts and guessed_type == correct_type:
            in_correct = True
        if correct_starts:
            c.n_gold_chunks += 1
            c.gold_chunks_by_type[correct_type] = c.gold_chunks_by_type.get(correct_type, 0) + 1
        if guessed_starts:
            c.n_pred_chunks += 1
            c.pred_chunks_by_type[guessed_type] = c.pred_chunks_by_type.get(guessed_type, 0) + 1
        if not boundary:
            if correct == guessed and guessed_type == correct_type:
                c.n_correct_tags += 1
            c.n_tokens += 1
        last_guessed, last_correct = guessed, correct
        last_guessed_type, last_correct_type = guessed_type, correct_type
    if in_correct:
        c.n_correct_chunks += 1
        c.correct_chunks_by_type[last_correct_type] = c.correct_chunks_by_type.get(last_correct_type, 0) + 1
    return c


# Tags the Perl script reads the same way we do: no S- and no bare type (see chunks.py).
PERL_TAGS = [
    "O",
    "B-A",
    "I-A",
    "E-A",
    "B-B",
    "I-B",
    "E-B",
    "[-A",
    "]-A",
    ".-A",
    ".",
    "B",
    "I",
    "E",
    "[",
    "]",
    "B-",
    "I-",
    "E-",
    "X-A",
    "-A",
    "O-A",
    "I-SUB-T",
    "B-SUB-T",
]


def without_e_then_b_of_one_type(tags):
    """Rewrite E-X B-X (the one prefix pair where our IOBES rule departs from the script)."""
    out = list(tags)
    for i in range(1, len(out)):
        prev, cur = split_tag(out[i - 1]), split_tag(out[i])
        if prev[0] == "E" and cur[0] == "B" and prev[1] == cur[1]:
            out[i] = "O"
    return out


perl_sentence = st.lists(st.sampled_from(PERL_TAGS), max_size=12).map(without_e_then_b_of_one_type)


@st.composite
def gold_and_pred(draw, tags=PERL_TAGS, fix=without_e_then_b_of_one_type):
    """Sentences of gold tags, and predicted tags of the same lengths."""
    gold = draw(st.lists(st.lists(st.sampled_from(tags), max_size=12).map(fix), max_size=5))
    pred = [draw(st.lists(st.sampled_from(tags), min_size=len(g), max_size=len(g)).map(fix)) for g in gold]
    return gold, pred


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(gold_and_pred())
def test_count_chunks_equals_a_line_by_line_transcription_of_the_perl(data):
    gold, pred = data
    assert count_chunks(gold, pred) == perl_conlleval(gold, pred)


@settings(max_examples=300, deadline=None)
@given(perl_sentence)
def test_entity_spans_starts_where_perl_starts_a_chunk_and_stops_where_it_ends_one(tags):
    split = [("O", "")] + [perl_split(t) for t in tags] + [("O", "")]
    starts = [
        i - 1
        for i in range(1, len(tags) + 1)
        if perl_start_of_chunk(split[i - 1][0], split[i][0], split[i - 1][1], split[i][1])
    ]
    entities = entity_spans(tags)
    assert [start for _, start, _ in entities] == starts
    for entity_type, start, end in entities:
        assert entity_type == split[start + 1][1]
        boundaries = [
            perl_end_of_chunk(a[0], b[0], a[1], b[1]) or perl_start_of_chunk(a[0], b[0], a[1], b[1])
            for a, b in zip(split[start + 1 :], split[start + 2 :])
        ]
        boundaries[-1] = True  # the end of the sentence closes whatever is open
        assert end == start + boundaries.index(True) + 1


def test_iobes_singles_are_separate_although_perl_2004_merges_them():
    tags = ["S-PER", "S-PER", "B-PER", "E-PER", "B-PER", "E-PER"]
    assert count_chunks([tags], [tags]).n_gold_chunks == 4
    assert perl_conlleval([tags], [tags]).n_gold_chunks == 1


BIOES_TAGS = ["O", "B-A", "I-A", "E-A", "S-A", "B-B", "I-B", "E-B", "S-B"]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(gold_and_pred(BIOES_TAGS, list))
def test_correct_chunks_are_shared_entities_for_any_bioes_tags(data):
    gold, pred = data
    shared = sum(len(set(entity_spans(g)) & set(entity_spans(p))) for g, p in zip(gold, pred))
    assert count_chunks(gold, pred).n_correct_chunks == shared


# --- count_chunks' input --------------------------------------------------------------


def test_count_chunks_consumes_generators_once():
    gold = [["B-PER", "I-PER", "O"], ["I-LOC"]]
    pred = [["B-PER", "O", "O"], ["I-LOC"]]
    streamed = count_chunks((g for g in gold), (p for p in pred))
    assert streamed == count_chunks(gold, pred)


def test_a_sentence_boundary_ends_every_chunk():
    joined = count_chunks([["I-PER", "I-PER"]], [["I-PER", "I-PER"]])
    split = count_chunks([["I-PER"], ["I-PER"]], [["I-PER"], ["I-PER"]])
    assert (joined.n_gold_chunks, split.n_gold_chunks) == (1, 2)


@pytest.mark.parametrize(
    "gold, pred, message",
    [
        ([["O", "O"]], [["O"]], "sentence 1 has 2 gold tags but 1 predicted tags"),
        ([["O"], ["O"]], [["O"]], "the gold has more sentences"),
        ([["O"]], [["O"], ["O"]], "the prediction has more sentences"),
        (["B-PER"], ["B-PER"], "sentence 1 is a string"),
    ],
)
def test_count_chunks_refuses_mismatched_input(gold, pred, message):
    with pytest.raises(InputError, match=message):
        count_chunks(gold, pred)


# --- numbers --------------------------------------------------------------------------


def test_precision_recall_f1_are_the_unrounded_numbers_of_the_report(test_data):
    gold, pred = read_conlleval((test_data / "conlleval" / "iob1.txt").read_text(encoding="utf-8"))
    scores = precision_recall_f1(count_chunks(gold, pred))
    assert scores["overall"] == Scores(100 * 4 / 6, 100 * 4 / 10, 2 * (100 * 4 / 6) * 40.0 / (100 * 4 / 6 + 40.0))
    assert list(scores["per_type"]) == ["LOC", "MISC", "ORG", "PER"]
    assert scores["per_type"]["MISC"] == Scores(0.0, 0.0, 0.0)
    assert scores["per_type"]["ORG"] == Scores(100 * 2 / 3, 100.0, 2 * (100 * 2 / 3) * 100.0 / (100 * 2 / 3 + 100.0))


def test_to_json_carries_counts_and_scores():
    counts = count_chunks([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "B-LOC"]])
    data = json.loads(json.dumps(to_json(counts)))
    assert data["tokens"] == 3 and data["correct_tags"] == 2
    assert (data["gold"], data["predicted"], data["correct"]) == (1, 2, 1)
    assert (data["precision"], data["recall"]) == (50.0, 100.0)
    assert data["per_type"]["LOC"] == {
        "gold": 0,
        "predicted": 1,
        "correct": 0,
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
    }


def test_to_json_has_no_accuracy_without_tokens():
    assert to_json(count_chunks([], []))["accuracy"] is None


# --- token level ----------------------------------------------------------------------

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "O"]]
PRED = [["B-PER", "O", "O", "B-PER"], ["B-LOC", "B-ORG", "I-ORG", "O"]]


def test_token_f1_weights_each_non_o_class_by_its_support():
    # PER: tp 1, predicted 2, support 2; LOC: tp 0, predicted 1, support 1; ORG: tp 2 of 2.
    per, loc, org = (0.5, 0.5, 0.5), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    expected = [100 * (2 * a + 1 * b + 2 * c) / 5 for a, b, c in zip(per, loc, org)]
    assert token_f1(GOLD, PRED) == pytest.approx(expected, rel=1e-12)


def test_token_f1_compares_types_so_every_scheme_scores_alike():
    from windowclf.tags.schemes import convert

    base = token_f1(GOLD, PRED)
    for scheme in ("IO", "IOB1", "IOBES"):
        converted = token_f1([convert(s, scheme) for s in GOLD], [convert(s, scheme) for s in PRED])
        assert converted == pytest.approx(base, rel=1e-12)


def test_token_f1_ignores_the_o_class():
    gold, pred = ["PER", "O", "O"], ["PER", "LOC", "O"]
    assert token_f1(gold, pred, ["O", "LOC", "PER"]) == Scores(100.0, 100.0, 100.0)


def test_token_f1_report_prints_cs224d_lines():
    assert token_f1_report(Scores(12.3456, 50.0, 99.999)) == (
        "=== Performance (omitting 'O' class) ===\n"
        "Mean precision:  12.35%\nMean recall:     50.00%\nMean F1:         100.00%\n"
    )


def test_confusion_matrix_counts_gold_rows_against_predicted_columns():
    matrix = confusion_matrix(GOLD, PRED, ["O", "LOC", "ORG", "PER"])
    assert matrix.shape == (4, 4) and matrix.sum() == 8
    np.testing.assert_array_equal(matrix, [[2, 1, 0, 0], [0, 0, 0, 1], [0, 0, 2, 0], [1, 0, 0, 1]])


def test_confusion_matrix_refuses_a_type_outside_the_labels():
    with pytest.raises(InputError, match="type 'ORG' is not among the labels"):
        confusion_matrix(GOLD, PRED, ["O", "LOC", "PER"])


def test_format_confusion_matrix_is_a_right_aligned_table():
    text = format_confusion_matrix(np.array([[12, 0], [3, 4]]), ["O", "PER"])
    assert text == ("gold \\ pred   O PER\nO            12   0\nPER           3   4\n")
