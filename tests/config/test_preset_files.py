"""Presets as TOML files in the package: named for what they are, printable, old names as aliases."""

from __future__ import annotations

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from windowclf.cli.main import main
from windowclf.config.presets import (
    NEEDS_VECTORS,
    PRESET_ALIASES,
    PRESETS,
    canonical_preset,
    preset,
    preset_header,
    preset_text,
    read_settings_file,
)
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.models.tagger import WindowTagger

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
FOLDER = REPO / "windowclf" / "config" / "presets"


def cli(*args, input=None):
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_every_preset_is_a_file_of_valid_settings_with_a_header_saying_what_it_was_chosen_on():
    assert sorted(p.stem for p in FOLDER.glob("*.toml")) == sorted(PRESETS)
    for name in PRESETS:
        text = (FOLDER / f"{name}.toml").read_text(encoding="utf-8")
        assert preset_text(name) == text
        assert tomllib.loads(text) == PRESETS[name] == preset(name)
        Settings(**preset(name))  # every value valid
        header = " ".join(preset_header(name))
        assert header.startswith(f"{name}: ") and "Chosen on:" in header
        if name != "default":
            assert "Dev F1" in header, name


def test_the_package_ships_the_preset_files():
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    data = pyproject["tool"]["setuptools"]["package-data"]["windowclf"]
    assert "config/presets/*.toml" in data


def test_old_names_are_aliases_and_unknown_names_are_refused():
    assert PRESET_ALIASES == {"best-train-only": "window-strong", "best-glove": "window-strong-vectors"}
    for old, new in PRESET_ALIASES.items():
        assert canonical_preset(old.upper()) == new and preset(old) == preset(new)
    with pytest.raises(ConfigError, match=r"unknown preset 'fastest'.*best-glove \(= window-strong-vectors\)"):
        preset("fastest")
    lists = preset("window-strong")["features"]
    lists.append("x")  # a copy: the preset stays as it is
    assert "x" not in preset("window-strong")["features"]


def test_the_presets_command_prints_them_all_and_one_as_a_settings_file(tmp_path):
    everything = cli("presets")
    assert everything.exit_code == 0
    for name in PRESETS:
        assert f"== {name}" in everything.stdout and preset_text(name) in everything.stdout
    assert "== window-strong (old name: best-train-only)" in everything.stdout
    one = cli("presets", "best-train-only")
    assert one.stdout == preset_text("window-strong")
    config = tmp_path / "strong.toml"
    config.write_text(one.stdout, encoding="utf-8")
    assert read_settings_file(config) == preset("window-strong")
    out = cli(
        "train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--config", config,
        "--epochs", "1", "--hidden", "8", "--char-filters", "0", "--no-progress",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    trained = WindowTagger.load(tmp_path / "m.npz").settings
    assert trained.decoder == "sll" and trained.features == preset("window-strong")["features"]
    bad = cli("presets", "nope")
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: unknown preset 'nope'")


def test_train_takes_an_old_name_with_a_note_and_records_the_name_now(tmp_path):
    out = cli(
        "train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--preset", "best-train-only",
        "--epochs", "1", "--hidden", "8", "--char-filters", "0", "--no-progress",
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Note: preset best-train-only is now named window-strong" in out.stderr
    assert WindowTagger.load(tmp_path / "m.npz").provenance["preset"] == "window-strong"
    for name in NEEDS_VECTORS | {k for k, v in PRESET_ALIASES.items() if v in NEEDS_VECTORS}:
        refused = cli("train", SAMPLE / "train.conll", "-o", tmp_path / "v.npz", "--preset", name)
        assert refused.exit_code == 2 and "starts from pretrained vectors: give --embeddings FILE" in refused.stderr
