"""CoNLL reading and writing: formats, quirks, errors with path and line, round trips."""

from __future__ import annotations

import inspect
import io
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import ConfigError, InputError
from windowclf.formats.conll import Sentence, parse, parse_incr, read_conll, write_conll

CONLL2003 = (
    "-DOCSTART- -X- -X- O\n"
    "\n"
    "EU NNP I-NP I-ORG\n"
    "rejects VBZ I-VP O\n"
    "German JJ I-NP I-MISC\n"
    "\n"
    "Peter NNP I-NP I-PER\n"
    "Blackburn NNP I-NP I-PER\n"
    "\n"
)

CS224D = "-DOCSTART-\tO\n\nEU\tORG\nrejects\tO\nGerman\tMISC\n\nPeter\tPER\nBlackburn\tPER\n\n"


def write_bytes(tmp_path, data: bytes, name="data.conll"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def content(sentences):
    """What a round trip must preserve (not the path or line numbers)."""
    return [(s.tokens, s.tags, s.columns) for s in sentences]


def read_error(tmp_path, data: bytes, **kwargs) -> InputError:
    path = write_bytes(tmp_path, data)
    with pytest.raises(InputError) as info:
        list(read_conll(path, **kwargs))
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}:")
    return info.value


# --- formats ---------------------------------------------------------------


def test_conll2003_gives_words_last_column_tags_and_all_fields(tmp_path):
    sentences = list(read_conll(write_bytes(tmp_path, CONLL2003.encode())))
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert [s.tags for s in sentences] == [["I-ORG", "O", "I-MISC"], ["I-PER", "I-PER"]]
    assert sentences[0].columns[0] == ["EU", "NNP", "I-NP", "I-ORG"]


def test_line_numbers_are_one_based_and_count_skipped_lines(tmp_path):
    path = write_bytes(tmp_path, CONLL2003.encode())
    sentences = list(read_conll(path))
    assert [s.lines for s in sentences] == [[3, 4, 5], [7, 8]]
    assert all(s.path == str(path) for s in sentences)


def test_cs224d_tab_separated_file_reads_like_conll2003(tmp_path):
    sentences = list(read_conll(write_bytes(tmp_path, CS224D.encode())))
    assert [s.tokens for s in sentences] == [["EU", "rejects", "German"], ["Peter", "Blackburn"]]
    assert [s.tags for s in sentences] == [["ORG", "O", "MISC"], ["PER", "PER"]]


def test_conll2002_three_columns():
    (sentence,) = parse("Sao NC B-LOC\nPaulo VMI I-LOC\n")
    assert sentence.tags == ["B-LOC", "I-LOC"]
    assert sentence.columns[1] == ["Paulo", "VMI", "I-LOC"]


def test_one_column_file_has_no_tags():
    (sentence,) = parse("EU\nrejects\n")
    assert sentence.tokens == ["EU", "rejects"]
    assert sentence.tags is None


def test_word_and_tag_columns_can_be_chosen():
    first, _ = parse(CONLL2003, word_column=2, tag_column=1)
    assert (first.tokens, first.tags) == (["I-NP", "I-VP", "I-NP"], ["NNP", "VBZ", "JJ"])


def test_runs_of_spaces_separate_like_one_space():
    (sentence,) = parse("EU      NNP  I-ORG\nrejects VBZ  O\n")
    assert sentence.columns == [["EU", "NNP", "I-ORG"], ["rejects", "VBZ", "O"]]


def test_utf8_bom_is_not_part_of_the_first_word(tmp_path):
    (sentence,) = read_conll(write_bytes(tmp_path, b"\xef\xbb\xbfEU\tORG\n"))
    assert sentence.tokens == ["EU"]


def test_crlf_line_ends_and_trailing_blanks_are_ignored(tmp_path):
    data = CONLL2003.replace(" O\n", " O \t\n").replace("\n", "\r\n").encode()
    assert content(read_conll(write_bytes(tmp_path, data))) == content(parse(CONLL2003))


def test_missing_final_blank_line_still_ends_the_last_sentence():
    assert content(parse(CONLL2003.rstrip("\n"))) == content(parse(CONLL2003))


def test_several_blank_lines_make_no_empty_sentences():
    text = "\n\n\nEU O\n\n\n\nrejects O\n\n\n"
    assert [s.tokens for s in parse(text)] == [["EU"], ["rejects"]]


def test_latin1_file_reads_with_its_encoding(tmp_path):
    path = write_bytes(tmp_path, "Müller\tPER\nsagt\tO\n".encode("latin-1"))
    (sentence,) = read_conll(path, encoding="latin-1")
    assert sentence.tokens == ["Müller", "sagt"]


def test_docstart_kept_as_a_token_when_asked():
    sentences = parse(CS224D, docstart=False)
    assert sentences[0].tokens == ["-DOCSTART-"]
    assert len(sentences) == 3


def test_docstart_without_blank_line_still_separates_sentences():
    text = "EU O\n-DOCSTART- O\nPeter PER\n"
    assert [s.tokens for s in parse(text)] == [["EU"], ["Peter"]]


def test_binary_and_text_streams_give_the_same_sentences():
    from_bytes = list(parse_incr(io.BytesIO(CONLL2003.encode())))
    from_text = list(parse_incr(io.StringIO(CONLL2003)))
    assert content(from_bytes) == content(from_text)


def test_empty_file_and_docstart_only_file_yield_no_sentences(tmp_path):
    assert list(read_conll(write_bytes(tmp_path, b""))) == []
    assert list(read_conll(write_bytes(tmp_path, b"-DOCSTART- -X- -X- O\n\n", "doc"))) == []


def test_require_sentences_rejects_a_file_without_any(tmp_path):
    err = read_error(tmp_path, b"-DOCSTART- -X- -X- O\n\n", require_sentences=True)
    assert "no sentences found; expected word/tag lines separated by blank lines" in str(err)


# --- streaming ---------------------------------------------------------------


def test_reader_is_a_lazy_generator(tmp_path):
    path = write_bytes(tmp_path, b"EU O\n\nrejects VBZ O\n")
    sentences = read_conll(path)
    assert inspect.isgenerator(sentences)
    # The first sentence arrives before the reader has seen the bad line after it.
    assert next(sentences).tokens == ["EU"]
    with pytest.raises(InputError):
        next(sentences)


def test_reader_stops_reading_where_it_is_asked_to():
    stream = io.BytesIO(b"EU O\n\n" + b"word O\n" * 100_000)
    sentences = parse_incr(stream)
    next(sentences)
    assert stream.tell() < 100


# --- malformed input ---------------------------------------------------------


def test_column_count_change_names_the_first_token_line(tmp_path):
    err = read_error(tmp_path, b"EU NNP I-NP I-ORG\nrejects VBZ O\n")
    assert err.line == 2
    assert "expected 4 columns like line 1, found 3" in str(err)


def test_a_line_without_a_tab_in_a_tab_separated_file_is_one_field(tmp_path):
    err = read_error(tmp_path, b"EU\tORG\nrejects O\n")
    assert err.line == 2
    assert "expected 2 columns like line 1, found 1; this line has no TAB" in str(err)


def test_an_empty_field_between_tabs_other_than_the_word_is_rejected(tmp_path):
    err = read_error(tmp_path, b"EU\tNNP\tORG\nrejects\t\tO\n")
    assert err.line == 2
    assert "empty field in column 2" in str(err)


def test_undecodable_bytes_name_their_line(tmp_path):
    err = read_error(tmp_path, b"EU O\n\nM\xfcller PER\n")
    assert err.line == 3
    assert "cannot decode byte 0xfc at column 2 as utf-8" in str(err)


def test_nul_byte_is_reported_as_binary_data(tmp_path):
    err = read_error(tmp_path, b"EU O\nre\x00jects O\n")
    assert err.line == 2
    assert "binary data; is this a CoNLL text file?" in str(err)


def test_gzip_file_is_reported_as_binary_data(tmp_path):
    import gzip

    err = read_error(tmp_path, gzip.compress(CONLL2003.encode()))
    assert err.line == 1
    assert "binary data" in str(err)


def test_line_over_the_limit_is_rejected(tmp_path):
    err = read_error(tmp_path, b"EU O\n" + b"x" * 101 + b" O\n", max_line_length=100)
    assert err.line == 2
    assert "line longer than 100 characters" in str(err)


def test_line_at_the_limit_is_accepted():
    (sentence,) = parse("x" * 98 + " O\r\n", max_line_length=100)
    assert sentence.tags == ["O"]


def test_ten_megabyte_line_fails_before_being_read_whole():
    stream = io.BytesIO(b"EU O\n" + b"x" * 10_000_000 + b"\n")
    with pytest.raises(InputError, match="line longer than 1,000,000 characters") as info:
        list(parse_incr(stream, path="big.conll"))
    assert str(info.value).startswith("big.conll:2:")
    assert stream.tell() < 5_000_000


def test_long_line_in_a_text_stream_is_rejected_too():
    with pytest.raises(InputError, match="line longer than 10 characters"):
        parse("abcdefghijk O\n", max_line_length=10)


def test_word_column_out_of_range_is_an_input_error(tmp_path):
    err = read_error(tmp_path, b"EU ORG\n", word_column=2)
    assert err.line == 1
    assert "word_column=2 is out of range for a file with 2 columns" in str(err)


def test_multibyte_encoding_is_refused_up_front(tmp_path):
    path = write_bytes(tmp_path, "EU O\n".encode("utf-16"))
    with pytest.raises(ConfigError, match="not ASCII-compatible"):
        list(read_conll(path, encoding="utf-16"))


# --- writing -----------------------------------------------------------------


def test_read_write_read_keeps_every_column(tmp_path):
    first = list(read_conll(write_bytes(tmp_path, CONLL2003.encode())))
    out = tmp_path / "out.conll"
    write_conll(out, first)
    assert content(read_conll(out)) == content(first)


def test_written_file_is_one_line_per_token_with_a_blank_line_after_each_sentence(tmp_path):
    out = tmp_path / "out.conll"
    write_conll(out, [Sentence(["EU", "rejects"], ["ORG", "O"]), Sentence(["Peter"], ["PER"])], separator="\t")
    assert out.read_text() == "EU\tORG\nrejects\tO\n\nPeter\tPER\n\n"


def test_sentences_without_columns_write_tokens_and_tags(tmp_path):
    buffer = io.StringIO()
    write_conll(buffer, [Sentence(["EU", "rejects"], ["ORG", "O"])])
    (sentence,) = parse(buffer.getvalue())
    assert (sentence.tokens, sentence.tags) == (["EU", "rejects"], ["ORG", "O"])


def test_token_with_whitespace_cannot_be_written(tmp_path):
    with pytest.raises(InputError, match="cannot write field 'New York'"):
        write_conll(io.StringIO(), [Sentence(["New York"], ["LOC"])])


def test_empty_sentence_cannot_be_written():
    with pytest.raises(InputError, match="empty sentence"):
        write_conll(io.StringIO(), [Sentence([], [])])


def test_sentences_with_different_column_counts_cannot_be_written():
    sentences = [Sentence(["EU"], ["ORG"]), Sentence(["Peter"], None)]
    with pytest.raises(InputError, match="has 1 columns, earlier tokens 2"):
        write_conll(io.StringIO(), sentences)


def test_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    out = tmp_path / "out.conll"
    out.write_text("old\n")
    with pytest.raises(InputError):
        write_conll(out, [Sentence(["EU"], ["ORG"]), Sentence(["bad token"], ["O"])])
    assert out.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.conll"]


def test_written_file_gets_ordinary_permissions(tmp_path):
    out = tmp_path / "out.conll"
    write_conll(out, [Sentence(["EU"], ["ORG"])])
    plain = tmp_path / "plain"
    plain.write_text("")
    assert out.stat().st_mode == plain.stat().st_mode


# --- property: writing then reading is the identity ----------------------------

fields = st.text(
    # No whitespace or control characters (they separate fields), no surrogates (not
    # encodable), no BOM (a leading one is dropped by the reader).
    st.characters(exclude_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), exclude_characters="\ufeff"),
    min_size=1,
    max_size=8,
).filter(lambda field: field != "-DOCSTART-")


@st.composite
def conll_files(draw):
    n_columns = draw(st.integers(1, 4))
    row = st.lists(fields, min_size=n_columns, max_size=n_columns)
    sentences = draw(st.lists(st.lists(row, min_size=1, max_size=6), max_size=5))
    return [
        Sentence([r[0] for r in rows], [r[-1] for r in rows] if n_columns > 1 else None, rows) for rows in sentences
    ]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(sentences=conll_files(), separator=st.sampled_from([" ", "\t"]))
def test_write_then_read_is_the_identity(sentences, separator):
    buffer = io.StringIO()
    write_conll(buffer, sentences, separator=separator)
    read_back = list(parse_incr(io.BytesIO(buffer.getvalue().encode("utf-8"))))
    assert content(read_back) == content(sentences)
