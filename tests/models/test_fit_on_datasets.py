"""fit, evaluate and score take a Hugging Face dataset (tokens and ner_tags columns) and read its
ClassLabel names themselves."""

from __future__ import annotations

import numpy as np
import pytest
from support import DATASETS_EXTRA, TINY_TAGGER

from windowclf import WindowTagger

datasets = pytest.importorskip("datasets", reason=DATASETS_EXTRA)

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def as_dataset(sentences, tags, labels=LABELS):
    """A Dataset of the sentences, tags as label indices with ClassLabel names (a hub's layout)."""
    index = {name: i for i, name in enumerate(labels)}
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=labels)),
        }
    )
    rows = {
        "id": [str(i) for i in range(len(sentences))],
        "tokens": sentences,
        "ner_tags": [[index[t] for t in ts] for ts in tags],
    }
    return datasets.Dataset.from_dict(rows, features=features)


@pytest.fixture(scope="module")
def split(sample_split):
    (train_s, train_t), (dev_s, dev_t) = sample_split
    return (train_s[:150], train_t[:150]), (dev_s[:60], dev_t[:60])


def test_fit_on_a_dataset_equals_fit_on_its_tokens_and_tag_names(split):
    (train_s, train_t), (dev_s, dev_t) = split
    from_lists = WindowTagger(epochs=2, **TINY_TAGGER).fit(train_s, train_t, dev=(dev_s, dev_t))
    from_data = WindowTagger(epochs=2, **TINY_TAGGER).fit(as_dataset(train_s, train_t), dev=as_dataset(dev_s, dev_t))
    for name, weights in from_lists.network.params.items():
        np.testing.assert_array_equal(from_data.network.params[name], weights, err_msg=name)
    assert from_data.best == from_lists.best
    assert from_data.training_input["labels"] == LABELS  # remembered: the model reads integer tags alike


def test_evaluate_and_score_read_the_datasets_own_label_names(split):
    (train_s, train_t), (dev_s, dev_t) = split
    tagger = WindowTagger(epochs=2, **TINY_TAGGER).fit(train_s, train_t)
    expected = tagger.evaluate(dev_s, dev_t)
    # the dataset's label order differs from any the model knows: its own names decide
    shuffled = LABELS[::-1]
    got = tagger.evaluate(as_dataset(dev_s, dev_t, shuffled))
    assert got["overall"] == expected["overall"] and got["gold"] == dev_t
    assert tagger.score(as_dataset(dev_s, dev_t, shuffled)) == tagger.score(dev_s, dev_t)


def test_string_tags_need_no_names_and_unnamed_indices_are_refused(split):
    (train_s, train_t), _ = split
    strings = datasets.Dataset.from_dict({"tokens": train_s[:40], "tags": train_t[:40]})  # the tags column, as str
    tagger = WindowTagger(epochs=1, **TINY_TAGGER).fit(strings)
    assert "labels" not in tagger.training_input
    unnamed = datasets.Dataset.from_dict({"tokens": train_s[:5], "ner_tags": [[0] * len(s) for s in train_s[:5]]})
    with pytest.raises(TypeError, match="label index"):
        WindowTagger(epochs=1, **TINY_TAGGER).fit(unnamed)
    assert WindowTagger(epochs=1, **TINY_TAGGER).fit(unnamed, labels=["O"]).tags == ["O"]


def test_what_is_not_one_split_with_tokens_and_tags_is_a_type_error_naming_it(split):
    (train_s, train_t), _ = split
    data = as_dataset(train_s[:5], train_t[:5])
    with pytest.raises(TypeError, match=r"pass one split, e.g. dataset\['train'\]"):
        WindowTagger(epochs=1, **TINY_TAGGER).fit(datasets.DatasetDict(train=data))
    with pytest.raises(TypeError, match="columns id, tokens; expected tokens and ner_tags"):
        WindowTagger(epochs=1, **TINY_TAGGER).fit(data.remove_columns("ner_tags"))
    with pytest.raises(TypeError, match="no tags; pass the tags too"):
        WindowTagger(epochs=1, **TINY_TAGGER).fit(train_s)
