"""One set of resume rules, in the library and on the command line: resume keeps the best epoch,
refuses other data and a dev-selected model without dev, and compares settings by value."""

from __future__ import annotations

import pytest
from support import SAMPLE, TINY_TAGGER, run

from windowclf import WindowTagger
from windowclf.errors import ConfigError


@pytest.fixture(scope="module")
def selected(sample_split, tmp_path_factory):
    """A model trained 2 epochs with dev selection, saved."""
    (train_s, train_t), (dev_s, dev_t) = sample_split
    path = tmp_path_factory.mktemp("resume") / "m.npz"
    WindowTagger(epochs=2, **TINY_TAGGER).fit(train_s, train_t, dev=(dev_s, dev_t)).save(path)
    return path


def test_resume_without_dev_is_refused_and_keeps_the_best(selected, sample_split):
    (train_s, train_t), _ = sample_split
    tagger = WindowTagger.load(selected)
    best = dict(tagger.best)
    tagger.settings.epochs = 4
    with pytest.raises(ConfigError, match="dev"):
        tagger.fit(train_s, train_t, resume=True)
    assert tagger.best == best and best["f1"] is not None
    result = run("train", SAMPLE / "train.conll", "--resume", selected, "--epochs", 4, "--no-progress")
    assert result.exit_code == 2 and "--dev" in result.stderr


def test_resume_keeps_the_previous_best_and_refuses_other_data(selected, sample_split, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = sample_split
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
    # the command line refuses a different training file, and takes --allow-new-sample_split
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


def test_resume_rules_compare_values_not_spellings(selected, sample_split, tmp_path):
    (train_s, train_t), (dev_s, dev_t) = sample_split
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
