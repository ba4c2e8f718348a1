"""Per-token features: caps, shape, affixes; each a Settings field used by fit and predict alike."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest

from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.features.tables import parse_feature_list
from windowclf.features.tokens import FEATURE_EXTRACTORS, caps_key, shape_key
from windowclf.models.tagger import WindowTagger


@pytest.mark.parametrize(
    "token, expected",
    [
        ("paris", "lower"),
        ("Paris", "Title"),
        ("EU", "UPPER"),
        ("iPhone", "mIxed"),
        ("1996", "nocase"),
    ],
)
def test_caps_key_is_collobert_capitalization_class(token, expected):
    assert caps_key(token) == expected


@pytest.mark.parametrize(
    "token, expected",
    [
        ("Paris", "Xx"),
        ("paris", "x"),
        ("EU", "X"),
        ("1996-08-28", "d-d-d"),
        ("U.S.", "X.X."),
        ("3.5%", "d.d%"),
        ("McDonald's", "XxXx'x"),
        ("", ""),
    ],
)
def test_shape_key_collapses_runs_of_character_classes(token, expected):
    assert shape_key(token) == expected


@pytest.mark.parametrize(
    "name, token, expected",
    [
        ("suffix1", "Paris", "s"),
        ("suffix3", "Paris", "ris"),
        ("suffix5", "Paris", "paris"),
        ("prefix2", "Paris", "pa"),
        ("prefix4", "Paris", "pari"),
        ("suffix4", "EU", "eu"),
    ],
)
def test_affixes_are_lowercased_and_clipped_to_the_word(name, token, expected):
    assert FEATURE_EXTRACTORS[name](token) == expected


def test_feature_list_parses_comma_strings_keeps_order_and_drops_duplicates():
    assert parse_feature_list("shape, caps,suffix3,caps") == ["shape", "caps", "suffix3"]


def test_unknown_feature_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="suffix9"):
        Settings(features=["suffix9"])


def test_every_feature_gets_its_own_table_and_is_used_by_predict_without_being_repeated(tmp_path):
    sents = [["Anna", "visited", "Oslo", "in", "1996", "."], ["Bob", "left", "Rome", "."]] * 10
    tags = [["PER", "O", "LOC", "O", "O", "O"], ["PER", "O", "LOC", "O"]] * 10
    tagger = WindowTagger(features="caps,shape,suffix2,prefix3", affix_min_count=1, epochs=3, seed=0)
    tagger.fit(sents, tags)
    names = set(tagger.network.params)
    assert {"E_caps", "E_shape", "E_suffix2", "E_prefix3"} <= names
    shape_vocab = tagger.feature_vocabs["shape"]
    assert {"Xx", "x", "d", "."} <= set(shape_vocab.index_to_key)
    path = tmp_path / "m.npz"
    tagger.save(path)
    loaded = WindowTagger.load(path)
    assert loaded.settings.features == ["caps", "shape", "suffix2", "prefix3"]
    new = [["Carl", "saw", "Paris", "."]]
    np.testing.assert_array_equal(np.concatenate(loaded.predict_proba(new)), np.concatenate(tagger.predict_proba(new)))


def test_pretrained_scale_multiplies_the_pretrained_vectors():
    class Vectors:
        index_to_key: ClassVar[list] = ["anna", "oslo"]
        key_to_index: ClassVar[dict] = {"anna": 0, "oslo": 1}
        vectors = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)

    sents, tags = [["Anna", "Oslo"]], [["PER", "LOC"]]
    tagger = WindowTagger(pretrained_scale=0.5, min_count=1, epochs=0).fit(sents, tags, embeddings=Vectors())
    L = tagger.network.params["L"]
    np.testing.assert_allclose(L[tagger.key_to_index["anna"]], [0.5, 1.0])
    np.testing.assert_allclose(tagger.initial_vectors[tagger.key_to_index["oslo"]], [1.5, 2.0])


def test_pretrained_scale_must_be_positive():
    with pytest.raises(ConfigError, match="pretrained_scale"):
        Settings(pretrained_scale=0)
