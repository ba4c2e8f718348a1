"""Tokenizers as a choice: conll, whitespace (pre-tokenized lines) and social (mentions, hashtags, URLs,
emoticons and emoji whole), each with offsets that slice back to its tokens and lose or invent nothing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.errors import ConfigError
from windowclf.text.reader import text_sentences
from windowclf.text.tokenize import TOKENIZERS, iter_sentences, split_sentences, tokenize


def texts_of(text, tokenizer):
    return [t.text for t in tokenize(text, tokenizer=tokenizer)]


def test_a_tweet_keeps_its_mentions_hashtags_urls_emoticons_and_emoji_whole():
    tweet = "@taylorswift13 at #Coachella :) so good 👩‍💻👍🏽 🇳🇴 1️⃣ <3 ^_^ :-P see https://t.co/x2Y. Next one! xD"
    assert texts_of(tweet, "social") == [
        "@taylorswift13",
        "at",
        "#Coachella",
        ":)",
        "so",
        "good",
        "👩\u200d💻",
        "👍🏽",
        "🇳🇴",
        "1️⃣",
        "<3",
        "^_^",
        ":-P",
        "see",
        "https://t.co/x2Y",
        ".",
        "Next",
        "one",
        "!",
        "xD",
    ]
    # the newswire rules cut them apart: why the choice exists
    assert texts_of("@taylorswift13 #Coachella :)", "conll") == ["@", "taylorswift13", "#", "Coachella", ":", ")"]


def test_social_text_keeps_the_newswire_rules_elsewhere():
    text = "Mr. Smith's U.S.-led talks cost $1,000.5 (3.5%), e-mail me@acme.com or C# 3:30 8)"
    social, conll = texts_of(text, "social"), texts_of(text, "conll")
    assert social == conll  # no hashtag, mention, emoticon or emoji here: the CoNLL rules alone


def test_whitespace_tokens_are_what_lies_between_blanks_and_a_line_is_a_sentence():
    text = "EU rejects German call to boycott British lamb .\nPeter Blackburn\n\nU.S. don't 1,000\n"
    sentences = [[t.text for t in s] for s in split_sentences(text, tokenizer="whitespace")]
    assert sentences == [
        ["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
        ["Peter", "Blackburn"],
        ["U.S.", "don't", "1,000"],
    ]


def test_an_unknown_tokenizer_is_one_error_naming_the_choices():
    with pytest.raises(ConfigError, match="conll, whitespace, social"):
        tokenize("a b", tokenizer="spacy")


_PIECES = [
    "@anna_k",
    "#Oslo2024",
    ":)",
    ";-P",
    ":'(",
    "<3",
    "</3",
    "^_^",
    "xD",
    "👩\u200d💻",
    "👍🏽",
    "🇳🇴",
    "1️⃣",
    "❤️",
    "http://x.co/a?b=1",
    "U.S.",
    "don't",
    "Oslo",
    ".",
    "!",
    "a@b.com",
    "C#",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "\t",
    "\u00a0",
    "\u2028",
    "\u200d",
    "\ufe0f",
]
texts = st.one_of(
    st.text(max_size=120),
    st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=3)), max_size=60).map("".join),
    # a paragraph past 2,000 characters takes its offsets from the non-space characters' positions
    st.lists(st.sampled_from([p for p in _PIECES if p.isprintable() or p == " "]), min_size=600, max_size=650)
    .map("".join)
    .map(lambda text: text.ljust(2001, "y")),
)


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@settings(max_examples=40, deadline=None)
@given(text=texts)
def test_offsets_slice_back_and_no_character_is_lost_or_invented(tokenizer, text):
    tokens = tokenize(text, tokenizer=tokenizer)
    assert all(text[t.start : t.end] == t.text for t in tokens)
    assert all(a.end <= b.start for a, b in itertools.pairwise(tokens))
    assert not any(c.isspace() for t in tokens for c in t.text)
    assert "".join(t.text for t in tokens) == "".join(text.split())
    sentences = split_sentences(text, tokenizer=tokenizer)
    assert all(sentences) and [t for s in sentences for t in s] == tokens


@pytest.mark.parametrize("tokenizer", TOKENIZERS)
@settings(max_examples=30, deadline=None)
@given(text=texts, data=st.data())
def test_a_stream_cut_anywhere_gives_the_sentences_of_the_whole_text(tokenizer, text, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=8)))
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    assert list(iter_sentences(pieces, tokenizer=tokenizer)) == split_sentences(text, tokenizer=tokenizer)


def test_the_reader_of_files_splits_with_the_tokenizer_it_is_given():
    import io

    text = "@anna_k loves #Oslo :)\nsee you"
    got = [s.tokens for s in text_sentences(io.StringIO(text), tokenizer="social")]
    assert got == [[t.text for t in s] for s in split_sentences(text, tokenizer="social")]
    assert got[0][:4] == ["@anna_k", "loves", "#Oslo", ":)"]
