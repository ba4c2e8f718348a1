"""Fine-tuning word embeddings through the tagger (the library users' workflow)."""

import inspect

import numpy as np
import pytest

import windowclf
from windowclf import WindowTagger, WordVectors, export_vectors, finetune_report, load_vectors, vector_changes
from windowclf.errors import ConfigError
from windowclf.features.vocab import END, START

SENTENCES = [["Anna", "lives", "in", "Oslo", "."], ["Oslo", "is", "cold", "."], ["Bo", "visited", "Rome", "."]] * 10
TAGS = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"], ["PER", "O", "LOC", "O"]] * 10


@pytest.fixture
def pretrained():
    words = [
        "anna",
        "lives",
        "in",
        "oslo",
        ".",
        "is",
        "cold",
        "bo",
        "visited",
        "rome",
        "paris",
        "berlin",
        "zebra",
    ]  # the last three never occur in training
    rng = np.random.default_rng(0)
    return WordVectors(words, rng.normal(0, 0.5, size=(len(words), 8)).astype(np.float32))


def fit(pretrained, **settings):
    base = dict(epochs=3, hidden=10, keep_pretrained_vocab=True, seed=0)
    base.update(settings)
    return WindowTagger(**base).fit(SENTENCES, TAGS, embeddings=pretrained)


def test_only_rows_of_words_seen_in_training_change(pretrained):
    tagger = fit(pretrained)
    seen = {tagger.vocab.normalize(w) for s in SENTENCES for w in s} | {START, END}
    changed = {word for word, _ in vector_changes(tagger)}
    assert changed and changed <= seen
    for word in ("paris", "berlin", "zebra"):
        i = tagger.key_to_index[word]
        assert np.array_equal(tagger.vectors[i], pretrained.get(word))


def test_pretrained_vectors_start_L(pretrained):
    tagger = fit(pretrained, epochs=0)
    for word in pretrained.index_to_key:
        assert np.array_equal(tagger.vectors[tagger.key_to_index[word]], pretrained.get(word))


def test_frozen_embeddings_stay_bit_identical(pretrained):
    start = fit(pretrained, epochs=0).vectors.copy()
    assert np.array_equal(fit(pretrained, freeze_embeddings=True).vectors, start)


def test_freeze_for_the_first_epochs_then_tune(pretrained):
    start = fit(pretrained, epochs=0).vectors.copy()
    assert np.array_equal(fit(pretrained, epochs=2, freeze_epochs=2).vectors, start)
    assert not np.array_equal(fit(pretrained, epochs=3, freeze_epochs=2).vectors, start)


def test_separate_learning_rate_for_embeddings(pretrained):
    slow = fit(pretrained, lr_embeddings=0.001)
    fast = fit(pretrained, lr_embeddings=0.5)
    assert vector_changes(slow)[0][1] < vector_changes(fast)[0][1]


def test_l2_towards_pretrained_values_keeps_vectors_closer(pretrained):
    free = fit(pretrained, lr_embeddings=0.5, epochs=5)
    pulled = fit(pretrained, lr_embeddings=0.5, epochs=5, l2_embeddings=1.0)
    assert sum(n for _, n in vector_changes(pulled)) < sum(n for _, n in vector_changes(free))


def test_report_lists_changes_and_neighbours(pretrained):
    report = finetune_report(fit(pretrained), words=["Oslo"], k=3)
    assert report.changed[0][1] >= report.changed[-1][1] > 0
    before, after = report.neighbours["Oslo"]
    assert len(before) == len(after) == 3
    assert "neighbours of 'Oslo'" in str(report)


def test_report_needs_a_pretrained_start():
    tagger = WindowTagger(epochs=1, hidden=5).fit(SENTENCES, TAGS)
    with pytest.raises(ConfigError, match="pretrained"):
        vector_changes(tagger)


@pytest.mark.parametrize("changed_only", [False, True])
def test_export_then_load_round_trips(pretrained, tmp_path, changed_only):
    tagger = fit(pretrained)
    path = tmp_path / "tuned.txt"
    n = export_vectors(tagger, path, changed_only=changed_only)
    loaded = load_vectors(path)
    assert len(loaded) == n
    for word in loaded.index_to_key:
        assert np.array_equal(loaded.get(word), tagger.vectors[tagger.key_to_index[word]])
    if changed_only:
        assert set(loaded.index_to_key) == {w for w, _ in vector_changes(tagger)}


def test_exported_vectors_start_another_model(pretrained, tmp_path):
    tagger = fit(pretrained)
    export_vectors(tagger, tmp_path / "tuned.txt")
    second = WindowTagger(epochs=0, hidden=5).fit(SENTENCES, TAGS, embeddings=load_vectors(tmp_path / "tuned.txt"))
    assert np.array_equal(second.vectors[second.key_to_index["oslo"]], tagger.vectors[tagger.key_to_index["oslo"]])


@pytest.mark.parametrize("name", windowclf.__all__)
def test_every_public_name_has_a_docstring(name):
    obj = getattr(windowclf, name)
    doc = inspect.getdoc(obj)
    assert doc and len(doc.strip()) > 10, name


def test_cased_vocabulary_finds_lowercased_pretrained_words(pretrained):
    tagger = WindowTagger(epochs=0, hidden=5, lowercase=False).fit(SENTENCES, TAGS, embeddings=pretrained)
    assert np.array_equal(tagger.vectors[tagger.key_to_index["Oslo"]], pretrained.get("oslo"))
