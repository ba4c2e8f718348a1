"""JSON lines input gets the checks CoNLL input gets (file and line; one field per token and tag; a
byte-order mark accepted), input that looks structured is read as such, and a record written back
in its own form reads back."""

from __future__ import annotations

import io
import json

import pytest

from windowclf.errors import InputError
from windowclf.formats.conll import read_conll
from windowclf.formats.jsonl import iter_records, read_jsonl, record_with_predictions
from windowclf.formats.sniff import input_form
from windowclf.formats.tagged import file_schemes, read_tagged
from windowclf.tags.record import Entity

GOOD = {"tokens": ["Anna", "lives", "in", "Oslo"], "ner_tags": ["B-PER", "O", "O", "B-LOC"]}


def write_lines(path, records, prefix=b""):
    path.write_bytes(prefix + "".join(json.dumps(r) + "\n" for r in records).encode("utf-8"))
    return path


@pytest.mark.parametrize(
    "bad, fragment",
    [
        ({"tokens": ["Anna", "New York"], "ner_tags": ["B-PER", "B-LOC"]}, "token 'New York' holds a space"),
        ({"tokens": ["Anna", "Oslo\t"], "ner_tags": ["B-PER", "B-LOC"]}, "holds a TAB"),
        ({"tokens": ["Anna", "Os\x1blo"], "ner_tags": ["B-PER", "B-LOC"]}, "holds an ESC"),
        ({"tokens": ["Anna", ""], "ner_tags": ["B-PER", "B-LOC"]}, "is not a non-empty string"),
        ({"tokens": ["Anna", "Oslo"], "ner_tags": ["B-PER SON", "B-LOC"]}, "tag 'B-PER SON' holds a space"),
        ({"text": "Anna lives in Oslo.", "entities": [[0, 4, "PER SON"]]}, "entity label 'PER SON' holds a space"),
        ({"text": "Anna lives in Oslo.", "entities": [[0, 4, "PER\x1b]0;x\x07"]]}, "holds an ESC"),
        ({"text": "Anna lives in Oslo.", "entities": [[0, 40, "PER"]]}, "outside the text"),
        ({"tokens": ["Anna"], "ner_tags": [3]}, "give the label list"),
        ({"words": ["Anna"]}, 'expected "tokens"'),
        (["Anna"], "a JSON array, not an object"),
    ],
)
def test_every_token_tag_and_label_is_checked_where_it_is_read_naming_file_and_line(tmp_path, bad, fragment):
    path = tmp_path / "hub.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_tagged(path)
    assert err.value.path == str(path) and err.value.line == 3, str(err.value)  # the blank line counts
    assert fragment in str(err.value)


def test_a_byte_order_mark_is_accepted_as_in_conll_files_and_raw_text(tmp_path):
    plain = read_tagged(write_lines(tmp_path / "a.jsonl", [GOOD, GOOD]))
    marked = read_tagged(write_lines(tmp_path / "b.jsonl", [GOOD, GOOD], b"\xef\xbb\xbf"))
    assert (
        (marked.sentences, marked.tags)
        == (plain.sentences, plain.tags)
        == ([GOOD["tokens"]] * 2, [GOOD["ner_tags"]] * 2)
    )


def test_what_json_lines_accept_a_column_file_can_hold(tmp_path):
    # tokens that a CoNLL file holds (NBSP, line and paragraph separators, DEL) are JSON lines tokens too
    tokens = ["Anna\u00a0Keller", "a\u2028b", "x\x7fy", "Zürich"]
    path = write_lines(tmp_path / "ok.jsonl", [{"tokens": tokens, "ner_tags": ["B-PER", "O", "O", "B-LOC"]}])
    (conll := tmp_path / "ok.conll").write_text(
        "".join(f"{t} {g}\n" for t, g in zip(tokens, ["B-PER", "O", "O", "B-LOC"]))
    )
    assert read_tagged(path).sentences == [s.tokens for s in read_conll(conll)] == [tokens]


@pytest.mark.parametrize(
    "name, head, form",
    [
        ("hub.jsonl", b"anything", "jsonl"),
        ("hub.txt", b'\xef\xbb\xbf  {"tokens": ["a"], "ner_tags": ["O"]}\n', "jsonl"),
        ("hub.txt", b'\n\n[{"tokens": ["a"]}]\n', "jsonl"),  # a JSON array: read, and refused naming its line
        ("news.txt", b"[Reuters] EU rejects German call.\n{braces} too\n", "text"),
        ("dev.txt", b"EU B-ORG\nrejects O\nGerman B-MISC\ncall O\n. O\n\n", "conll"),
        ("story.txt", b"Anna Keller flew from Oslo to Lyon.\n", "text"),
    ],
)
def test_the_form_of_an_input_comes_from_its_name_and_first_lines(name, head, form):
    assert input_form(name, head=head) == form


def test_train_reads_json_lines_whatever_the_files_name(tmp_path):
    path = write_lines(tmp_path / "hub.txt", [GOOD])
    corpus = read_tagged(path)
    assert (corpus.form, corpus.sentences, corpus.scheme) == ("jsonl", [GOOD["tokens"]], "IOB2")


def test_spans_are_split_by_the_tokenizer_asked_for(tmp_path):
    record = {"text": "@anna_k loves #Oslo :)", "entities": [[0, 7, "PER"], [14, 19, "LOC"]]}
    path = write_lines(tmp_path / "t.jsonl", [record])
    social = read_tagged(path, tokenizer="social")
    assert social.sentences == [["@anna_k", "loves", "#Oslo", ":)"]] and social.tags == [["B-PER", "O", "B-LOC", "O"]]
    assert social.tokenizer == "social" and not social.warnings
    conll = read_tagged(path)  # the newswire rules cut "@", "anna", "_", "k" apart
    assert conll.sentences[0][:3] == ["@", "anna", "_"] and conll.tokenizer == "conll"


def test_a_record_written_back_keeps_its_form_and_its_other_keys():
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    stream = io.BytesIO(
        b'{"id": "7", "tokens": ["Anna", "in", "Oslo"], "ner_tags": [1, 0, 3], "lang": "en"}\n'
        b'{"text": "Anna in Oslo", "label": [{"start_offset": 0, "end_offset": 4, "label": "PER"}], "id": 8}\n'
        b'{"text": "", "entities": []}\n'
    )
    tokens, spans, empty = list(iter_records(stream, "x.jsonl", labels=labels))
    out = record_with_predictions(tokens, [["B-PER", "O", "O"]], [[]], labels)
    assert out == {"id": "7", "tokens": ["Anna", "in", "Oslo"], "ner_tags": [1, 0, 0], "lang": "en"}
    found = [[Entity("LOC", "Oslo", 0, 2, 3, 8, 12, 0.9)]]
    out = record_with_predictions(spans, [["O", "O", "B-LOC"]], found, labels)
    assert out == {"text": "Anna in Oslo", "label": [{"start_offset": 8, "end_offset": 12, "label": "LOC"}], "id": 8}
    assert empty.sentences == [] and record_with_predictions(empty, [], [], labels) == {"text": "", "entities": []}
    with pytest.raises(InputError, match="not among the labels"):
        record_with_predictions(tokens, [["B-MISC", "O", "O"]], [[]], labels, "x.jsonl")


def test_the_scheme_of_a_files_own_tags_is_read_without_the_rest(tmp_path):
    iob1 = tmp_path / "iob1.conll"
    iob1.write_text("Anna I-PER\nKeller I-PER\nBerg B-PER\n\nin O\nOslo I-LOC\n", encoding="utf-8")
    assert file_schemes(iob1, "conll")[0] == ("IOB1", 0)
    untagged = tmp_path / "words.conll"
    untagged.write_text("Anna\nKeller\n", encoding="utf-8")
    assert file_schemes(untagged, "conll") == []
    spans = write_lines(tmp_path / "s.jsonl", [{"text": "Anna", "entities": [[0, 4, "PER"]]}])
    assert file_schemes(spans, "jsonl") == []  # spans have no scheme of their own
    assert read_jsonl(write_lines(tmp_path / "t.jsonl", [GOOD]))[0] == [GOOD["tokens"]]
