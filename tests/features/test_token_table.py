"""Sentences as token codes (features.token_table): the ids the windows of encode hold, found once per
distinct token; document case keys, gazetteer keys and vote groups computed from the codes equal
the ones computed word by word."""

from __future__ import annotations

import numpy as np
import pytest
from support import SAMPLE

import windowclf.features.token_table as token_table
from windowclf.features.documents import DOCUMENT_KEYS, document_case_indices, document_case_keys
from windowclf.features.gazetteer import Gazetteer
from windowclf.features.tokens import CAPS_KEYS, caps_key
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

TRAIN = list(read_conll(SAMPLE / "train.conll"))
DEV = list(read_conll(SAMPLE / "dev.conll"))


@pytest.fixture(scope="module")
def rich():
    return WindowTagger(
        dim=10, hidden=10, epochs=1, seed=0, features=["caps", "suffix3", "doccase", "gazetteer"], char_filters=3
    ).fit([s.tokens for s in TRAIN], [s.tags for s in TRAIN])


def test_token_codes_hold_the_ids_of_every_window_of_encode(rich):
    sentences, documents = [s.tokens for s in DEV], [s.document for s in DEV]
    windows = rich.encode(sentences, documents)
    tokens = rich.encode_tokens(sentences, documents)
    center = rich.settings.window // 2
    per_token = rich.per_token_tables()
    names = [name for _, name, _, _ in rich.lookup_tables()]
    k = j = 0
    for name, ids in zip(names, windows):
        if name in per_token:
            got = tokens.table.ids[k][tokens.codes]
            k += 1
        else:
            got = tokens.positional[j]
            j += 1
        assert np.array_equal(got, ids[:, center]), name
    spelled = windows[-1]  # the characters: the same spelling for each word
    words = spelled.ids[:, center]
    assert np.array_equal(spelled.spellings.ids[words], tokens.table.spelled[tokens.codes])


def test_a_table_past_its_size_starts_afresh_between_calls(rich, monkeypatch):
    monkeypatch.setattr(token_table, "MAX_TOKENS", 50)
    table = rich.token_table()
    rich.encode_tokens([s.tokens for s in DEV[:30]], table=table)
    assert len(table) > 50 and table.generation == 0
    second = rich.encode_tokens([s.tokens for s in DEV[:30]], table=table)
    assert table.generation == 1
    plain = rich.encode_tokens([s.tokens for s in DEV[:30]])
    assert np.array_equal(table.ids[0][second.codes], plain.table.ids[0][plain.codes])


@pytest.mark.parametrize("seed", range(20))
def test_document_case_from_numbers_equals_the_word_by_word_keys(seed):
    rng = np.random.default_rng(seed)
    words = ["japan", "Japan", "JAPAN", "oslo", "Oslo", "iPhone", "1996", "a", "A", "x-Ray"]
    sentences = [list(rng.choice(words, size=rng.integers(1, 7))) for _ in range(30)]
    documents = list(rng.integers(0, 3, size=len(sentences)))
    expected = [DOCUMENT_KEYS.index(k) for keys in document_case_keys(sentences, documents) for k in keys]
    flat = [w for s in sentences for w in s]
    lower = {w: i for i, w in enumerate(dict.fromkeys(w.lower() for w in flat))}
    first = np.array([i == 0 for s in sentences for i in range(len(s))])
    got = document_case_indices(
        np.array([lower[w.lower()] for w in flat]),
        np.array([CAPS_KEYS.index(caps_key(w)) for w in flat]),
        first,
        np.repeat(documents, [len(s) for s in sentences]),
    )
    assert got.tolist() == expected


@pytest.mark.parametrize("match", ["capitals", "written"])
def test_gazetteer_keys_from_starts_equal_the_sentence_by_sentence_keys(match):
    sentences, tags = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
    gazetteer = Gazetteer.build(sentences, tags, match)
    new = [s.tokens for s in DEV] + [[w.upper() for w in s.tokens] for s in DEV[:40]]
    vocabulary = gazetteer.key_vocabulary().index_to_key
    expected = [vocabulary.index(k) for keys in gazetteer.keys(new) for k in keys]
    flat = [w for s in new for w in s]
    assert gazetteer.key_indices(flat, gazetteer.starts(flat), [len(s) for s in new]).tolist() == expected
    assert sum(expected) > 0, "the sample must match some entity strings"
