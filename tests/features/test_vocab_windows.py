"""Vocabulary normalization and window construction."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import ConfigError, InputError
from windowclf.features.vocab import END, START, UNK, Vocabulary, normalize_word
from windowclf.features.windows import window_ids


def test_normalization_follows_cs224d():
    assert normalize_word("Paris") == "paris"
    assert normalize_word("1,000") == "DGDGDGDG"
    assert normalize_word("3.5") == "DG.DG"
    assert normalize_word("B52") == "b52"  # words with letters keep their digits


def test_vocabulary_has_unk_and_padding_tokens():
    v = Vocabulary.build([["The", "cat"], ["the", "dog", "1996"]])
    assert v.index_to_key[0] == "the"  # most frequent first
    for token in (UNK, START, END):
        assert v.index_to_key[v.key_to_index[token]] == token
    assert v.lookup("zebra") == v.unk_id
    assert v.lookup("CAT") == v.key_to_index["cat"]
    assert v.lookup("2001") == v.key_to_index["DGDGDGDG"]


def test_min_count_sends_rare_words_to_unk():
    v = Vocabulary.build([["a", "a", "b"]], min_count=2)
    assert "a" in v.key_to_index and "b" not in v.key_to_index
    assert v.lookup("b") == v.unk_id


def test_vocabulary_from_cs224d_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("UUUNKKK\nthe\n,\n<s>\n</s>\nDGDG\n", encoding="utf-8")
    v = Vocabulary.from_file(path)
    assert v.index_to_key[:6] == ["UUUNKKK", "the", ",", "<s>", "</s>", "DGDG"]
    assert v.unk_id == 0 and v.start_id == 3 and v.end_id == 4
    assert v.lookup("42") == 5


def test_vocabulary_file_with_two_words_on_a_line_names_the_line(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("the\nnew york\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab.txt:2: expected one word per line"):
        Vocabulary.from_file(path)


def test_windows_pad_only_at_sentence_edges():
    w = window_ids([np.array([10, 11, 12]), np.array([20])], 5, 0, 1)
    assert w.tolist() == [
        [0, 0, 10, 11, 12],
        [0, 10, 11, 12, 1],
        [10, 11, 12, 1, 1],
        [0, 0, 20, 1, 1],
    ]


def test_window_of_one_is_the_word_itself():
    assert window_ids([np.array([4, 5])], 1, 0, 1).tolist() == [[4], [5]]


@pytest.mark.parametrize("window", [0, 2, -3, 4, 2.0])
def test_even_zero_or_negative_window_is_refused(window):
    with pytest.raises(ConfigError, match="odd integer"):
        window_ids([np.array([1])], window, 0, 1)


def test_empty_input_gives_no_windows():
    assert window_ids([], 3, 0, 1).shape == (0, 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=6), st.sampled_from([1, 3, 5, 7]))
def test_windows_are_padded_only_at_sentence_edges(lengths, window):
    START, END = -1, -2
    sentences, next_id = [], 0
    for n in lengths:
        sentences.append(np.arange(next_id, next_id + n))
        next_id += n
    ids = window_ids(sentences, window, START, END)
    h = window // 2
    row = 0
    for sent in sentences:
        for t in range(len(sent)):
            for j in range(-h, h + 1):
                expected = START if t + j < 0 else END if t + j >= len(sent) else sent[t + j]
                assert ids[row, j + h] == expected
            row += 1
    assert row == ids.shape[0]
