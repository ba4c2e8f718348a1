"""The library's input contract: what predict and fit take and refuse, and the callbacks they call."""

from __future__ import annotations

import pytest
from support import TINY_TAGGER

import windowclf
from windowclf import WindowTagger
from windowclf.errors import InputError


@pytest.fixture(scope="module")
def tagger(sample_split):
    (train_s, train_t), _ = sample_split
    return WindowTagger(epochs=2, **TINY_TAGGER).fit(train_s, train_t)


def test_predict_refuses_strings_where_sentences_belong_and_takes_the_tokenizers_output(tagger):
    with pytest.raises(TypeError, match="split_sentences"):
        tagger.predict("Anna lives in Oslo")
    with pytest.raises(TypeError, match="not a list of tokens"):
        tagger.predict(["Anna", "Keller"])
    with pytest.raises(TypeError, match="not a str"):
        tagger.predict([["Anna", 3]])
    text = "Anna Keller lives in Oslo. She likes it."
    assert tagger.predict(windowclf.split_sentences(text)) == tagger.predict(
        [[t.text for t in s] for s in windowclf.split_sentences(text)]
    )


def test_empty_sentences_are_refused_by_fit_and_give_empty_predictions(tagger, sample_split):
    (train_s, train_t), _ = sample_split
    with pytest.raises(InputError, match="sentence 2 is empty"):
        WindowTagger(epochs=1, **TINY_TAGGER).fit(train_s[:2] + [[]] + train_s[2:4], train_t[:2] + [[]] + train_t[2:4])
    assert tagger.predict([[], ["Oslo"], []])[0] == [] and len(tagger.predict([[], ["Oslo"], []])) == 3
    sll = WindowTagger(decoder="sll", epochs=1, **TINY_TAGGER).fit(train_s[:20], train_t[:20])
    assert sll.predict([[]]) == [[]]
    assert sll.predict_entities([[]]) == [[]]
    assert [p.shape for p in sll.predict_proba([[], ["Oslo"]])] == [(0, len(sll.tags)), (1, len(sll.tags))]


def test_a_callback_may_define_only_on_epoch_end_and_the_names_are_public(sample_split):
    (train_s, train_t), _ = sample_split
    seen = []

    class EpochsOnly:
        def on_epoch_end(self, result):
            seen.append(result.epoch)

    class Stop(windowclf.Callback):
        def on_epoch_end(self, result: windowclf.EpochResult):
            return result.epoch == 2

    WindowTagger(epochs=5, **TINY_TAGGER).fit(train_s[:30], train_t[:30], callbacks=[EpochsOnly(), Stop()])
    assert seen == [1, 2]
    assert {"Callback", "EpochResult"} <= set(windowclf.__all__)
