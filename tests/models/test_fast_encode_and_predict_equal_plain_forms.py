"""The tagger's encode and predict (the fast paths of tagging raw text) give the window ids and
tags of their plain forms: per-token lookups, and the argmax of each word's scores."""

import itertools

import numpy as np


def test_encode_and_predict_equal_their_plain_forms():
    from windowclf import WindowTagger
    from windowclf.features.tokens import FEATURE_EXTRACTORS
    from windowclf.features.windows import window_ids_flat
    from windowclf.tags.schemes import convert

    sents = [
        ["Anna", "Keller", "flew", "to", "Oslo", "."],
        ["Oslo", "is", "cold", "in", "1996", "."],
        ["the", "the", "Anna"],
    ] * 30
    tags = [["B-PER", "I-PER", "O", "O", "B-LOC", "O"], ["B-LOC", "O", "O", "O", "O", "O"], ["O", "O", "B-PER"]] * 30
    tagger = WindowTagger(epochs=2, seed=0, features=["caps", "suffix3"], scheme="IOBES").fit(sents, tags)
    new = [["Anna", "went", "to", "Rome", "."], ("Keller", "stayed"), ["the", "the", "the"]]
    # encode: every table's window ids, from per-token lookups
    lengths = [len(s) for s in new]
    for (feature, _, vocab, _), ids in zip(tagger.lookup_tables(), tagger.encode(new)):
        keys = [t if feature == "word" else FEATURE_EXTRACTORS[feature](t) for s in new for t in s]
        want = window_ids_flat(vocab.ids(keys), lengths, tagger.settings.window, vocab.start_id, vocab.end_id)
        assert np.array_equal(ids, want)
    # predict: the argmax of each word's scores, in the model's scheme or converted
    classes = np.argmax(tagger.scores([list(s) for s in new]), axis=1).tolist()
    flat = [tagger.tags[c] for c in classes]
    bounds = list(itertools.accumulate(lengths))
    want = [flat[a:b] for a, b in zip([0] + bounds[:-1], bounds)]
    assert tagger.predict(new) == want
    assert tagger.predict(new, scheme="IOB2") == [convert(t, "IOB2") for t in want]
