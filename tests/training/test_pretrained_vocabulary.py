"""Pretrained vectors used in full by default: every word of the file a row of L, memory checked first;
keep_pretrained_vocab=False (--no-keep-pretrained-vocab) keeps only the training words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from windowclf import WindowTagger, read_conll
from windowclf._util import limits
from windowclf.cli.main import main
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.formats.vectors import WordVectors, load_vectors

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
TRAIN = list(read_conll(SAMPLE / "train.conll"))
SENTENCES, TAGS = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
UNSEEN = ["zorblax", "quintus", "varnagel"]  # in the vectors, never in the training data


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture(scope="module")
def vectors_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    words = sorted({w.lower() for s in SENTENCES for w in s})[:200] + UNSEEN
    path = tmp_path_factory.mktemp("vectors") / "vectors.txt"
    with open(path, "w", encoding="utf-8") as f:
        for word in words:
            f.write(word + " " + " ".join(f"{v:.4f}" for v in rng.normal(size=6)) + "\n")
    return path


def test_every_pretrained_word_gets_a_row_by_default(vectors_file):
    assert Settings().keep_pretrained_vocab is True
    vectors = load_vectors(vectors_file)
    tagger = WindowTagger(window=3, hidden=8, epochs=1, seed=0).fit(SENTENCES, TAGS, embeddings=vectors)
    for word in UNSEEN:  # never trained: its pretrained vector bit for bit
        row = tagger.key_to_index[word]
        assert np.array_equal(tagger.vectors[row], vectors.vectors[vectors.key_to_index[word]])
    only = WindowTagger(window=3, hidden=8, epochs=1, seed=0, keep_pretrained_vocab=False)
    only.fit(SENTENCES, TAGS, embeddings=vectors)
    assert not set(UNSEEN) & set(only.index_to_key)
    assert len(only.index_to_key) < len(tagger.index_to_key)


def test_the_whole_vocabulary_is_checked_against_memory_before_it_is_allocated(monkeypatch):
    rng = np.random.default_rng(1)
    many = WordVectors([f"w{i}" for i in range(50_000)], rng.normal(size=(50_000, 50)).astype(np.float32))
    monkeypatch.setattr(limits, "available_memory", lambda: 4 * 2**20)  # 4 MiB: less than L needs
    with pytest.raises(ConfigError, match=r"would need .* of memory; 4\.0 MiB is available"):
        WindowTagger(window=3, hidden=8, epochs=1).fit(SENTENCES, TAGS, embeddings=many)
    # the training words alone fit
    WindowTagger(window=3, hidden=8, epochs=1, keep_pretrained_vocab=False).fit(SENTENCES, TAGS, embeddings=many)


def test_train_says_which_vectors_it_kept(vectors_file, tmp_path):
    out = cli("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--epochs", "1", "--embeddings", vectors_file)
    assert out.exit_code == 0, out.output
    assert "203 vectors of dimension 6" in out.stdout and "(those of the training words)" not in out.stdout
    assert set(UNSEEN) <= set(WindowTagger.load(tmp_path / "m.npz").index_to_key)
    out = cli(
        "train", SAMPLE / "train.conll", "-o", tmp_path / "n.npz", "--epochs", "1",
        "--embeddings", vectors_file, "--no-keep-pretrained-vocab",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "vectors (those of the training words) of dimension 6" in out.stdout
    assert not set(UNSEEN) & set(WindowTagger.load(tmp_path / "n.npz").index_to_key)
