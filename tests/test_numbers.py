"""Every number the tagger prints is right: one-vs-rest scoring, accuracy across schemes, resume's
model selection, the library's input contract, constrained decoding and entity confidences."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import REPO

import windowclf
from windowclf import WindowTagger, read_conll
from windowclf.cli.main import main
from windowclf.errors import ConfigError, InputError
from windowclf.tags.schemes import convert, validate_tags

SAMPLE = REPO / "data" / "sample"
TINY = dict(dim=20, hidden=30, seed=0)


def _read(name):
    sentences = list(read_conll(SAMPLE / name))
    return [s.tokens for s in sentences], [s.tags for s in sentences]


@pytest.fixture(scope="module")
def data():
    return _read("train.conll"), _read("dev.conll")


def run(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


# --- 1. one-vs-rest models are scored on their own class ------------------------------------------


def test_a_one_vs_rest_model_is_scored_against_positive_vs_rest_gold(data, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = data
    tagger = WindowTagger(output="sigmoid", positive_tag="LOC", epochs=4, **TINY).fit(train_s, train_t)
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
    tagger = WindowTagger(output="sigmoid", positive_tag="1", epochs=1, **TINY).fit(sents, tags)
    tagger.network.params["b2"][...] = -50.0  # never predicts the positive class
    assert all(t == "0" for seq in tagger.predict(sents) for t in seq)
    result = tagger.evaluate(sents, tags)
    assert result["overall"]["f1"] == 0.0  # "0" is not an entity type
    assert result["counts"].n_pred_chunks == 0 and result["counts"].n_gold_chunks > 0


# --- 2. token accuracy in the gold file's scheme ---------------------------------------------------


def test_accuracy_compares_tags_in_the_gold_files_scheme(data):
    (train_s, train_t), (dev_s, dev_t) = data
    tagger = WindowTagger(scheme="IOBES", epochs=3, **TINY).fit(train_s, train_t)
    iob1 = [convert(t, "IOB1") for t in dev_t]
    result = tagger.evaluate(dev_s, iob1)
    predicted = [convert(p, "IOB1") for p in tagger.predict(dev_s)]
    same = sum(g == p for gs, ps in zip(iob1, predicted) for g, p in zip(gs, ps))
    total = sum(len(t) for t in iob1)
    assert result["overall"]["accuracy"] == pytest.approx(100.0 * same / total)
    all_o = 100.0 * sum(t == "O" for ts in iob1 for t in ts) / total
    assert result["overall"]["accuracy"] > all_o
    # and the dev line of training scores the same way
    history = WindowTagger(scheme="IOBES", epochs=1, **TINY).fit(train_s, train_t, dev=(dev_s, iob1)).history
    assert history[0]["dev"]["accuracy"] > all_o


# --- 3. one set of resume rules, in the library ----------------------------------------------------


@pytest.fixture(scope="module")
def selected(data, tmp_path_factory):
    """A model trained 2 epochs with dev selection, saved."""
    (train_s, train_t), (dev_s, dev_t) = data
    path = tmp_path_factory.mktemp("resume") / "m.npz"
    WindowTagger(epochs=2, **TINY).fit(train_s, train_t, dev=(dev_s, dev_t)).save(path)
    return path


def test_resume_without_dev_is_refused_and_keeps_the_best(selected, data):
    (train_s, train_t), _ = data
    tagger = WindowTagger.load(selected)
    best = dict(tagger.best)
    tagger.settings.epochs = 4
    with pytest.raises(ConfigError, match="dev"):
        tagger.fit(train_s, train_t, resume=True)
    assert tagger.best == best and best["f1"] is not None
    result = run("train", SAMPLE / "train.conll", "--resume", selected, "--epochs", 4, "--no-progress")
    assert result.exit_code == 2 and "--dev" in result.stderr


def test_resume_keeps_the_previous_best_and_refuses_other_data(selected, data, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = data
    tagger = WindowTagger.load(selected)
    tagger.settings.epochs = 3
    with pytest.raises(ConfigError, match="training data differ"):
        tagger.fit(train_s[:-1], train_t[:-1], dev=(dev_s, dev_t), resume=True)
    before = dict(tagger.best)
    tagger.fit(train_s, train_t, dev=(dev_s, dev_t), resume=True)
    assert len(tagger.history) == 3
    assert tagger.best["f1"] >= before["f1"]
    if tagger.best["epoch"] == before["epoch"]:
        assert tagger.best["f1"] == before["f1"]
    # asked for explicitly, other data is fine
    other = WindowTagger.load(selected)
    other.settings.epochs = 3
    other.fit(train_s[:-1], train_t[:-1], dev=(dev_s, dev_t), resume=True, allow_new_data=True)
    assert len(other.history) == 3
    # the command line refuses a different training file, and takes --allow-new-data
    short = tmp_path / "short.conll"
    short.write_text((SAMPLE / "train.conll").read_text(encoding="utf-8").rsplit("\n\n", 2)[0] + "\n", encoding="utf-8")
    common = [
        "--dev",
        SAMPLE / "dev.conll",
        "--resume",
        selected,
        "-o",
        tmp_path / "r.npz",
        "--epochs",
        3,
        "--no-progress",
    ]
    refused = run("train", short, *common)
    assert refused.exit_code == 2 and "training data differ" in refused.stderr
    assert run("train", short, *common, "--allow-new-data").exit_code == 0


def test_resume_rules_compare_values_not_spellings(selected, data, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = data
    out = tmp_path / "again.npz"
    result = run(
        "train",
        SAMPLE / "train.conll",
        "--dev",
        SAMPLE / "dev.conll",
        "--resume",
        selected,
        "-o",
        out,
        "--epochs",
        3,
        "--features",
        "caps",
        "--hidden",
        30,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    changed = run(
        "train",
        SAMPLE / "train.conll",
        "--dev",
        SAMPLE / "dev.conll",
        "--resume",
        selected,
        "-o",
        out,
        "--epochs",
        4,
        "--hidden",
        31,
        "--no-progress",
    )
    assert changed.exit_code == 2 and "--hidden cannot change" in changed.stderr
    # the library applies the same rule to a loaded model whose settings were edited
    tagger = WindowTagger.load(selected)
    tagger.settings.epochs, tagger.settings.window = 4, 5
    with pytest.raises(ConfigError, match="window cannot change"):
        tagger.fit(train_s, train_t, dev=(dev_s, dev_t), resume=True)


# --- 4-6. the library's contract -------------------------------------------------------------------


@pytest.fixture(scope="module")
def tagger(data):
    (train_s, train_t), _ = data
    return WindowTagger(epochs=2, **TINY).fit(train_s, train_t)


def test_predict_refuses_strings_where_sentences_belong_and_takes_the_tokenizers_output(tagger):
    with pytest.raises(TypeError, match="split_sentences"):
        tagger.predict("Anna lives in Oslo")
    with pytest.raises(TypeError, match="not a list of tokens"):
        tagger.predict(["Anna", "Keller"])
    with pytest.raises(TypeError, match="not a str"):
        tagger.predict([["Anna", 3]])
    text = "Anna Keller lives in Oslo. She likes it."
    assert tagger.predict(windowclf.split_sentences(text)) == tagger.predict(
        [[t.text for t in s] for s in windowclf.split_sentences(text)]
    )


def test_empty_sentences_are_refused_by_fit_and_give_empty_predictions(tagger, data):
    (train_s, train_t), _ = data
    with pytest.raises(InputError, match="sentence 2 is empty"):
        WindowTagger(epochs=1, **TINY).fit(train_s[:2] + [[]] + train_s[2:4], train_t[:2] + [[]] + train_t[2:4])
    assert tagger.predict([[], ["Oslo"], []])[0] == [] and len(tagger.predict([[], ["Oslo"], []])) == 3
    sll = WindowTagger(decoder="sll", epochs=1, **TINY).fit(train_s[:20], train_t[:20])
    assert sll.predict([[]]) == [[]]
    assert sll.predict_entities([[]]) == [[]]
    assert [p.shape for p in sll.predict_proba([[], ["Oslo"]])] == [(0, len(sll.tags)), (1, len(sll.tags))]


def test_a_callback_may_define_only_on_epoch_end_and_the_names_are_public(data):
    (train_s, train_t), _ = data
    seen = []

    class EpochsOnly:
        def on_epoch_end(self, result):
            seen.append(result.epoch)

    class Stop(windowclf.Callback):
        def on_epoch_end(self, result: windowclf.EpochResult):
            return result.epoch == 2

    WindowTagger(epochs=5, **TINY).fit(train_s[:30], train_t[:30], callbacks=[EpochsOnly(), Stop()])
    assert seen == [1, 2]
    assert {"Callback", "EpochResult"} <= set(windowclf.__all__)


# --- 7-8. gradcheck -------------------------------------------------------------------------------


def test_gradcheck_checks_sll_with_its_transitions_and_exits_1_on_failure():
    result = run("gradcheck", "--decoder", "sll", "--dropout-hidden", "0.5")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"A", "A0", "W1", "L"} <= set(names)
    assert all(line.endswith("ok") for line in result.stdout.splitlines())
    failed = run("gradcheck", "--eps", "0.5")
    assert failed.exit_code == 1 and "FAIL" in failed.stdout
    for bad in ("nan", "inf", "0", "2"):  # not a step at all: a usage error, before any work
        assert run("gradcheck", "--eps", bad).exit_code == 2


# --- 9-10. constrained decoding and confidences ----------------------------------------------------


@pytest.mark.parametrize("decoder", ["softmax", "sll"])
def test_constrained_predictions_are_well_formed_and_unconstrained_ones_are_not(data, decoder):
    (train_s, train_t), (dev_s, dev_t) = data
    tagger = WindowTagger(scheme="IOBES", decoder=decoder, epochs=2, **TINY).fit(train_s, train_t)

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


def test_every_entity_has_its_probability_in_json_and_the_filter_drops_the_unlikely(data, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = data
    tagger = WindowTagger(scheme="IOB2", epochs=3, **TINY).fit(train_s, train_t)
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
