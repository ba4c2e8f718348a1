"""Word-vector files: every format, exact save/load, vocabulary filter and fallbacks, errors."""

from __future__ import annotations

import collections
import gzip
import logging
import os

import numpy as np
import pytest

from windowclf.errors import ConfigError, InputError
from windowclf.formats.vectors import (
    Coverage,
    WordVectors,
    load_cs224d,
    load_vectors,
    match_vocabulary,
    save_word2vec_format,
)

WORDS = ["the", "Paris", "paris", "1996"]
VALUES = np.array([[0.418, 0.24968, -0.41242], [1.5, -2.0, 0.0], [0.25, 0.5, 0.75], [-1e-3, 3e4, 7.0]])
GLOVE = "".join(f"{w} {' '.join(map(repr, row))}\n" for w, row in zip(WORDS, VALUES.tolist()))
WORD2VEC = f"{len(WORDS)} 3\n" + GLOVE


def word2vec_binary(words, values) -> bytes:
    """A word2vec binary file as the original C tool writes it, built independently of the saver."""
    records = b"".join(w.encode() + b" " + np.asarray(v, dtype="<f4").tobytes() + b"\n" for w, v in zip(words, values))
    return f"{len(words)} {len(values[0])}\n".encode() + records


def write(tmp_path, data, name="vectors.txt"):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def load_error(tmp_path, data, **kwargs) -> InputError:
    path = write(tmp_path, data)
    with pytest.raises(InputError) as info:
        load_vectors(path, **kwargs)
    assert info.value.path == str(path)
    return info.value


def bits(array: np.ndarray) -> np.ndarray:
    return array.view(np.uint32 if array.dtype == np.float32 else np.uint64)


# --- formats ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["auto", "glove"])
def test_glove_text_without_header_loads_in_file_order(tmp_path, fmt):
    wv = load_vectors(write(tmp_path, GLOVE), format=fmt)
    assert wv.index_to_key == WORDS
    assert wv.key_to_index == {w: i for i, w in enumerate(WORDS)}
    assert wv.vectors.dtype == np.float32
    np.testing.assert_array_equal(wv.vectors, VALUES.astype(np.float32))


@pytest.mark.parametrize("fmt", ["auto", "word2vec"])
def test_word2vec_text_with_header(tmp_path, fmt):
    wv = load_vectors(write(tmp_path, WORD2VEC), format=fmt)
    assert wv.index_to_key == WORDS
    np.testing.assert_array_equal(wv.vectors, VALUES.astype(np.float32))


@pytest.mark.parametrize("fmt", ["auto", "word2vec-binary"])
def test_word2vec_binary(tmp_path, fmt):
    wv = load_vectors(write(tmp_path, word2vec_binary(WORDS, VALUES), "vectors.bin"), format=fmt)
    assert wv.index_to_key == WORDS
    np.testing.assert_array_equal(wv.vectors, VALUES.astype(np.float32))


@pytest.mark.parametrize("data", [GLOVE, WORD2VEC, word2vec_binary(WORDS, VALUES)], ids=["glove", "w2v", "bin"])
def test_gzip_is_recognised_by_its_magic_bytes_not_its_name(tmp_path, data):
    raw = data.encode() if isinstance(data, str) else data
    wv = load_vectors(write(tmp_path, gzip.compress(raw), "no-suffix"))
    assert wv.index_to_key == WORDS
    np.testing.assert_array_equal(wv.vectors, VALUES.astype(np.float32))


def test_float64_dtype_parses_text_at_full_precision(tmp_path):
    wv = load_vectors(write(tmp_path, GLOVE), dtype=np.float64)
    assert wv.vectors.dtype == np.float64
    np.testing.assert_array_equal(wv.vectors, VALUES)


def test_crlf_trailing_space_and_bom_are_tolerated(tmp_path):
    data = "\ufeff" + WORD2VEC.replace("\n", " \r\n")
    assert load_vectors(write(tmp_path, data)).index_to_key == WORDS


def test_header_only_file_gives_no_vectors_of_its_dimension(tmp_path):
    wv = load_vectors(write(tmp_path, "0 7\n"))
    assert wv.vectors.shape == (0, 7)


# --- WordVectors -------------------------------------------------------------


def test_word_vectors_lookup_is_exact():
    wv = WordVectors(WORDS, VALUES)
    assert (len(wv), wv.dim) == (4, 3)
    assert "Paris" in wv and "PARIS" not in wv
    np.testing.assert_array_equal(wv.get("paris"), VALUES[2])
    assert wv.get("PARIS", "missing") == "missing"


def test_word_vectors_refuse_rows_that_do_not_match_words():
    with pytest.raises(InputError, match="4 words but 3 vector rows"):
        WordVectors(WORDS, VALUES[:3])


def test_word_vectors_refuse_a_repeated_word():
    with pytest.raises(InputError, match="'the' appears twice"):
        WordVectors(["the", "the"], VALUES[:2])


# --- exact save / load ---------------------------------------------------------


def awkward_values(dtype) -> np.ndarray:
    """Random values plus the ones decimal conversion gets wrong most easily."""
    info = np.finfo(dtype)
    special = np.array([info.max, info.tiny, info.smallest_subnormal, -0.0, 1 / 3, 0.1, -info.eps], dtype=dtype)
    rng = np.random.default_rng(0)
    scaled = rng.standard_normal(193) * 10.0 ** rng.integers(-30, 30, size=193)
    return np.concatenate([special, scaled.astype(dtype)]).reshape(-1, 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["v.txt", "v.txt.gz"])
def test_save_then_load_text_is_bit_for_bit(tmp_path, dtype, name):
    vectors = awkward_values(dtype)
    keys = [f"w{i}" for i in range(len(vectors))]
    path = tmp_path / name
    save_word2vec_format(path, (keys, vectors))
    wv = load_vectors(path, dtype=dtype)
    assert wv.index_to_key == keys
    np.testing.assert_array_equal(bits(wv.vectors), bits(vectors))


def test_saved_text_uses_the_shortest_decimals(tmp_path):
    path = tmp_path / "v.txt"
    save_word2vec_format(path, WordVectors(["the"], np.array([[0.418, -0.5]], dtype=np.float32)))
    assert path.read_text() == "1 2\nthe 0.418 -0.5\n"


def test_save_then_load_binary_is_bit_for_bit(tmp_path):
    vectors = awkward_values(np.float32)
    keys = [f"w{i}" for i in range(len(vectors))]
    path = tmp_path / "v.bin"
    save_word2vec_format(path, (keys, vectors), binary=True)
    wv = load_vectors(path)
    np.testing.assert_array_equal(bits(wv.vectors), bits(vectors))


def test_binary_save_of_float64_warns_that_values_were_rounded(tmp_path, caplog):
    path = tmp_path / "v.bin"
    with caplog.at_level(logging.WARNING, logger="windowclf.formats.vectors"):
        save_word2vec_format(path, (["a"], np.array([[1 / 3]])), binary=True)
    assert "rounded" in caplog.text
    assert load_vectors(path).vectors[0, 0] == np.float32(1 / 3)


def test_save_refuses_a_word_with_whitespace(tmp_path):
    with pytest.raises(InputError, match="cannot save word 'new york'"):
        save_word2vec_format(tmp_path / "v.txt", (["new york"], np.zeros((1, 2))))


def test_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path):
    path = write(tmp_path, "old")
    with pytest.raises(InputError, match="non-finite value in the row of 'b'"):
        save_word2vec_format(path, (["a", "b"], np.array([[1.0], [np.nan]])))
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == [path.name]


# --- vocabulary filter and fallbacks ---------------------------------------------


def test_vocabulary_keeps_only_wanted_words_in_file_order(tmp_path):
    wv = load_vectors(write(tmp_path, GLOVE), vocabulary={"1996", "the", "absent"}, normalize=())
    assert wv.index_to_key == ["the", "1996"]
    np.testing.assert_array_equal(wv.vectors, VALUES[[0, 3]].astype(np.float32))


def test_unwanted_lines_are_not_parsed(tmp_path):
    wv = load_vectors(write(tmp_path, GLOVE + "junk 1 x\n"), vocabulary={"the"})
    assert wv.index_to_key == ["the"]


def test_vocabulary_word_finds_its_lowercased_form_by_default(tmp_path):
    wv = load_vectors(write(tmp_path, "paris 1 2\nlondon 3 4\n"), vocabulary={"Paris"})
    assert wv.index_to_key == ["paris"]
    found, rows = match_vocabulary(wv, ["<unk>", "Paris"])
    assert found.tolist() == [1]
    np.testing.assert_array_equal(rows, [[1, 2]])


def test_exact_match_beats_the_lowercased_fallback():
    wv = WordVectors(WORDS, VALUES)
    found, rows = match_vocabulary(wv, ["Paris", "PARIS"])
    assert found.tolist() == [0, 1]
    np.testing.assert_array_equal(rows, VALUES[[1, 2]])


def test_fallbacks_are_tried_in_order():
    def digits_to_zero(word):
        return "".join("0" if c.isdigit() else c for c in word.lower())

    wv = WordVectors(["0000", "paris"], np.array([[1.0], [2.0]]))
    found, rows = match_vocabulary(wv, ["1996", "PARIS", "Lyon"], normalize=[str.lower, digits_to_zero])
    assert found.tolist() == [0, 1]
    np.testing.assert_array_equal(rows, [[1.0], [2.0]])


def test_empty_normalize_means_exact_matches_only():
    found, _ = match_vocabulary(WordVectors(WORDS, VALUES), ["THE", "the"], normalize=())
    assert found.tolist() == [1]


def test_match_vocabulary_rows_initialise_an_embedding_matrix():
    wv = WordVectors(WORDS, VALUES)
    vocabulary = ["<unk>", "the", "PARIS", "berlin"]
    L = np.zeros((len(vocabulary), wv.dim))
    found, rows = match_vocabulary(wv, vocabulary)
    L[found] = rows
    np.testing.assert_array_equal(L, [[0, 0, 0], VALUES[0], VALUES[2], [0, 0, 0]])


def test_coverage_counts_types_and_tokens():
    wv = WordVectors(WORDS, VALUES)
    counts = collections.Counter(["the", "the", "THE", "berlin", "Paris"])
    assert wv.coverage(counts) == Coverage(types=4, types_found=3, tokens=5, tokens_found=4)
    assert wv.coverage(counts, normalize=()) == Coverage(4, 2, 5, 3)
    assert wv.coverage(["the", "berlin"]).type_ratio == 0.5


# --- CS224d pair ---------------------------------------------------------------


def test_cs224d_pair_gives_line_i_the_vector_of_word_i(tmp_path):
    vocab = write(tmp_path, "UUUNKKK\nthe\n<s>\n", "vocab.txt")
    vectors = write(tmp_path, "0.5 1.5\n-2 3\n4 5e-1\n", "wordVectors.txt")
    wv = load_cs224d(vocab, vectors)
    assert wv.index_to_key == ["UUUNKKK", "the", "<s>"]
    np.testing.assert_array_equal(wv.vectors, np.array([[0.5, 1.5], [-2, 3], [4, 0.5]], dtype=np.float32))


@pytest.mark.parametrize("n_vectors", [2, 4])
def test_cs224d_line_counts_must_agree(tmp_path, n_vectors):
    vocab = write(tmp_path, "a\nb\nc\n", "vocab.txt")
    vectors = write(tmp_path, "1 2\n" * n_vectors, "wordVectors.txt")
    with pytest.raises(InputError) as info:
        load_cs224d(vocab, vectors)
    assert info.value.path == str(vectors)
    assert "3 words" in str(info.value)


def test_cs224d_vector_line_of_wrong_length_names_its_line(tmp_path):
    vocab = write(tmp_path, "a\nb\n", "vocab.txt")
    vectors = write(tmp_path, "1 2\n3\n", "wordVectors.txt")
    with pytest.raises(InputError, match=r"wordVectors.txt:2: expected 2 values after the word, found 1"):
        load_cs224d(vocab, vectors)


def test_cs224d_repeated_word_keeps_its_first_row(tmp_path, caplog):
    vocab = write(tmp_path, "a\nb\na\n", "vocab.txt")
    vectors = write(tmp_path, "1\n2\n3\n", "wordVectors.txt")
    with caplog.at_level(logging.WARNING, logger="windowclf.formats.vectors"):
        wv = load_cs224d(vocab, vectors)
    assert wv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(wv.vectors, [[1], [2]])
    assert f"{vocab}:3: duplicate word 'a'" in caplog.text


# --- malformed files -----------------------------------------------------------


def test_wrong_number_of_values_names_the_line(tmp_path):
    err = load_error(tmp_path, "a 1 2 3\nb 1 2\n")
    assert err.line == 2
    assert "expected 3 values after the word, found 2" in str(err)


def test_header_dimension_is_the_expected_count(tmp_path):
    err = load_error(tmp_path, "1 50\nthe " + "0.5 " * 49 + "\n")
    assert err.line == 2
    assert "expected 50 values after the word, found 49" in str(err)


def test_non_numeric_value_is_named(tmp_path):
    err = load_error(tmp_path, "a 1 2\nb 1 abc\n")
    assert err.line == 2
    assert "non-numeric value 'abc' (value 2)" in str(err)


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e39"])
def test_non_finite_value_is_refused(tmp_path, value):
    err = load_error(tmp_path, f"a 1 2\nb {value} 2\n")
    assert err.line == 2
    assert f"non-finite value '{value}' (value 1)" in str(err)


def test_float32_overflow_is_fine_in_float64(tmp_path):
    wv = load_vectors(write(tmp_path, "a 1e39\n"), dtype=np.float64)
    assert wv.vectors[0, 0] == 1e39


def test_header_count_above_the_lines_reports_truncation(tmp_path):
    err = load_error(tmp_path, "5 3\n" + GLOVE)
    assert err.line == 5
    assert "unexpected end of input; is the count in the header wrong or the file truncated?" in str(err)


def test_header_count_below_the_lines_is_refused(tmp_path):
    err = load_error(tmp_path, "2 3\n" + GLOVE)
    assert err.line == 4
    assert "more vectors than the header's count 2" in str(err)


def test_missing_header_when_word2vec_is_asked(tmp_path):
    err = load_error(tmp_path, GLOVE, format="word2vec")
    assert err.line == 1
    assert "expected a header 'count dim'" in str(err)


def test_duplicate_word_warns_and_keeps_the_first(tmp_path, caplog):
    path = write(tmp_path, "a 1\nb 2\na 3\n")
    with caplog.at_level(logging.WARNING, logger="windowclf.formats.vectors"):
        wv = load_vectors(path)
    assert wv.index_to_key == ["a", "b"]
    np.testing.assert_array_equal(wv.vectors, [[1], [2]])
    assert f"{path}:3: duplicate word 'a'" in caplog.text


def test_undecodable_word_names_its_line(tmp_path):
    err = load_error(tmp_path, b"a 1\nM\xfcller 2\n")
    assert err.line == 2
    assert "cannot decode the word as utf-8" in str(err)


def test_latin1_words_load_with_their_encoding(tmp_path):
    wv = load_vectors(write(tmp_path, "Müller 2\n".encode("latin-1")), encoding="latin-1")
    assert wv.index_to_key == ["Müller"]


def test_empty_file_is_refused(tmp_path):
    assert "empty file; expected word vectors" in str(load_error(tmp_path, b""))


def test_truncated_binary_file_reports_unexpected_end(tmp_path):
    data = word2vec_binary(WORDS, VALUES)[:-7]
    err = load_error(tmp_path, data, format="word2vec-binary")
    assert "vector 4 of 4" in str(err)
    assert "unexpected end of input" in str(err)


def test_unknown_format_and_integer_dtype_are_config_errors(tmp_path):
    path = write(tmp_path, GLOVE)
    with pytest.raises(ConfigError, match="unknown vectors format 'fasttext'"):
        load_vectors(path, format="fasttext")
    with pytest.raises(ConfigError, match="floating dtype"):
        load_vectors(path, dtype=np.int32)
