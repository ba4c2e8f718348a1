"""Fixtures of the batch tests (shards, Dask, Spark): a small trained model file."""

from __future__ import annotations

import pytest
from support import SAMPLE

from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A small model trained on the sample (seconds), and its path."""
    train = list(read_conll(SAMPLE / "train.conll"))
    tagger = WindowTagger(dim=20, hidden=30, epochs=2, seed=0, features=["caps"]).fit(
        [s.tokens for s in train], [s.tags for s in train]
    )
    path = tmp_path_factory.mktemp("model") / "tiny.npz"
    tagger.save(path)
    return path
