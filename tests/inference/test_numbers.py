"""Every number the tagger prints is right: one-vs-rest scoring, accuracy across schemes,
constrained decoding and entity confidences.

(Resume's model selection: tests/training/test_resume_rules.py; the library's input contract:
tests/models/test_library_contract.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import SAMPLE, TINY_TAGGER, run

import windowclf
from windowclf import WindowTagger
from windowclf.errors import InputError
from windowclf.tags.schemes import convert, validate_tags

# --- one-vs-rest models are scored on their own class ------------------------------------------


def test_a_one_vs_rest_model_is_scored_against_positive_vs_rest_gold(sample_split, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = sample_split
    tagger = WindowTagger(output="sigmoid", positive_tag="LOC", epochs=4, **TINY_TAGGER).fit(train_s, train_t)
    result = tagger.evaluate(dev_s, dev_t)
    # other types are not the model's business: overall is LOC, not LOC against PER/ORG/MISC misses
    assert set(result["per_type"]) == {"LOC"}
    assert result["overall"]["f1"] == pytest.approx(result["per_type"]["LOC"]["f1"])
    gold_loc = sum(1 for tags in dev_t for etype, _, _ in windowclf.entity_spans(tags) if etype == "LOC")
    assert 0 < result["counts"].n_correct_chunks <= result["counts"].n_gold_chunks <= gold_loc
    # end to end through the command, the same numbers
    model = tmp_path / "loc.npz"
    tagger.save(model)
    out = run("evaluate", "-m", model, SAMPLE / "dev.conll", "--json")
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["f1"] == pytest.approx(result["overall"]["f1"])


def test_a_detector_on_0_1_files_that_never_fires_scores_zero(tmp_path):
    rng = np.random.default_rng(0)
    sents = [[f"w{int(i)}" for i in rng.integers(0, 30, size=6)] for _ in range(40)]
    tags = [["1" if w == "w3" else "0" for w in s] for s in sents]
    tagger = WindowTagger(output="sigmoid", positive_tag="1", epochs=1, **TINY_TAGGER).fit(sents, tags)
    tagger.network.params["b2"][...] = -50.0  # never predicts the positive class
    assert all(t == "0" for seq in tagger.predict(sents) for t in seq)
    result = tagger.evaluate(sents, tags)
    assert result["overall"]["f1"] == 0.0  # "0" is not an entity type
    assert result["counts"].n_pred_chunks == 0 and result["counts"].n_gold_chunks > 0


# --- token accuracy in the gold file's scheme ---------------------------------------------------


def test_accuracy_compares_tags_in_the_gold_files_scheme(sample_split):
    (train_s, train_t), (dev_s, dev_t) = sample_split
    tagger = WindowTagger(scheme="IOBES", epochs=3, **TINY_TAGGER).fit(train_s, train_t)
    iob1 = [convert(t, "IOB1") for t in dev_t]
    result = tagger.evaluate(dev_s, iob1)
    predicted = [convert(p, "IOB1") for p in tagger.predict(dev_s)]
    same = sum(g == p for gs, ps in zip(iob1, predicted) for g, p in zip(gs, ps))
    total = sum(len(t) for t in iob1)
    assert result["overall"]["accuracy"] == pytest.approx(100.0 * same / total)
    all_o = 100.0 * sum(t == "O" for ts in iob1 for t in ts) / total
    assert result["overall"]["accuracy"] > all_o
    # and the dev line of training scores the same way
    history = WindowTagger(scheme="IOBES", epochs=1, **TINY_TAGGER).fit(train_s, train_t, dev=(dev_s, iob1)).history
    assert history[0]["dev"]["accuracy"] > all_o


# --- constrained decoding and confidences ----------------------------------------------------


@pytest.mark.parametrize("decoder", ["softmax", "sll"])
def test_constrained_predictions_are_well_formed_and_unconstrained_ones_are_not(sample_split, decoder):
    (train_s, train_t), (dev_s, _) = sample_split
    tagger = WindowTagger(scheme="IOBES", decoder=decoder, epochs=2, **TINY_TAGGER).fit(train_s, train_t)

    def invalid(predicted):
        bad = 0
        for tags in predicted:
            try:
                validate_tags(tags, "IOBES")
            except InputError:
                bad += 1
        return bad

    assert invalid(tagger.predict(dev_s)) == 0
    assert invalid(tagger.predict(dev_s, constrain=False)) > 0


def test_every_entity_has_its_probability_in_json_and_the_filter_drops_the_unlikely(sample_split, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = sample_split
    tagger = WindowTagger(scheme="IOB2", epochs=3, **TINY_TAGGER).fit(train_s, train_t)
    model = tmp_path / "m.npz"
    tagger.save(model)
    text = "Anna Keller flew from Oslo to Lyon with Peter Berg of Siemens .\n"
    out = run("predict", "-m", model, "--format", "json", input=text)
    assert out.exit_code == 0, out.output
    entities = [e for line in out.stdout.splitlines() for e in json.loads(line)["entities"]]
    assert entities and all(0 < e["confidence"] <= 1 for e in entities)
    library = [e.confidence for s in tagger.predict_entities(windowclf.split_sentences(text)) for e in s]
    assert [e["confidence"] for e in entities] == [round(c, 6) for c in library]
    threshold = sorted(library)[len(library) // 2]
    kept = run("predict", "-m", model, "--format", "json", "--min-confidence", threshold, input=text)
    kept_conf = [e["confidence"] for line in kept.stdout.splitlines() for e in json.loads(line)["entities"]]
    assert kept_conf and min(kept_conf) >= round(threshold, 6) and len(kept_conf) < len(entities)
    calibration = tagger.evaluate(dev_s, dev_t)["calibration"]
    assert calibration["entities"] > 0 and 0 <= calibration["ece"] <= 100
    report = run("evaluate", "-m", model, SAMPLE / "dev.conll", "--calibration")
    assert "expected calibration error" in report.stdout
