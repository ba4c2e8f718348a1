"""Issue 30's classes at the command line, each held at its mechanism by a test that enumerates
the siblings: every file parameter of every command is an input of the output guard, every float
option refuses NaN and infinity, errors name what was given where it was given (flag, settings
file, data file), and operating-system errors exit 2 only when they are about an input.

(A new test file beside the flat tests/test_*.py: the folders mirror the packages.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from windowclf.cli.main import main
from windowclf.cli.options import Command, Number

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
TINY = ["--epochs", "1", "--hidden", "4", "--dim", "3", "--min-count", "1", "--no-progress"]


def run(args, **kwargs):
    return CliRunner().invoke(main, [str(a) for a in args], **kwargs)


def one_error_line(result) -> str:
    lines = result.stderr.splitlines()
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert len(lines) >= 1 and lines[-1].startswith("Error: ") and sum(x.startswith("Error:") for x in lines) == 1
    assert "Traceback" not in result.output
    return lines[-1]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder with small valid inputs of every kind a command reads."""
    where = tmp_path_factory.mktemp("round3")
    train = "\n\n".join((SAMPLE / "train.conll").read_text().strip("\n").split("\n\n")[:20]) + "\n"
    (where / "train.conll").write_text(train)
    (where / "dev.conll").write_text("\n\n".join(train.split("\n\n")[:4]) + "\n")
    (where / "text.txt").write_text("Anna Keller flew from Oslo to Lyon.\n")
    words = sorted({line.split()[0].lower() for line in train.splitlines() if line})[:20]
    (where / "vec.txt").write_text(f"{len(words)} 3\n" + "".join(f"{w} 0.1 0.2 0.3\n" for w in words))
    (where / "vocab.txt").write_text("\n".join(words) + "\n")
    (where / "wordVectors.txt").write_text("0.1 0.2 0.3\n" * len(words))
    (where / "cfg.toml").write_text("hidden = 4\ndim = 3\n")
    cwd = os.getcwd()
    os.chdir(where)
    try:
        assert run(["train", "train.conll", "--dev", "dev.conll", "-o", "model.npz", *TINY]).exit_code == 0
        assert run(["train", "train.conll", "-o", "model2.npz", *TINY, "--seed", "1"]).exit_code == 0
    finally:
        os.chdir(cwd)
    return where


@pytest.fixture
def here(files, tmp_path, monkeypatch):
    """A fresh copy of the files, as the working directory."""
    for p in files.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _snapshot(root: Path) -> dict:
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink() else os.readlink(p))
        for p in root.rglob("*")
        if p.is_file() or p.is_symlink()
    }


# ------------------------------------------------------------- class 1: the output guard

# Every file parameter of every command that writes, set to the file V, with the output on V
# itself or on a link to it (L): the guard must refuse each, and change nothing.
V = "victim.dat"
ON_AN_INPUT = {
    ("train", "train_path"): ["train", V, "-o", "OUT", *TINY],
    ("train", "dev_path"): ["train", "train.conll", "--dev", V, "-o", "OUT", *TINY],
    ("train", "embeddings_path"): ["train", "train.conll", "--embeddings", V, "-o", "OUT", *TINY],
    ("train", "embeddings_vocab"): ["train", "train.conll", "--embeddings", "wordVectors.txt"]
    + ["--embeddings-format", "cs224d", "--embeddings-vocab", V, "-o", "OUT", *TINY],
    ("train", "config_path"): ["train", "train.conll", "--config", V, "-o", "OUT", *TINY],
    ("train", "gazetteer_path"): ["train", "train.conll", "--gazetteer", V, "-o", "OUT", *TINY],
    # the resumed model may be overwritten in place (it is read whole first); its log read back
    # after the first save may not be the model output
    ("train", "resume_path"): ["train", "train.conll", "--resume", "res.npz", "-o", "OUT", "--epochs", "3"],
    ("export-embeddings", "model_path"): ["export-embeddings", "-m", V, "-o", "OUT"],
    ("export-model", "model_path"): ["export-model", "-m", V, "-o", "OUT"],
    ("plot", "log_path"): ["plot", V, "-o", "OUT"],
    ("plot", "confusion"): ["plot", "model.npz.log.jsonl", "-o", "OUT", "--confusion", "model.npz", V],
    ("ensemble", "model_paths"): ["ensemble", "-o", "OUT", "model.npz", V],
}


def _file_parameters():
    """(command, parameter) of every file a command that writes reads."""
    for name, command in main.commands.items():
        if not set(command.outputs) & {p.name for p in command.params} or name == "predict":
            continue  # predict writes into --output-dir: tested below
        for p in command.params:
            if isinstance(p.type, click.Path) and p.name not in command.outputs:
                yield name, p.name


def test_every_file_parameter_of_every_command_is_in_the_table():
    assert all(isinstance(cmd, Command) for cmd in main.commands.values())
    assert sorted(_file_parameters()) == sorted(ON_AN_INPUT)


CASES = [(key, link) for key in sorted(ON_AN_INPUT) for link in (False, True)]


@pytest.mark.parametrize("key, link", CASES, ids=[f"{c}-{p}{'-link' if k else ''}" for (c, p), k in CASES])
def test_an_output_onto_any_file_the_command_reads_is_refused(key, link, here):
    victim = here / V
    victim.write_bytes((here / "model.npz").read_bytes() if "model" in key[1] else b"hidden = 4\n")
    if key[1] == "resume_path":  # its log is the victim
        (here / "res.npz").write_bytes((here / "model.npz").read_bytes())
        victim.write_text('{"epoch": 1, "train_loss": 1.0}\n')
        os.symlink(V, here / "res.npz.log.jsonl")
    out = V
    if link:
        os.symlink(V, here / "link.dat")
        out = "link.dat"
    before = _snapshot(here)
    line = one_error_line(run([out if a == "OUT" else a for a in ON_AN_INPUT[key]]))
    assert "is the input" in line and "would destroy it" in line, line
    assert _snapshot(here) == before


def test_predict_output_dir_never_writes_over_the_model_or_an_input(here):
    (here / "od").mkdir()
    (here / "od" / "text.txt.conll").write_bytes((here / "model.npz").read_bytes())
    before = _snapshot(here)
    line = one_error_line(run(["predict", "-m", "od/text.txt.conll", "--output-dir", "od", "text.txt"]))
    assert "is the input -m" in line, line
    assert _snapshot(here) == before


# ------------------------------------------------------------- class 8: every float option


def _float_options():
    for name, command in main.commands.items():
        for p in command.params:
            # any float type (click's FloatRange lets NaN through): each must be a Number
            if isinstance(p, click.Option) and isinstance(p.type, (Number, click.types.FloatParamType)):
                yield name, p.opts[-1] if p.opts[-1].startswith("--") else p.opts[0]


FLOATS = sorted(set(_float_options()))
BASES = {
    "train": ["train", "train.conll", "-o", "new.npz", *TINY],
    "gradcheck": ["gradcheck"],
    "predict": ["predict", "-m", "model.npz", "--output-dir", "od", "text.txt"],
    "serve": ["serve", "-m", "model.npz"],
}


def test_the_float_options_are_the_ones_expected():
    assert {name for name, _ in FLOATS} == set(BASES)
    # click's FloatRange lets NaN through: a ranged float option is a Number (a plain FLOAT is a
    # setting, checked by the settings' own rules)
    ranged = [p.name for c in main.commands.values() for p in c.params if isinstance(p.type, click.FloatRange)]
    assert ranged == [], ranged
    assert ("predict", "--min-confidence") in FLOATS and ("predict", "--block-size") in FLOATS


@pytest.mark.parametrize("name, flag", FLOATS, ids=[f"{n}{f}" for n, f in FLOATS])
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_every_float_option_refuses_nan_and_infinity_naming_itself(name, flag, value, here):
    before = _snapshot(here)
    line = one_error_line(run([*BASES[name], flag, value]))
    assert flag in line, line
    assert _snapshot(here) == before


def test_min_confidence_nan_is_refused_where_it_used_to_drop_nothing(here):
    line = one_error_line(run(["predict", "-m", "model.npz", "--min-confidence", "nan"], input="Anna flew.\n"))
    assert "--min-confidence" in line and "nan" in line


# ----------------------------------------------------------- class 9: no traceback


@pytest.mark.parametrize(
    "content, expected",
    [
        ('features = [["caps"]]\n', "features[0] must be a feature name"),
        ("features = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("hidden = {a = 1}\n", "hidden must be"),
        ("lr = nan\n", "lr must be a positive number"),
        ("preset = 5\n", "unknown preset"),
    ],
)
def test_hostile_settings_files_are_one_line_naming_the_file(content, expected, here):
    (here / "bad.toml").write_text(content)
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--config", "bad.toml", "--no-progress"]))
    assert line.startswith("Error: bad.toml: ") and expected in line, line


@pytest.mark.parametrize("address", ["garbage", "foo://bar", "inproc://x", "tcp://", "tcp://host:0", "tcp://h:x"])
def test_scheduler_addresses_that_cannot_be_are_refused_before_connecting(address, here):
    line = one_error_line(run(["predict", "-m", "model.npz", "--scheduler", address, "--output-dir", "od", "text.txt"]))
    assert "--scheduler" in line, line
    assert not (here / "od").exists()


def test_a_deeply_nested_manifest_is_no_record_and_the_files_are_tagged_again(here):
    assert run(["predict", "-m", "model.npz", "--output-dir", "od", "text.txt"]).exit_code == 0
    output = (here / "od" / "text.txt.conll").read_bytes()
    (here / "od" / "manifest.json").write_text("[" * 200_000 + "]" * 200_000)
    result = run(["predict", "-m", "model.npz", "--output-dir", "od", "text.txt"])
    assert result.exit_code == 0, result.output
    assert (here / "od" / "text.txt.conll").read_bytes() == output
    assert json.loads((here / "od" / "manifest.json").read_text())["files"]["text.txt.conll"]["tokens"] == 8


# -------------------------------------------- class 13: errors name what was given, where


def test_a_setting_from_the_settings_file_is_blamed_on_the_file_not_on_a_flag(here):
    (here / "zero.toml").write_text("epochs = 0\n")
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--config", "zero.toml"]))
    assert line == "Error: zero.toml: epochs = 0 trains nothing; give at least 1", line
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--epochs", "0"]))
    assert line == "Error: --epochs 0 trains nothing; give at least 1", line
    (here / "pat.toml").write_text("patience = 2\n")
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--config", "pat.toml"]))
    assert line.startswith("Error: pat.toml: patience stops on dev F1"), line
    (here / "big.toml").write_text("hidden = 100000000000\n")
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--config", "big.toml", "--no-progress"]))
    assert line.startswith("Error: big.toml: ") and "(hidden 100000000000," in line, line
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--hidden", "100000000000", "--no-progress"]))
    assert "(--hidden 100000000000," in line, line


@pytest.mark.parametrize("value", ["1e30", "100000000000000000000000000000000"])
def test_hidden_too_large_names_hidden(value, here):
    line = one_error_line(run(["train", "train.conll", "-o", "new.npz", "--hidden", value, "--no-progress"]))
    assert "--hidden" in line, line


def test_resuming_on_data_with_tags_the_model_never_learned_names_the_file_and_line(here):
    (here / "few.conll").write_text("Anna B-PER\nlives O\n\nOslo O\nis O\n")
    assert run(["train", "few.conll", "-o", "few.npz", *TINY]).exit_code == 0
    (here / "more.conll").write_text("Anna B-PER\nlives O\n\nin O\nOslo B-LOC\n")
    line = one_error_line(
        run(["train", "more.conll", "--resume", "few.npz", "-o", "x.npz", "--allow-new-data", "--epochs", "3"])
    )
    assert line.startswith("Error: more.conll:4: tag 'B-LOC' is not one the resumed model few.npz predicts"), line
    records = [{"tokens": ["Anna", "lives"], "ner_tags": [1, 0]}, {"tokens": ["in", "Oslo"], "ner_tags": [0, 3]}]
    (here / "more.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    line = one_error_line(
        run(
            ["train", "more.jsonl", "--labels", "O,B-PER,I-PER,B-LOC,I-LOC", "--resume", "few.npz", "-o", "x.npz"]
            + ["--allow-new-data", "--epochs", "3"]
        )
    )
    assert line.startswith("Error: more.jsonl:2: tag 'B-LOC'"), line


def test_the_output_folder_removed_mid_run_exits_1_not_2(here, monkeypatch):
    import shutil

    from windowclf.batch import jobs

    real = jobs.tag_shard

    def then_remove(*args, **kwargs):
        report = real(*args, **kwargs)
        shutil.rmtree(here / "od")  # the folder goes while the job runs
        return report

    monkeypatch.setattr(jobs, "tag_shard", then_remove)
    result = run(["predict", "-m", "model.npz", "--output-dir", "od", "text.txt"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert sum(x.startswith("Error:") for x in lines) == 1 and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["info", "loop.npz"], ["predict", "-m", "loop.npz", "text.txt"]])
def test_a_loop_of_links_as_the_model_is_bad_input(args, here):
    os.symlink("loop2.npz", here / "loop.npz")
    os.symlink("loop.npz", here / "loop2.npz")
    line = one_error_line(run(args))
    assert line.startswith("Error: loop.npz: ") and "symbolic links" in line, line


def test_a_missing_input_is_bad_input_exit_2(here):
    line = one_error_line(run(["train", "nope.conll", "-o", "new.npz", *TINY]))
    assert line.startswith("Error: nope.conll") and "No such file" in line, line
    line = one_error_line(run(["predict", "-m", "model.npz", "--output-dir", "od", "text.txt", "nope.txt"]))
    assert "nope.txt" in line, line


# ---------------------------------------------------- the closed stdout, at the real process


def test_info_with_stdout_closed_is_a_write_error_and_a_closed_pipe_is_quiet(files):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    closed = subprocess.run(
        [sys.executable, "-m", "windowclf", "info", "model.npz"],
        cwd=files,
        env=env,
        capture_output=False,
        stdout=None,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: os.close(1),
    )
    assert closed.returncode == 1 and closed.stderr.decode().splitlines() == [
        "Error: <stdout>: write error: standard output is closed (Bad file descriptor)"
    ], closed.stderr
    piped = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m windowclf info model.npz | head -c 1 >/dev/null; echo ${{PIPESTATUS[0]}}"],
        cwd=files,
        env=env,
        capture_output=True,
    )
    assert piped.stdout.decode().strip() in ("0", "141") and piped.stderr == b"", piped
