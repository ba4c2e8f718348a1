"""Sentence modes of raw text: line breaks that end sentences or paragraphs, the full stops of
Chinese and Japanese, and every mode streamed as the whole text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import ConfigError
from windowclf.text.sentences import SENTENCE_MODES
from windowclf.text.tokenize import iter_sentences, split_sentences


def _texts(sentences):
    return [" ".join(t.text for t in s) for s in sentences]


def test_line_modes_end_sentences_at_line_breaks():
    text = "Barack Obama visited Paris\nAngela Merkel stayed in Berlin\r\nDr. Who. Yes.\n"
    assert _texts(split_sentences(text)) == [
        "Barack Obama visited Paris Angela Merkel stayed in Berlin Dr. Who .",
        "Yes .",
    ]
    assert _texts(split_sentences(text, "paragraph-per-line")) == [
        "Barack Obama visited Paris",
        "Angela Merkel stayed in Berlin",
        "Dr. Who .",
        "Yes .",
    ]
    assert _texts(split_sentences(text, "sentence-per-line")) == [
        "Barack Obama visited Paris",
        "Angela Merkel stayed in Berlin",
        "Dr. Who . Yes .",
    ]
    with pytest.raises(ConfigError, match="sentence-per-line"):
        split_sentences(text, "lines")


def test_chinese_and_japanese_sentences_end_at_their_full_stops():
    assert _texts(split_sentences("我住在东京。他住在北京！你呢？")) == ["我住在东京 。", "他住在北京 ！", "你呢 ？"]
    assert _texts(split_sentences("「東京は大きい。」と彼は言った。")) == ["「 東京は大きい 。 」", "と彼は言った 。"]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.sampled_from(
            [
                "Oslo",
                "is",
                "cold",
                ".",
                "It",
                "snows",
                "!",
                "\n",
                "\r\n",
                "\n\n",
                " ",
                "。",
                "东京",
                "Dr.",
                "U.S.",
                '"',
                "\u2028",
            ]
        ),
        max_size=40,
    ),
    st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=10),
    st.sampled_from(SENTENCE_MODES),
)
def test_every_mode_streams_the_sentences_of_the_whole_text(words, cuts, mode):
    text = " ".join(words)
    pieces, i, k = [], 0, 0
    while i < len(text):
        pieces.append(text[i : i + cuts[k % len(cuts)]])
        i += cuts[k % len(cuts)]
        k += 1
    whole = split_sentences(text, mode)
    assert list(iter_sentences(pieces, mode=mode)) == whole
    for sentence in whole:
        for token in sentence:
            assert text[token.start : token.end] == token.text
