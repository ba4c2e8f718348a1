"""Generated hostile input on the newer surfaces: JSON lines, TOML settings files, ``--output-dir``
manifests, ensembles, the output-folder options, and outputs that are one of the newer inputs.

Each test draws one family and checks the contract of :mod:`hostile_contract` on every case, as
tests/hostile/test_hostile_inputs.py does for the older families (same fixed seed, same
``--hostile-examples``; these families draw half as many each, their commands being slower).
"""

from __future__ import annotations

import json
import os

import pytest
from hostile_cli import TINY
from hostile_contract import Case, check
from hostile_mutations import JSON_VALUES, bytes_damage, confused, model_damage, text_damage
from hypothesis import given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the suite forks real processes (POSIX)")

LABELS = "O,B-PER,I-PER,B-LOC,I-LOC,B-ORG,I-ORG,B-MISC,I-MISC"
TRAIN = ["train", "train.conll", "-o", "new.npz", *TINY]


def _run(cli, world, examples, cases):
    @settings(settings.get_profile("hostile"), max_examples=max(1, examples // 2))
    @given(case=cases)
    def run(case):
        check(cli, world, case)

    run()


def _bytes(world, name):
    return (world / name).read_bytes()


# --------------------------------------------------------------------------- JSON lines


@st.composite
def _record_damage(draw, data: bytes) -> bytes:
    """One record's field replaced by a value of another kind, or removed, or the record's JSON
    replaced by another JSON value (a list, a string, a number, deep nesting)."""
    lines = data.split(b"\n")
    i = draw(st.integers(0, max(0, len(lines) - 2)))
    how = draw(st.sampled_from(["field", "field", "drop", "value", "raw"]))
    if how == "raw":
        lines[i] = draw(st.sampled_from([b"[" * 5000 + b"]" * 5000, b"NaN", b'"x"', b"{}", b"{" * 100, b"\xff"]))
        return b"\n".join(lines)
    record = json.loads(lines[i])
    key = draw(st.sampled_from(sorted(record)))
    if how == "drop":
        del record[key]
    elif how == "value":
        record = draw(JSON_VALUES)
    else:
        value = record[key]
        if isinstance(value, list) and value and draw(st.booleans()):
            value[draw(st.integers(0, len(value) - 1))] = draw(st.one_of(confused(value[0]), JSON_VALUES))
        else:
            value = draw(st.one_of(confused(value), JSON_VALUES))
        record[key] = value
    lines[i] = json.dumps(record).encode()
    return b"\n".join(lines)


@st.composite
def jsonl_cases(draw, world):
    target = draw(st.sampled_from(["train.jsonl", "spans.jsonl"]))
    data = _bytes(world, target)
    damaged = draw(st.one_of(text_damage(data), _record_damage(data)))
    labels = ["--labels", LABELS] if target == "train.jsonl" else []
    args = draw(
        st.sampled_from(
            [
                ["train", target, "-o", "new.npz", *labels, *TINY],
                ["train", "train.conll", "--dev", target, "-o", "new.npz", *labels, *TINY],
                ["evaluate", "-m", "model.npz", target, *labels],
                ["evaluate", "-m", "ensemble.npz", target, *labels, "--json"],
                ["train", target, "--resume", "model.npz", "-o", "new.npz", "--allow-new-data", "--epochs", "3"]
                + ["--no-progress", *labels],
            ]
        )
    )
    return Case(args, {target: damaged})


def test_damaged_json_lines_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, jsonl_cases(world))


# ------------------------------------------------------------------------ TOML settings

# TOML values of every kind TOML has, and some that are not TOML at all.
TOML_VALUES = [
    "-1",
    "0",
    "1e400",
    "nan",
    "-inf",
    '"x"',
    '""',
    "[]",
    '[["caps"]]',
    '[1, "a"]',
    "[" * 3000 + "]" * 3000,
    "{a = 1}",
    "1979-05-27",
    "true",
    '"\\u001b]0;pwned\\u0007"',
    "100000000000000000000000000",
    "0x10",
    "3.5",
    '"caps,,shoe"',
    "'''\nmulti\n'''",
]


@st.composite
def toml_damage(draw, data: bytes) -> bytes:
    """A setting's value replaced by a hostile TOML value, a key added or renamed, a table opened."""
    lines = [line for line in data.decode().splitlines() if line and not line.startswith("#")]
    how = draw(st.sampled_from(["value", "value", "value", "key", "preset", "table", "repeat"]))
    i = draw(st.integers(0, len(lines) - 1))
    key = lines[i].split(" = ", 1)[0]
    if how == "value":
        lines[i] = f"{key} = {draw(st.sampled_from(TOML_VALUES))}"
    elif how == "key":
        lines.append(f"{draw(st.sampled_from(['hiden', 'x', 'settings', key + key]))} = 1")
    elif how == "preset":
        value = draw(st.sampled_from([*TOML_VALUES, '"best-glove"', '"default"']))
        lines.insert(0, f"preset = {value}")
    elif how == "table":
        lines.append(draw(st.sampled_from(["[settings]", "[[features]]", "[a.b.c]", "x.y = 1"])))
    else:
        lines.append(lines[i])  # a key twice: not TOML
    return ("\n".join(lines) + "\n").encode()


@st.composite
def toml_cases(draw, world):
    data = _bytes(world, "cfg.toml")
    damaged = draw(st.one_of(toml_damage(data), toml_damage(data), text_damage(data), bytes_damage(data)))
    args = draw(
        st.sampled_from(
            [
                [*TRAIN, "--config", "cfg.toml"],
                [*TRAIN, "--config", "cfg.toml", "--dev", "dev.conll"],
                [*TRAIN, "--config", "cfg.toml", "--preset", "best-train-only", "--char-filters", "0"],
            ]
        )
    )
    return Case(args, {"cfg.toml": damaged})


def test_damaged_settings_files_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, toml_cases(world))


# ---------------------------------------------------------------------- --output-dir


@st.composite
def manifest_damage(draw, data: bytes) -> bytes:
    """The manifest with a record's field of another kind, records of another shape, deep nesting."""
    manifest = json.loads(data)
    how = draw(st.sampled_from(["field", "field", "files", "version", "raw", "bytes"]))
    if how == "bytes":
        return draw(bytes_damage(data))
    if how == "raw":
        return draw(st.sampled_from([b"[" * 200_000 + b"]" * 200_000, b"NaN", b"", b"\x00" * 100, b'{"files": {']))
    if how == "version":
        manifest["version"] = draw(st.one_of(confused(1), st.just(2)))
    elif how == "files":
        manifest["files"] = draw(st.one_of(confused({}), JSON_VALUES))
    else:
        record = manifest["files"][draw(st.sampled_from(sorted(manifest["files"])))]
        key = draw(st.sampled_from(sorted(record)))
        record[key] = draw(st.one_of(confused(record[key]), JSON_VALUES))
    return json.dumps(manifest).encode()


@st.composite
def output_dir_cases(draw, world):
    files = {}
    what = draw(st.sampled_from(["manifest", "manifest", "output", "options"]))
    command = ["predict", "-m", "model.npz", "--output-dir", "od", "text.txt", "dev.conll"]
    if what == "manifest":
        files["od/manifest.json"] = draw(manifest_damage(_bytes(world, "od/manifest.json")))
    elif what == "output":
        files["od/text.txt.conll"] = draw(bytes_damage(_bytes(world, "od/text.txt.conll")))
    else:
        option = draw(st.sampled_from(["--block-size", "--scheduler", "--format", "--chunk-size", "--min-confidence"]))
        value = draw(
            st.sampled_from(
                {
                    "--block-size": ["nan", "inf", "-inf", "0", "0.5", "1", "1e30", "x", ""],
                    "--scheduler": ["garbage", "foo://bar", "inproc://x", "tcp://", "tcp://h:0", "", "\x1b[2J:1"],
                    "--format": ["json", "inline", "spans-json", "x"],
                    "--chunk-size": ["1", "0", "-1", "1e30"],
                    "--min-confidence": ["nan", "inf", "1.5", "-0.0", "1"],
                }[option]
            )
        )
        command += [option, value]
    return Case(command, files, outputs=("od" + os.sep,))


def test_output_folders_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, output_dir_cases(world))


# --------------------------------------------------------------------------- ensembles

ENSEMBLE_COMMANDS = [
    ["info", "ensemble.npz"],
    ["info", "--json", "ensemble.npz"],
    ["predict", "-m", "ensemble.npz", "--format", "json", "text.txt"],
    ["evaluate", "-m", "ensemble.npz", "dev.conll"],
    ["ensemble", "-o", "again.npz", "ensemble.npz", "model.npz"],
]


@st.composite
def ensemble_cases(draw, world):
    if draw(st.booleans()):
        damaged = draw(model_damage(_bytes(world, "ensemble.npz")))
        return Case(draw(st.sampled_from(ENSEMBLE_COMMANDS)), {"ensemble.npz": damaged})
    damaged = draw(model_damage(_bytes(world, "model2.npz")))
    members = draw(st.sampled_from([["model.npz", "model2.npz"], ["model2.npz"], ["model2.npz", "model2.npz"]]))
    return Case(["ensemble", "-o", "ens.npz", *members], {"model2.npz": damaged})


def test_damaged_ensembles_keep_the_contract(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, ensemble_cases(world))


# ------------------------------------------------------------- outputs onto newer inputs

# Every file a command reads besides its data (the settings file, the vectors and their
# vocabulary, the resumed model and its log, an ensemble's members, a manifest), as -o, directly
# and through a link: the output guard must refuse each (class 1 of issue 30).
NEWER_INPUTS = [
    ([*TRAIN, "--config", "cfg.toml"], "cfg.toml"),
    ([*TRAIN, "--embeddings", "vec.txt"], "vec.txt"),
    (
        [*TRAIN, "--embeddings", "wordVectors.txt", "--embeddings-format", "cs224d", "--embeddings-vocab", "vocab.txt"],
        "vocab.txt",
    ),
    (["train", "train.conll", "--resume", "model.npz", "--epochs", "3", "--no-progress"], "model.npz.log.jsonl"),
    (["ensemble", "-o", "new.npz", "model.npz", "model2.npz"], "model2.npz"),
    (["export-model", "-m", "ensemble.npz", "-o", "new.npz"], "ensemble.npz"),
    (["plot", "model.npz.log.jsonl", "-o", "new.png", "--confusion", "model.npz", "dev.conll"], "dev.conll"),
]


@st.composite
def newer_input_output_cases(draw):
    args, source = draw(st.sampled_from(NEWER_INPUTS))
    args = list(args)
    how = draw(st.sampled_from(["same", "link", "log"]))
    specials = ()
    if how == "log" and source.endswith(".log.jsonl"):  # -o MODEL there is a legitimate resume in place
        how = "same"
    if how == "link":
        target = "link" + os.path.splitext(source)[1]
        specials = (("symlink", target, source),)
    elif how == "log" and args[0] == "train":  # -o X whose log, X.log.jsonl, is (a link to) the input
        target = "cfgname"
        specials = (("symlink", "cfgname.log.jsonl", source),)
    else:
        target = source
    if "-o" in args:
        args[args.index("-o") + 1] = target
    else:
        args += ["-o", target]
    return Case(args, specials=specials, outputs=())  # every one is refused: nothing may change


def test_outputs_onto_any_input_are_refused(cli, world, hostile_examples):
    _run(cli, world, hostile_examples, newer_input_output_cases())
