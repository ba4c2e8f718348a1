"""The library as Python users expect it: text in, entities out; scikit-learn's parameter protocol;
gensim's word-vector idioms; one BLAS thread without the user setting anything."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys

import numpy as np
import pytest
from support import SAMPLE

import windowclf
from windowclf import WindowTagger, WordVectors, load_vectors, read_conll


@pytest.fixture(scope="module")
def tagger():
    train = list(read_conll(SAMPLE / "train.conll"))
    return WindowTagger(epochs=4, seed=0, scheme="IOB2").fit([s.tokens for s in train], [s.tags for s in train])


def test_text_in_entities_out_with_character_offsets_and_confidence(tagger):
    text = "Anna Keller flew from Oslo to Lyon.\r\n\r\nPeter Berg works for Siemens in Munich."
    entities = tagger.tag_text(text)
    assert entities == tagger(text)
    assert entities, "the sample model finds some entity in this text"
    for e in entities:
        assert text[e.char_start : e.char_end] == e.text
        assert e.label in {"PER", "LOC", "ORG", "MISC"} and 0 < e.confidence <= 1
    sentences = windowclf.split_sentences(text)
    spans = tagger.predict_entities(sentences)
    assert len(entities) == sum(map(len, spans))
    assert tagger.tag_text(text, min_confidence=1.01) == []
    with pytest.raises(TypeError, match="predict"):
        tagger.tag_text([["Anna"]])


def test_one_convention_for_entity_ends():
    assert windowclf.entity_spans(["B-PER", "I-PER", "O"]) == [("PER", 0, 2)]
    assert "get_entities" not in windowclf.__all__


def test_the_settings_are_the_constructors_visible_parameters_with_get_and_set_params(tagger):
    sig = inspect.signature(WindowTagger)
    assert {"window", "hidden", "decoder", "seed"} <= set(sig.parameters)
    assert sig.parameters["window"].default == 3
    params = tagger.get_params()
    clone = WindowTagger(**params)  # what sklearn.base.clone does
    assert clone.get_params() == params
    assert clone.set_params(hidden=7, window=5) is clone and clone.settings.hidden == 7
    with pytest.raises(windowclf.ConfigError):
        clone.set_params(window=4)


def test_word_vectors_as_gensim_users_know_them(tmp_path):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(1000)] + ["paris", "lyon"]
    vectors = rng.normal(size=(len(words), 8)).astype(np.float32)
    vectors[-1] = vectors[-2] + 0.01  # lyon next to paris
    kv = WordVectors(words, vectors)
    assert np.array_equal(kv["paris"], vectors[-2]) and "lyon" in kv and "rome" not in kv
    with pytest.raises(KeyError):
        kv["rome"]
    assert kv.most_similar("paris", topn=1)[0][0] == "lyon"
    assert kv.most_similar(vectors[-1], topn=1)[0][0] == "lyon"
    assert len(repr(kv)) < 80
    kv.save_word2vec_format(tmp_path / "v.txt")
    back = load_vectors(tmp_path / "v.txt")
    assert back.index_to_key == words and np.array_equal(back.vectors, vectors)


def test_the_library_trains_and_tags_on_one_blas_thread_without_the_environment_saying_so():
    code = """
import json
from threadpoolctl import threadpool_info
from windowclf import WindowTagger
def blas():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
before = blas()
seen = []
class Probe:
    def on_epoch_end(self, result):
        seen.append(blas())
sents = [["Anna", "lives", "in", "Oslo", "."]] * 50
tags = [["PER", "O", "O", "LOC", "O"]] * 50
tagger = WindowTagger(epochs=2, seed=0).fit(sents, tags, callbacks=[Probe()])
print(json.dumps({"before": before, "inside": seen, "after": blas()}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout)
    assert result["inside"] == [[1], [1]]
    assert result["after"] == result["before"]  # the caller's setting comes back
