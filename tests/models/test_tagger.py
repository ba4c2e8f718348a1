"""The public tagger: learning, determinism, predictions in any scheme, save/load."""

import numpy as np
import pytest
from support import synthetic_task

from windowclf.errors import ConfigError, InputError
from windowclf.models.tagger import WindowTagger


def token_accuracy(gold, pred):
    pairs = [(g, p) for gs, ps in zip(gold, pred) for g, p in zip(gs, ps)]
    return sum(g == p for g, p in pairs) / len(pairs)


@pytest.fixture(scope="module")
def trained():
    sentences, tags = synthetic_task()
    tagger = WindowTagger(epochs=15, hidden=30, dim=10, features=[], lr=0.2, seed=3).fit(sentences, tags)
    return tagger, sentences, tags


def test_network_learns_a_synthetic_task(trained):
    tagger, sentences, tags = trained
    assert token_accuracy(tags, tagger.predict(sentences)) >= 0.99


def test_same_data_settings_and_seed_give_bit_identical_parameters():
    sentences, tags = synthetic_task(60)
    a = WindowTagger(epochs=2, hidden=8, dim=6, seed=7).fit(sentences, tags)
    b = WindowTagger(epochs=2, hidden=8, dim=6, seed=7).fit(sentences, tags)
    for name in a.network.params:
        assert np.array_equal(a.network.params[name], b.network.params[name]), name
    c = WindowTagger(epochs=2, hidden=8, dim=6, seed=8).fit(sentences, tags)
    assert not np.array_equal(a.network.params["W1"], c.network.params["W1"])


@pytest.mark.parametrize("scheme", ["IO", "IOB1", "IOB2", "IOBES"])
def test_training_works_in_every_scheme(scheme):
    sentences, tags = synthetic_task(200)
    tagger = WindowTagger(epochs=10, hidden=30, dim=10, lr=0.2, scheme=scheme, seed=1).fit(sentences, tags)
    result = tagger.evaluate(sentences, tags)
    assert result["overall"]["f1"] > 95


def test_predictions_come_back_in_the_requested_scheme(trained):
    tagger, sentences, _ = trained
    iobes = tagger.predict(sentences[:20], scheme="IOBES")
    assert {t.split("-")[0] for ts in iobes for t in ts} <= {"O", "S", "B", "I", "E"}


def test_sigmoid_output_detects_one_class():
    sentences, tags = synthetic_task(200)
    tagger = WindowTagger(output="sigmoid", positive_tag="LOC", epochs=10, hidden=20, dim=10, lr=0.3, seed=2).fit(
        sentences, tags
    )
    pred = tagger.predict(sentences)
    gold = [["LOC" if t == "LOC" else "O" for t in ts] for ts in tags]
    assert token_accuracy(gold, pred) >= 0.99
    assert tagger.tags == ["O", "LOC"]


def test_save_then_load_predicts_identically(trained, tmp_path):
    tagger, sentences, _ = trained
    path = tmp_path / "model.npz"
    tagger.save(path)
    loaded = WindowTagger.load(path)
    assert loaded.predict(sentences) == tagger.predict(sentences)
    for name, arr in tagger.network.params.items():
        assert np.array_equal(loaded.network.params[name], arr)


def test_saving_twice_gives_identical_bytes(trained, tmp_path):
    tagger, _, _ = trained
    tagger.save(tmp_path / "a.npz")
    tagger.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_frozen_embeddings_stay_bit_identical():
    sentences, tags = synthetic_task(60)
    tagger = WindowTagger(epochs=0, hidden=8, dim=6, seed=4).fit(sentences, tags)
    before = tagger.vectors.copy()
    frozen = WindowTagger(epochs=3, hidden=8, dim=6, seed=4, freeze_embeddings=True).fit(sentences, tags)
    assert np.array_equal(frozen.vectors, before)
    assert not np.array_equal(frozen.network.params["W1"], tagger.network.params["W1"])


def test_mismatched_tags_are_refused():
    with pytest.raises(InputError, match="sentence 0 has 2 tokens but 1 tags"):
        WindowTagger().fit([["a", "b"]], [["O"]])


def test_unfitted_tagger_says_so():
    with pytest.raises(ConfigError, match="not trained"):
        WindowTagger().predict([["a"]])


def test_invalid_setting_is_refused():
    with pytest.raises(ConfigError, match="window"):
        WindowTagger(window=4)
