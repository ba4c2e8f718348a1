"""The raw-text pipeline's fast paths give the same tokens and offsets as the plain ones: the
tokenizer's vectorized offsets, iter_sentence_spans and text_sentences' lazy Offsets.

(The other fast paths of tagging raw text: tests/formats/test_fast_conll_writer_equals_columns_writer.py
and tests/models/test_fast_encode_and_predict_equal_plain_forms.py.)"""

import contextlib
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import TOKENIZER_PIECES, texts

from windowclf.formats.writers import Tagged, sentence_json
from windowclf.text import tokenize as tokenize_module
from windowclf.text.reader import Offsets, text_sentences
from windowclf.text.tokenize import Token, iter_sentence_spans, iter_sentences, split_sentences, tokenize

long_texts = st.lists(
    st.one_of(st.sampled_from(TOKENIZER_PIECES), st.text(max_size=3)), min_size=200, max_size=600
).map("".join)


@contextlib.contextmanager
def _offsets_from(path):
    """Find the token offsets of every paragraph one way: from the matches, or vectorized."""
    saved = tokenize_module._VECTOR_CHARS
    tokenize_module._VECTOR_CHARS = 0 if path == "vector" else 10**12
    try:
        yield
    finally:
        tokenize_module._VECTOR_CHARS = saved


def _both(function, *args):
    with _offsets_from("match"):
        by_match = function(*args)
    with _offsets_from("vector"):
        by_vector = function(*args)
    return by_match, by_vector


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.one_of(texts, long_texts))
def test_vectorized_offsets_equal_the_matches_offsets(text):
    by_match, by_vector = _both(split_sentences, text)
    assert by_vector == by_match
    assert all(text[t.start : t.end] == t.text for s in by_vector for t in s)


def test_vectorized_offsets_on_unicode_spaces_and_lone_surrogates():
    text = "A\u3000b\u2028c\u00a0\ud800 d\u205f.\u0085E\x1cf \U0001f600 g. " * 60
    by_match, by_vector = _both(tokenize, text)
    assert by_vector == by_match
    assert "".join(t.text for t in by_vector) == "".join(text.split())


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(st.one_of(texts, long_texts), st.data())
def test_sentence_spans_equal_sentences_of_tokens_for_any_cut(text, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    for path in ("match", "vector"):
        with _offsets_from(path):
            spans = list(iter_sentence_spans(pieces, offset_base=3, max_chars=50))
            tokens = list(iter_sentences(pieces, offset_base=3, max_chars=50))
        assert [list(map(Token, *span)) for span in spans] == tokens


def test_text_sentences_on_a_long_text_equal_the_token_sentences():
    text = (
        "Mr. J. Smith of Acme Inc. said on Monday that the U.S.-led talks, worth $1,000.5 million, "
        'would go on. "It works!" he said.\nAnother line (with brackets) follows here. '
    ) * 3000
    got = list(text_sentences(io.StringIO(text)))
    want = list(iter_sentences(io.StringIO(text)))
    assert len(got) == len(want) > 1000
    for s, tokens in zip(got, want):
        assert s.tokens == [t.text for t in tokens]
        assert s.offsets == [(t.start, t.end) for t in tokens]
        assert s.text == text[tokens[0].start : tokens[-1].end]


def test_offsets_are_a_sequence_of_pairs():
    offsets = Offsets([0, 5, 9], [4, 8, 10])
    pairs = [(0, 4), (5, 8), (9, 10)]
    assert offsets == pairs and offsets == Offsets([0, 5, 9], [4, 8, 10]) and offsets != pairs[:2]
    assert list(offsets) == pairs and offsets[1] == (5, 8) and offsets[-1] == (9, 10)
    assert offsets[1:] == pairs[1:] and len(offsets) == 3 and repr(offsets) == repr(pairs)
    a = Tagged(["Oslo", "is", "."], ["B-LOC", "O", "O"], offsets=offsets, text="Oslo is .")
    b = Tagged(["Oslo", "is", "."], ["B-LOC", "O", "O"], offsets=pairs, text="Oslo is .")
    assert a == b
    assert json.dumps(sentence_json(a)) == json.dumps(sentence_json(b))


def test_offsets_fall_back_to_the_matches_if_the_counts_ever_disagree(monkeypatch):
    text = 'Mr. J. Smith said so. "Yes!" he said.\nThe end (really). ' * 200
    want = split_sentences(text)
    monkeypatch.setattr(tokenize_module, "_token_offsets", lambda *args: None)
    with _offsets_from("vector"):
        assert split_sentences(text) == want
