"""Tagging by per-token projections (nn.projections) against the general forward pass: the same
scores within rounding, the same tags, probabilities and confidences within 1e-6, for every kind of
network the project trains."""

from __future__ import annotations

import numpy as np
import pytest
from support import SAMPLE

from windowclf.formats.conll import read_conll
from windowclf.inference.scoring import tagging_session
from windowclf.models.tagger import WindowTagger
from windowclf.nn.network import WindowNetwork

TRAIN = list(read_conll(SAMPLE / "train.conll"))
DEV = list(read_conll(SAMPLE / "dev.conll"))

# every output and decoder, with and without characters, document features and the gazetteer
CONFIGURATIONS = {
    "softmax": dict(features=["caps"]),
    "softmax-rich": dict(features=["caps", "shape", "suffix3", "doccase", "gazetteer"], char_filters=5),
    "sll-rich": dict(
        features=["caps", "prefix3", "doccase", "gazetteer"],
        char_filters=4,
        decoder="sll",
        scheme="IOBES",
        doc_vote=2.0,
    ),
    "sigmoid": dict(features=["caps", "doccase", "gazetteer"], output="sigmoid", positive_tag="LOC", char_filters=3),
    "float64-relu": dict(features=["caps", "suffix2"], activation="relu", dtype="float64", hidden=40),
}


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def trained(request):
    settings = {"dim": 20, "hidden": 30, "epochs": 2, "seed": 0, **CONFIGURATIONS[request.param]}
    tagger = WindowTagger(**settings).fit([s.tokens for s in TRAIN], [s.tags for s in TRAIN])
    return request.param, tagger


def _dev():
    return [s.tokens for s in DEV], [s.document for s in DEV]


def test_projected_scores_are_the_general_pass_within_rounding(trained):
    _, tagger = trained
    sentences, documents = _dev()
    projected = tagger.scores(sentences, documents=documents)
    general = tagger.scores(sentences, tagger.encode(sentences, documents), documents)
    assert projected.dtype == general.dtype
    tolerance = 1e-10 if general.dtype == np.float64 else 2e-5
    np.testing.assert_allclose(projected, general, rtol=tolerance, atol=tolerance)


def test_tags_are_the_general_pass_and_probabilities_and_confidences_within_1e6(trained):
    _, tagger = trained
    sentences, documents = _dev()
    full = [s for s in sentences if s]
    _, general_tags, general_entities = tagger.decode_sentences(
        full, True, entities=True, windows=tagger.encode(full, documents), documents=documents
    )
    _, tags, entities = tagger.decode_sentences(full, True, entities=True, documents=documents)
    assert tags == general_tags
    for mine, theirs in zip(entities, general_entities):
        assert [e[:3] for e in mine] == [e[:3] for e in theirs]
        np.testing.assert_allclose([e[3] for e in mine], [e[3] for e in theirs], rtol=0, atol=1e-6)
    decoder = tagger.decoder(True, general=True)
    z2 = tagger.scores(full, tagger.encode(full, documents), documents)
    lengths = [len(s) for s in full]
    if tagger.settings.doc_vote:
        read = tagger.documents_as_read(documents, len(full))  # the documents as the model reads them
        z2 = decoder.voted(z2, lengths, [w for s in full for w in s], read, tagger.settings.doc_vote)
    reference = decoder.marginals(z2, lengths) if (decoder.sll or decoder.constrained) else None
    mine = tagger.predict_proba(full, documents=documents)
    if reference is not None:
        np.testing.assert_allclose(np.concatenate(mine), reference, rtol=0, atol=1e-6)


def test_a_call_gives_the_same_bits_whatever_the_threads_and_again(trained, monkeypatch):
    import windowclf.inference.prediction as prediction

    _, tagger = trained
    sentences, documents = _dev()
    monkeypatch.setattr(prediction, "_SCORE_THREADS", 1)
    one = tagger.scores(sentences, documents=documents)
    monkeypatch.setattr(prediction, "_SCORE_THREADS", 3)
    three = tagger.scores(sentences, documents=documents)
    assert one.tobytes() == three.tobytes() == tagger.scores(sentences, documents=documents).tobytes()


def test_a_session_keeps_the_tokens_and_a_small_cache_gives_the_same_tags(trained, monkeypatch):
    import windowclf.nn.projections as projections

    _, tagger = trained
    sentences, documents = _dev()
    expected = tagger.predict(sentences, documents=documents)
    monkeypatch.setattr(projections, "CACHE_BYTES", 1)  # the smallest cache: every pass evicts
    monkeypatch.setattr(projections, "_PASS_WINDOWS", 100)
    with tagging_session():
        first = tagger.predict(sentences, documents=documents)
        # the documents in the reverse order, each one's sentences in theirs (a model reads a
        # document's sentences in blocks counted in their order)
        first_seen = {d: -i for i, d in reversed(list(enumerate(documents)))}
        order = sorted(range(len(sentences)), key=lambda i: (first_seen[documents[i]], i))
        shuffled = tagger.predict([sentences[i] for i in order], documents=[documents[i] for i in order])
        again = [None] * len(order)
        for place, i in enumerate(order):
            again[i] = shuffled[place]
    assert first == expected and again == expected


def test_a_network_of_another_class_keeps_its_own_scores():
    class Doubled(WindowNetwork):
        def scores(self, ids):
            return 2 * super().scores(ids)

    tagger = WindowTagger(dim=10, hidden=10, epochs=1, seed=0).fit([s.tokens for s in TRAIN], [s.tags for s in TRAIN])
    sentences = [s.tokens for s in DEV[:40]]
    plain = tagger.scores(sentences, tagger.encode(sentences))
    old = tagger.network
    tagger.network = Doubled.__new__(Doubled)
    tagger.network.__dict__.update(old.__dict__)
    assert tagger.scores(sentences).tobytes() == (2 * plain).tobytes()


def test_weights_changed_by_fit_are_not_read_from_a_session():
    tagger = WindowTagger(dim=10, hidden=10, epochs=1, seed=0)
    tokens, tags = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
    tagger.fit(tokens, tags)
    sentences = [s.tokens for s in DEV[:50]]
    with tagging_session():
        tagger.scores(sentences)
        tagger.fit(tokens, tags)  # other weights: the session forgets the old projections
        after = tagger.scores(sentences)
    np.testing.assert_allclose(after, tagger.scores(sentences, tagger.encode(sentences)), rtol=2e-5, atol=2e-5)
