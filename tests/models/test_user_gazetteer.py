"""The user's own gazetteer: fit(gazetteer=...) and train --gazetteer FILE, one feature table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from windowclf import WindowTagger, read_conll
from windowclf.cli.main import main
from windowclf.errors import ConfigError, InputError
from windowclf.features.gazetteer import MAX_WORDS, Gazetteer
from windowclf.formats.gazetteers import read_gazetteer
from windowclf.models.tagger import user_gazetteer

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
TRAIN = list(read_conll(SAMPLE / "train.conll"))
SENTENCES, TAGS = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
LISTS = "LOC\tZorblax City\nPER\tQuintus Varnagel\nPER\tZorblax\nORG\tDeutsche Bank AG\nLOC\tSt. Louis\n"


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


@pytest.fixture
def lists(tmp_path):
    path = tmp_path / "lists.tsv"
    path.write_text(LISTS, encoding="utf-8")
    return path


def test_every_form_of_the_lists_gives_the_same_gazetteer(lists):
    from_file = user_gazetteer(lists)
    assert from_file.counts == {
        ("Zorblax", "City"): {"LOC": 1},
        ("Quintus", "Varnagel"): {"PER": 1},
        ("Zorblax",): {"PER": 1},
        ("Deutsche", "Bank", "Ag"): {"ORG": 1},  # words compared as the vote compares them: AG as Ag
        ("St.", "Louis"): {"LOC": 1},  # split by the tokenizer, as raw text is
    }
    mapping = {
        "LOC": ["Zorblax City", "St. Louis"],
        "PER": [["Quintus", "Varnagel"], "Zorblax"],
        "ORG": ["Deutsche Bank AG"],
    }
    pairs = [("Zorblax City", "LOC"), (["Quintus", "Varnagel"], "PER"), ("Zorblax", "PER")]
    pairs += [("Deutsche Bank AG", "ORG"), ("St. Louis", "LOC")]
    for other in (mapping, pairs, from_file):
        g = user_gazetteer(other)
        assert (g.counts, g.types) == (from_file.counts, from_file.types)


def test_a_model_reads_its_lists_as_a_feature_table_and_keeps_them(lists, tmp_path):
    tagger = WindowTagger(window=3, hidden=10, epochs=2, seed=0).fit(SENTENCES, TAGS, gazetteer=lists)
    assert tagger.settings.features == ["caps", "user_gazetteer"]
    column = [t[0] for t in tagger.lookup_tables()].index("user_gazetteer")
    vocab = tagger.feature_vocabs["user_gazetteer"]
    sentence = [["Quintus", "Varnagel", "flew", "to", "ZORBLAX", "CITY", "via", "St.", "Louis"]]
    ids = tagger.encode(sentence)[column][:, tagger.settings.window // 2]
    keys = ["B-PER", "I-PER", "none", "none", "B-LOC", "I-LOC", "none", "B-LOC", "I-LOC"]
    assert ids.tolist() == [vocab.key_to_index[k] for k in keys]  # the longest string first, words in capitals too
    # no string of the lists is in the training data: the table still learns from where they match
    tagger.save(tmp_path / "m.npz")
    again = WindowTagger.load(tmp_path / "m.npz")
    assert again.user_gazetteer.counts == tagger.user_gazetteer.counts
    assert again.predict(sentence) == tagger.predict(sentence)
    assert np.array_equal(again.encode(sentence)[column], tagger.encode(sentence)[column])
    # a resumed fit keeps the model's lists
    again.set_params(epochs=3)
    again.fit(SENTENCES, TAGS, resume=True)
    with pytest.raises(ConfigError, match="keeps the gazetteer"):
        WindowTagger.load(tmp_path / "m.npz").fit(SENTENCES, TAGS, resume=True, gazetteer=lists)


@pytest.mark.parametrize(
    "value, error, fragment",
    [
        ({"LOC": "Oslo"}, TypeError, "pass a list of entity strings"),
        ([("Oslo",)], ValueError, "not enough values"),
        ([("", "LOC")], ConfigError, "gazetteer entry 0 must be"),
        ([("Oslo", "two words")], ConfigError, "gazetteer entry 0 must be"),
        ([(["a"] * (MAX_WORDS + 1), "LOC")], ConfigError, f"1 to {MAX_WORDS} words"),
        (42, TypeError, "pass a file's path"),
    ],
)
def test_bad_lists_are_refused_naming_the_entry(value, error, fragment):
    with pytest.raises(error, match=fragment):
        WindowTagger(epochs=1).fit(SENTENCES, TAGS, gazetteer=value)


def test_the_feature_without_lists_is_refused():
    with pytest.raises(ConfigError, match="pass gazetteer= to fit"):
        WindowTagger(epochs=1, features=["caps", "user_gazetteer"]).fit(SENTENCES, TAGS)


@pytest.mark.parametrize(
    "text, line, fragment",
    [
        ("LOC\tOslo\nLOC Bergen\n", 2, "no TAB; expected TYPE<TAB>entity"),
        ("LOC\tOslo\n\tBergen\n", 2, "type '' must be one word"),
        ("LOC\tOslo\nbig LOC\tBergen\n", 2, "type 'big LOC' must be one word"),
        ("LOC\t  \n", 1, "no TAB"),  # blanks at a line's end are no entity
        ("LOC\tOslo\nLOC\t\u00a0\u3000.\nLOC\t\u00a0\u3000\n", 3, "no words after the TAB"),
        ("\n\n", None, "no entity strings"),
        ("LOC\tOsl\x00o\n", 1, "binary data"),
    ],
)
def test_a_bad_gazetteer_file_is_one_error_naming_the_line(tmp_path, text, line, fragment):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_gazetteer(path, max_words=MAX_WORDS)
    assert caught.value.line == line and fragment in str(caught.value)
    out = cli("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--gazetteer", path, "--no-progress")
    assert out.exit_code == 2 and out.stderr.startswith(f"Error: {path}") and fragment in out.stderr
    assert len(out.stderr.splitlines()) == 1 and not (tmp_path / "m.npz").exists()


def test_train_takes_the_lists_and_info_shows_them(lists, tmp_path):
    long = tmp_path / "long.tsv"
    long.write_text(LISTS + "ORG\t" + " ".join(["word"] * (MAX_WORDS + 1)) + "\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    out = cli("train", SAMPLE / "train.conll", "-o", model, "--epochs", "1", "--gazetteer", long, "--no-progress")
    assert out.exit_code == 0, out.output
    assert f"1 entity strings of more than {MAX_WORDS} words left out" in out.stderr
    info = cli("info", model).stdout
    assert "gazetteer:   5 entity strings of the user's lists (LOC, ORG, PER)" in info
    assert "user_gazetteer" in cli("info", "--toml", model).stdout
    tagger = WindowTagger.load(model)
    assert isinstance(tagger.user_gazetteer, Gazetteer) and tagger.provenance["gazetteer"]["name"] == str(long)
    again = cli("train", SAMPLE / "train.conll", "--resume", model, "--epochs", "2", "--gazetteer", lists)
    assert again.exit_code == 2 and "--gazetteer cannot be used with --resume" in again.stderr
