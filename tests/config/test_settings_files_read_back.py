"""Settings files: what `info --toml` prints reads back with --config for every value a model can hold
(its [data] table too), a typo names the near setting, and BILUO is IOBES."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.cli.main import main
from windowclf.config.parameters import canonical_choice
from windowclf.config.presets import read_settings_file, to_toml
from windowclf.config.settings import Settings
from windowclf.errors import ConfigError, InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"

# a string a model file can hold: any code point but the lone surrogates (its JSON metadata refuses them)
anything = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
field = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="".join(map(chr, range(0x21)))), min_size=1
)
positive_floats = st.floats(min_value=1e-300, max_value=1e300, allow_nan=False, allow_infinity=False)


@st.composite
def model_settings(draw) -> dict:
    s = {
        "window": draw(st.integers(0, 20)) * 2 + 1,
        "hidden": draw(st.integers(1, 10**9)),
        "lr": draw(positive_floats),
        "l2": draw(st.one_of(st.just(0.0), positive_floats)),
        "dropout_input": draw(st.floats(0, 0.999)),
        "scheme": draw(st.sampled_from([None, "IO", "IOB1", "IOB2", "IOBES"])),
        "features": draw(st.lists(st.sampled_from(["caps", "shape", "suffix3", "prefix2"]), unique=True)),
        "max_vocab": draw(st.one_of(st.none(), st.integers(1, 10**9))),
        "lowercase": draw(st.booleans()),
        "doc_vote": draw(st.floats(0, 1e6)),
    }
    if draw(st.booleans()):
        tag = draw(field.filter(lambda t: t != "\x7f" and "\x7f" not in t))
        s.update(output="sigmoid", positive_tag=tag)
    try:
        return Settings(**s).to_dict()
    except ConfigError:  # a value the settings refuse is no value a model holds
        return draw(st.nothing())


@settings(max_examples=150, deadline=None)
@given(
    model_settings(),
    st.fixed_dictionaries(
        {
            "train": st.fixed_dictionaries({"name": anything, "sha256": st.one_of(st.none(), anything)}),
            "encoding": anything,
            "labels": st.lists(field, max_size=4),
            "separator": st.sampled_from(["\t", " "]),
            "word_column": st.integers(-5, 5),
        }
    ),
)
def test_what_info_toml_prints_reads_back_for_every_value_a_model_can_hold(tmp_path_factory, values, data):
    text = to_toml(values, data)
    parsed = tomllib.loads(text)
    table = parsed.pop("data")
    assert table == {
        k: ({kk: vv for kk, vv in v.items() if vv is not None} if isinstance(v, dict) else v) for k, v in data.items()
    }
    assert parsed == {k: v for k, v in values.items() if v is not None}
    path = tmp_path_factory.mktemp("toml") / "m.toml"
    path.write_text(text, encoding="utf-8")
    back = Settings.from_dict({**Settings().to_dict(), **read_settings_file(path)})
    assert back == Settings.from_dict(values)
    assert all(math.isfinite(v) for v in parsed.values() if isinstance(v, float))


def test_a_models_settings_file_reads_back_with_its_data_table(tmp_path):
    model = tmp_path / "m.npz"
    train = ["train", SAMPLE / "train.conll", "-o", model, "--epochs", "1", "--hidden", "7", "--no-progress"]
    assert CliRunner().invoke(main, [str(a) for a in train]).exit_code == 0
    toml = CliRunner().invoke(main, ["info", "--toml", str(model)]).stdout
    assert "\n[data]\ntrain = { name = " in toml and 'encoding = "utf-8"' in toml and 'format = "conll"' in toml
    config = tmp_path / "m.toml"
    config.write_text(toml, encoding="utf-8")
    again = tmp_path / "again.npz"
    result = CliRunner().invoke(
        main, ["train", str(SAMPLE / "train.conll"), "-o", str(again), "--config", str(config), "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert (
        CliRunner().invoke(main, ["info", "--toml", str(again)]).stdout.split("\n[data]")[0]
        == toml.split("\n[data]")[0]
    )


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("hiden = 30\n", "unknown setting 'hiden'; did you mean hidden?"),
        ("lerning_rate = 0.1\n", "unknown setting 'lerning_rate' (windowclf train"),
        ("lr_shedule = 'linear'\n", "did you mean lr_schedule?"),
        ("data = 3\n", "data must be a table"),
    ],
)
def test_a_settings_file_typo_names_the_near_setting(tmp_path, text, fragment):
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_settings_file(path)
    assert fragment in str(err.value) and str(path) in str(err.value)
    assert "affix_min_count" not in str(err.value)  # not the list of every setting


@pytest.mark.parametrize("name", ["BILUO", "biluo", "BILOU", "BIOES", "IOBES"])
def test_spacys_biluo_and_the_other_names_of_iobes_are_accepted(name):
    assert canonical_choice("scheme", name, ("IO", "IOB1", "IOB2", "IOBES")) == "IOBES"
    assert Settings(scheme=name).scheme == "IOBES"
