"""What a practitioner expects of settings on day one: presets and settings files, choices without
case and with the usual aliases, in the library and on the command line."""

from __future__ import annotations

import pytest
from support import SAMPLE, run

from windowclf import Settings, WindowTagger
from windowclf.config.presets import PRESETS, preset, read_settings_file, to_toml
from windowclf.errors import ConfigError


def test_choices_ignore_case_and_take_bio_and_bilou():
    s = Settings(scheme="bio", activation="ReLU", decoder="SLL", optimizer="AdaGrad", dtype="FLOAT64")
    assert (s.scheme, s.activation, s.decoder, s.optimizer, s.dtype) == ("IOB2", "relu", "sll", "adagrad", "float64")
    assert Settings(scheme="BILOU").scheme == "IOBES"
    with pytest.raises(ConfigError, match="BIO"):
        Settings(scheme="IOE")


def test_the_command_line_takes_any_case_and_aliases(tmp_path):
    model = tmp_path / "m.npz"
    result = run(
        "train",
        SAMPLE / "train.conll",
        "-o",
        model,
        "--scheme",
        "bilou",
        "--activation",
        "ReLU",
        "--epochs",
        1,
        "--no-progress",
        "--dim",
        10,
        "--hidden",
        10,
    )
    assert result.exit_code == 0, result.output
    assert WindowTagger.load(model).settings.scheme == "IOBES"
    out = run("predict", "-m", model, "--format", "JSON", "--scheme", "bio", input="Anna lives in Oslo .\n")
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("{")


def test_presets_are_the_readmes_best_configurations():
    assert set(PRESETS) == {"default", "window-strong", "window-strong-vectors"}
    best = Settings(**preset("best-train-only"))  # the old names are aliases
    assert (best.window, best.hidden, best.decoder, best.scheme) == (5, 500, "sll", "IOBES")
    assert best.char_filters == 50 and best.lr_schedule == "linear"
    assert {"doccase", "gazetteer"} <= set(best.features) and best.doc_vote > 0
    glove = Settings(**preset("best-glove"))
    assert glove.keep_pretrained_vocab and glove == Settings(**preset("window-strong-vectors"))
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("fastest")


def test_a_settings_file_round_trips_through_info_and_flags_override_it(tmp_path):
    config = tmp_path / "ner.toml"
    config.write_text(
        'preset = "best-train-only"\nhidden = 20\nwindow = 3\nepochs = 1\nfeatures = ["caps"]\ndropout_hidden = 0.0\n',
        encoding="utf-8",
    )
    settings = read_settings_file(config)
    assert settings["hidden"] == 20 and settings["decoder"] == "sll" and settings["features"] == ["caps"]
    model = tmp_path / "m.npz"
    result = run("train", SAMPLE / "train.conll", "-o", model, "--config", config, "--hidden", 15, "--no-progress")
    assert result.exit_code == 0, result.output
    trained = WindowTagger.load(model).settings
    assert (trained.hidden, trained.decoder, trained.window) == (15, "sll", 3)
    toml = run("info", "--toml", model).stdout
    assert "hidden = 15" in toml and 'decoder = "sll"' in toml
    again = tmp_path / "again.toml"
    again.write_text(toml, encoding="utf-8")
    assert Settings.from_dict({**Settings().to_dict(), **read_settings_file(again)}) == trained
    assert toml.startswith(to_toml(trained.to_dict()))  # then the [data] table of what it was made from


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("hiden = 3\n", "unknown setting 'hiden'"),
        ("hidden = 0\n", "hidden must be"),
        ("hidden = [\n", "not a TOML settings file"),
        ('preset = "nope"\n', "unknown preset"),
    ],
)
def test_a_bad_settings_file_is_one_error_line_naming_it(tmp_path, text, fragment):
    config = tmp_path / "bad.toml"
    config.write_text(text, encoding="utf-8")
    result = run("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--config", config, "--no-progress")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_the_glove_preset_needs_vectors(tmp_path):
    result = run("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--preset", "best-glove")
    assert result.exit_code == 2 and "--embeddings" in result.stderr
