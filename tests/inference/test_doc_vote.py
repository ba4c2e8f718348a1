"""The document vote: each word's scores moved towards those of the same word elsewhere in its document."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from support import SAMPLE

from windowclf import Ensemble, WindowTagger, read_conll
from windowclf.cli.main import main
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.features.documents import vote_key
from windowclf.inference.decoding import Decoder
from windowclf.nn.functions import softmax

TRAIN = list(read_conll(SAMPLE / "train.conll"))
DEV = list(read_conll(SAMPLE / "dev.conll"))


def _bonus_by_hand(q, words, documents, weight):
    """weight * (mean of q over the same word in the same document - q), one word at a time."""
    out = np.zeros_like(q)
    for i in range(len(q)):
        same = [j for j in range(len(q)) if words[j] == words[i] and documents[j] == documents[i]]
        out[i] = weight * (q[same].mean(axis=0) - q[i])
    return out


def test_softmax_scores_move_by_the_documents_mean_of_each_types_probability():
    tags = ["O", "I-LOC", "I-PER"]
    decoder = Decoder(tags, "IO", constrain=False)
    words = ["Jordan", "said", "Jordan", "Jordan", "won"]
    documents = [0, 0, 0, 1, 1]  # one sentence a word, so a word's document is its sentence's
    z2 = np.array([[0.0, 4.0, 0.0], [3.0, 0.0, 0.0], [0.0, 1.0, 1.3], [0.0, 1.0, 1.3], [2.0, 0.0, 0.0]])
    voted = decoder.voted(z2, [1] * 5, words, documents, 2.0)
    assert np.allclose(voted - z2, _bonus_by_hand(softmax(z2), words, documents, 2.0), rtol=0, atol=1e-12)
    assert voted.dtype == np.float64
    # the unsure Jordan of document 0 reads as a place, as its other occurrence there; document 1's
    # Jordan, alone in its document, keeps its scores and its tag
    assert np.argmax(voted, axis=1).tolist() == [1, 0, 1, 2, 0]
    assert np.array_equal(voted[3:], z2[3:])
    named = decoder.voted(z2, [1] * 5, words, [("a", 1)] * 3 + [("b", 1)] * 2, 2.0)  # any hashable names
    assert np.array_equal(named, voted)


def test_a_headline_word_in_capitals_votes_with_its_capitalized_form_never_with_lowercase():
    decoder = Decoder(["O", "I-LOC", "I-PER"], "IO", constrain=False)
    words, documents = ["JAPAN", "Japan", "japan", "US", "us"], [0] * 5
    z2 = np.array([[0.0, 0.0, 0.2], [0.0, 4.0, 0.0], [3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [3.0, 0.0, 0.0]])
    voted = decoder.voted(z2, [1] * 5, words, documents, 2.0)
    keys = [vote_key(w) for w in words]
    assert keys == ["Japan", "Japan", "japan", "Us", "us"]
    assert np.allclose(voted - z2, _bonus_by_hand(softmax(z2), keys, documents, 2.0), rtol=0, atol=1e-12)
    assert np.argmax(voted[0]) == 1  # the headline's JAPAN reads as the place its Japan is
    assert np.array_equal(voted[2:], z2[2:])  # japan, US and us: each alone under its own key


def test_a_word_seen_once_in_its_document_and_a_zero_weight_change_nothing():
    rng = np.random.default_rng(0)
    decoder = Decoder(["O", "B-LOC", "I-LOC"], "IOB2", transitions=(rng.normal(size=(3, 3)), rng.normal(size=3)))
    z2 = rng.normal(size=(6, 3)).astype(np.float32)
    assert np.array_equal(decoder.voted(z2, [4, 2], list("abcdef"), [0, 0], 3.0), z2)
    assert np.array_equal(decoder.voted(z2, [4, 2], list("aaaaaa"), [0, 0], 0.0), z2)
    assert np.array_equal(decoder.voted(z2, [4, 2], list("abcdba"), [0, 1], 3.0), z2)  # repeats cross documents


def test_an_sll_chains_tags_of_one_type_move_together_by_their_summed_marginals():
    rng = np.random.default_rng(1)
    tags = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]
    decoder = Decoder(tags, "IOBES", transitions=(rng.normal(size=(9, 9)), rng.normal(size=9)))
    lengths, words = [3, 4, 2], ["New", "York", "said", "in", "New", "York", "today", "York", "said"]
    documents = ["a", "a", "b"]
    z2 = rng.normal(size=(9, 9)) * 2
    p = decoder.marginals(z2, lengths)  # under the scheme's constraints, as decoding reads them
    q = np.stack([p[:, 0], p[:, 1:5].sum(axis=1), p[:, 5:].sum(axis=1)], axis=1)  # O, LOC, PER
    per_word = np.repeat(documents, lengths)
    expected = _bonus_by_hand(q, words, per_word, 1.5)[:, [0, 1, 1, 1, 1, 2, 2, 2, 2]]
    assert np.allclose(decoder.voted(z2, lengths, words, documents, 1.5) - z2, expected, rtol=0, atol=1e-12)
    assert np.abs(expected[[0, 4], 1:]).max() > 0.01  # "New" of document a moved; document b's "York" did not
    assert np.array_equal(expected[7], np.zeros(9))


def test_a_one_vs_rest_logit_moves_by_the_difference_of_its_two_bonuses():
    decoder = Decoder(["O", "LOC"], "IO", output="sigmoid")
    z2 = np.array([[3.0], [-0.5], [1.0]])
    h = 1 / (1 + np.exp(-z2[:, 0]))
    q = np.stack([1 - h, h], axis=1)
    bonus = _bonus_by_hand(q, ["Paris", "Paris", "x"], [0, 0, 0], 1.0)
    voted = decoder.voted(z2, [3], ["Paris", "Paris", "x"], [0], 1.0)
    assert np.allclose(voted[:, 0] - z2[:, 0], bonus[:, 1] - bonus[:, 0], rtol=0, atol=1e-12)
    assert voted[1, 0] > 0 > z2[1, 0]  # the doubtful Paris is a place, as the sure one


def test_the_weight_is_a_setting_checked_like_the_others():
    assert Settings().doc_vote == 0.0
    for bad in (-1, float("nan"), "2", True):
        with pytest.raises(ConfigError, match="doc_vote"):
            Settings(doc_vote=bad)


@pytest.fixture(scope="module")
def voted_model():
    return WindowTagger(epochs=3, seed=0, scheme="IOBES", decoder="sll", doc_vote=2.0).fit(
        [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
    )


def _dev_as_documents(every=5):
    return [s.tokens for s in DEV], [i // every for i in range(len(DEV))]


def test_a_model_with_a_vote_reads_documents_and_each_output_reads_the_voted_chain(voted_model):
    tagger = voted_model
    assert tagger.reads_documents
    sentences, documents = _dev_as_documents()
    tags = tagger.predict(sentences, documents=documents)
    alone = tagger.predict(sentences, documents=list(range(len(sentences))))  # each sentence its own document
    assert tags != alone, "the sample must show what the documents change"
    # a document tagged alone gets the tags it gets among the others: the vote reads documents, not calls
    for d in sorted(set(documents))[:4]:
        mine = [i for i, doc in enumerate(documents) if doc == d]
        assert tagger.predict([sentences[i] for i in mine]) == [tags[i] for i in mine]
    # tags, probabilities and confidences all read the voted chain of the network's scores
    probs = tagger.predict_proba(sentences, documents=documents)
    decoder = tagger.decoder()
    full = [s for s in sentences if s]
    z2 = tagger.scores(full)
    voted = decoder.voted(
        z2, [len(s) for s in full], [w for s in full for w in s], [d for s, d in zip(sentences, documents) if s], 2.0
    )
    assert np.allclose(np.concatenate(probs), decoder.marginals(voted, [len(s) for s in full]), atol=1e-6)
    assert tags == [
        [tagger.tags[j] for j in row]
        for row in np.split(decoder.decode(voted, [len(s) for s in full]), np.cumsum([len(s) for s in full])[:-1])
    ]
    assert tags != [
        [tagger.tags[j] for j in row]
        for row in np.split(decoder.decode(z2, [len(s) for s in full]), np.cumsum([len(s) for s in full])[:-1])
    ]


def test_evaluate_and_the_dev_score_during_training_read_the_documents(voted_model, tmp_path):
    sentences, documents = _dev_as_documents()
    gold = [s.tags for s in DEV]
    result = voted_model.evaluate(sentences, gold, documents=documents)
    from windowclf.tags.conlleval import count_chunks, precision_recall_f1
    from windowclf.tags.schemes import convert

    predicted = [convert(t, "IOB2") for t in voted_model.predict(sentences, documents=documents)]
    assert result["overall"]["f1"] == pytest.approx(precision_recall_f1(count_chunks(gold, predicted))["overall"].f1)
    # fit's dev score each epoch is evaluate's with the dev documents
    tagger = WindowTagger(epochs=2, seed=0, doc_vote=2.0).fit(
        [s.tokens for s in TRAIN], [s.tags for s in TRAIN], dev=(sentences, gold, documents)
    )
    assert tagger.history[-1]["dev"]["f1"] == pytest.approx(
        tagger.evaluate(sentences, gold, documents=documents)["overall"]["f1"]
    )


def test_the_vote_is_saved_in_the_model_set_by_train_and_shown_by_info(voted_model, tmp_path):
    voted_model.save(tmp_path / "m.npz")
    assert WindowTagger.load(tmp_path / "m.npz").settings.doc_vote == 2.0
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["train", str(SAMPLE / "train.conll"), "-o", str(tmp_path / "c.npz"), "--epochs", "1", "--doc-vote", "1.5"],
    )
    assert result.exit_code == 0, result.output
    info = runner.invoke(main, ["info", "--toml", str(tmp_path / "c.npz")])
    assert "doc_vote = 1.5" in info.output
    bad = runner.invoke(
        main, ["train", str(SAMPLE / "train.conll"), "-o", str(tmp_path / "d.npz"), "--epochs", "1", "--doc-vote", "-1"]
    )
    assert bad.exit_code != 0 and "Error: --doc-vote must be a number >= 0, got -1.0" in bad.output
    assert not (tmp_path / "d.npz").exists()


def test_predict_votes_within_each_document_of_its_input(voted_model, tmp_path):
    from windowclf.text.tokenize import split_sentences

    voted_model.save(tmp_path / "m.npz")
    lines = [" ".join(s.tokens) for s in DEV[:12]]
    (tmp_path / "news.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sentences, documents = [], []
    for number, line in enumerate(lines):
        for s in split_sentences(line):
            sentences.append([t.text for t in s])
            documents.append(number)
    result = CliRunner().invoke(
        main, ["predict", "-m", str(tmp_path / "m.npz"), "--document-per-line", str(tmp_path / "news.txt")]
    )
    assert result.exit_code == 0, result.output
    predicted = [line.split()[-1] for line in result.output.splitlines() if line.strip()]
    expected = voted_model.predict(sentences, documents=documents)
    assert predicted == [t for sentence in expected for t in sentence]


def test_an_ensemble_votes_once_on_its_averaged_chain(voted_model):
    sentences, documents = _dev_as_documents()
    one = Ensemble([voted_model])
    assert one.settings.doc_vote == 2.0 and one.reads_documents
    assert one.predict(sentences, documents=documents) == voted_model.predict(sentences, documents=documents)
