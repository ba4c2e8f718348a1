"""The hostile situations a generator cannot draw: signals, pipes, terminals, closed streams.

Each test runs ``python -m windowclf.cli.main`` as a real process (or the click runner where the
process does not matter) and checks one promise of issue 14 outside the fixed table.
"""

from __future__ import annotations

import gzip
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hostile_cli import TINY
from support import REPO, SAMPLE, drain_terminal, run_windowclf, start_windowclf

from windowclf._util.outputs import check_output
from windowclf.cli.main import main
from windowclf.errors import InputError
from windowclf.formats.vectors import load_vectors
from windowclf.models.container import load_model_file
from windowclf.models.tagger import WindowTagger

pytestmark = [
    pytest.mark.slow,  # a warm fork server and hundreds of real processes
    pytest.mark.skipif(not hasattr(os, "fork"), reason="the suite forks real processes (POSIX)"),
]

SLOW = ["--hidden", "20", "--dim", "20", "--seed", "3", "--batch-size", "1", "--no-progress"]


def temporary_files(where: Path) -> list:
    return [p for p in where.rglob("*") if p.name.endswith(".tmp")]


# ------------------------------------------------------------------------------ signals


def test_sigterm_is_handled_as_ctrl_c_exit_143_one_line_best_model_kept(tmp_path):
    proc = start_windowclf(
        "train",
        SAMPLE / "train.conll",
        "--dev",
        SAMPLE / "dev.conll",
        "-o",
        "m.npz",
        "--epochs",
        40,
        *SLOW,
        cwd=tmp_path,
    )
    for line in proc.stdout:
        if line.startswith(b"epoch"):
            proc.send_signal(signal.SIGTERM)
            break
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    lines = err.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Terminated: the best model so far, epoch "), err
    assert WindowTagger.load(tmp_path / "m.npz").history  # the epochs done are saved
    assert not temporary_files(tmp_path)


def test_sigterm_at_any_moment_of_saving_leaves_no_temporary_file_and_a_loadable_model(tmp_path):
    """A large L makes each save take a while; SIGTERMs land before, inside and after saves."""
    args = [
        "train",
        SAMPLE / "train.conll",
        "-o",
        "m.npz",
        "--epochs",
        1000,
        "--dim",
        400,
        "--hidden",
        5,
        "--min-count",
        1,
        "--no-progress",
    ]
    for delay in (0.0, 0.01, 0.03, 0.07):
        proc = start_windowclf(*args, cwd=tmp_path)
        assert proc.stdout.readline().strip()  # training has started (a first line is out)
        time.sleep(delay)
        while proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        err = proc.stderr.read().decode()
        assert proc.returncode in (143, -signal.SIGTERM), err
        assert len(err.splitlines()) <= 1 and "Traceback" not in err, err
        assert not temporary_files(tmp_path), delay
        if (tmp_path / "m.npz").exists():
            load_model_file(tmp_path / "m.npz")


def test_a_run_that_fails_keeps_the_previous_model_and_its_log(tmp_path):
    """A bad option, divergence in epoch 1, Ctrl-C in epoch 1: the log is not truncated."""
    train = SAMPLE / "train.conll"
    code, _, err = run_windowclf(
        "train", train, "-o", "m.npz", "--epochs", 1, *SLOW[:-3], "--no-progress", cwd=tmp_path
    )
    assert code == 0, err
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"m.npz", "m.npz.log.jsonl"}

    code, _, err = run_windowclf("train", train, "-o", "m.npz", "--lr", "-1", cwd=tmp_path)
    assert code == 2, err
    code, _, err = run_windowclf(
        "train", train, "-o", "m.npz", "--lr", "1e30", "--activation", "relu", "--no-progress", cwd=tmp_path
    )
    assert code == 1 and b"lower the learning rate" in err, err
    proc = start_windowclf("train", train, "-o", "m.npz", "--epochs", 5, *SLOW[:-1], "--progress", cwd=tmp_path)
    proc.stderr.read(1)  # the progress label: epoch 1 has begun
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and b"no epoch finished" in err, err

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_resumed_run_keeps_the_log_of_the_epochs_it_continues(tmp_path):
    train, dev = SAMPLE / "train.conll", SAMPLE / "dev.conll"
    common = ["--dev", dev, "--hidden", 8, "--dim", 8, "--no-progress"]
    assert run_windowclf("train", train, "-o", "a.npz", "--epochs", 2, *common, cwd=tmp_path)[0] == 0
    assert (
        run_windowclf(
            "train",
            train,
            "--resume",
            "a.npz",
            "-o",
            "b.npz",
            "--epochs",
            3,
            *common[:2],
            "--no-progress",
            cwd=tmp_path,
        )[0]
        == 0
    )
    epochs = [json.loads(line)["epoch"] for line in (tmp_path / "b.npz.log.jsonl").read_text().splitlines()]
    assert epochs == [1, 2, 3]


# ------------------------------------------------------------------------- pipes, gzip


def test_vectors_from_a_pipe_train_the_model_the_file_trains(tmp_path):
    words = sorted({line.split()[0].lower() for line in (SAMPLE / "train.conll").read_text().splitlines() if line})
    rng = np.random.default_rng(0)
    text = f"{len(words)} 4\n" + "".join(f"{w} {' '.join(f'{v:.4f}' for v in rng.normal(size=4))}\n" for w in words)
    (tmp_path / "vec.txt").write_text(text)
    (tmp_path / "vec.txt.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    common = f"train {SAMPLE / 'train.conll'} --epochs 1 --hidden 5 --no-progress --keep-pretrained-vocab"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for out, source in (("file.npz", "vec.txt"), ("pipe.npz", "<(cat vec.txt)"), ("gzpipe.npz", "<(cat vec.txt.gz)")):
        done = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m windowclf.cli.main {common} -o {out} --embeddings {source}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
        )
        assert done.returncode == 0, done.stderr
    arrays, meta = load_model_file(tmp_path / "file.npz")
    for name in ("pipe.npz", "gzpipe.npz"):
        piped_arrays, piped_meta = load_model_file(tmp_path / name)
        assert sorted(piped_arrays) == sorted(arrays)
        assert all(np.array_equal(piped_arrays[key], arrays[key]) for key in arrays), name
        # the same model; only how it was made differs: a pipe, read once, has no sha256 to record
        assert piped_meta["provenance"]["vectors"]["sha256"] is None
        assert {k: v for k, v in piped_meta.items() if k != "provenance"} == {
            k: v for k, v in meta.items() if k != "provenance"
        }


# -------------------------------------------------------------------- standard streams


def test_closed_standard_streams_give_one_line_or_go_nowhere(tmp_path):
    model = tmp_path / "m.npz"
    assert run_windowclf("train", SAMPLE / "train.conll", "-o", model, *TINY, cwd=tmp_path)[0] == 0
    closed_stdin = run_windowclf("predict", "-m", model, cwd=tmp_path, close=(0,))
    assert closed_stdin[0] == 2 and closed_stdin[2].decode().splitlines() == [
        "Error: <stdin>: standard input is closed; give INPUT files or pipe text in"
    ], closed_stdin
    # a closed stdout is a write error, as for the coreutils: one line, exit 1, at the first write
    # (train's data summary: before anything is trained or saved)
    for args in (["info", model], ["train", SAMPLE / "train.conll", "-o", "quiet.npz", *TINY]):
        proc = start_windowclf(*args, cwd=tmp_path, close=(1,))
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 1 and err.decode().splitlines() == [
            "Error: <stdout>: write error: standard output is closed (Bad file descriptor)"
        ], err
    assert not (tmp_path / "quiet.npz").exists()
    # a command that writes nothing to stdout does its work
    proc = start_windowclf("export-model", "-m", model, "-o", "slim.npz", cwd=tmp_path, close=(1,))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and (tmp_path / "slim.npz").exists(), err


def _on_a_terminal(args, cwd, stdin=b""):
    """Run with stdout on a pseudo-terminal; what the terminal received."""
    leader, follower = pty.openpty()
    proc = start_windowclf(*args, cwd=cwd, stdin=subprocess.PIPE, stdout=follower)
    os.close(follower)
    proc.stdin.write(stdin)
    proc.stdin.close()
    return drain_terminal(leader, proc, 30)


def test_control_characters_from_files_are_escaped_on_a_terminal_and_kept_in_pipes(tmp_path):
    conll = "Anna B-\x9b31mPER\nlives O\nin O\nOslo B-LOC\n\n" * 20  # a C1 control (CSI) in a type name
    (tmp_path / "c1.conll").write_text(conll, encoding="utf-8")
    assert run_windowclf("train", "c1.conll", "-o", "m.npz", *TINY, "--scheme", "IO", cwd=tmp_path)[0] == 0
    code, seen = _on_a_terminal(["info", "m.npz"], tmp_path)
    assert code == 0 and "\x9b".encode() not in seen and b"\\x9b31mPER" in seen, seen
    text = b"Anna lives in Oslo \x1b]0;pwned\x07 today.\n"
    code, seen = _on_a_terminal(["predict", "-m", "m.npz", "--format", "inline"], tmp_path, stdin=text)
    assert code == 0 and b"\x1b" not in seen and b"\\x1b" in seen, seen
    proc = start_windowclf("predict", "-m", "m.npz", "--format", "inline", cwd=tmp_path, stdin=subprocess.PIPE)
    out, _ = proc.communicate(text, timeout=60)
    assert b"\x1b]0;pwned\x07" in out  # into a pipe, the data are the data


def test_undecodable_file_names_are_escaped_in_json_and_messages(tmp_path):
    name = os.fsdecode(b"caf\xe9.txt")
    (tmp_path / name).write_text("Anna lives in Oslo.\n")
    assert run_windowclf("train", SAMPLE / "train.conll", "-o", "m.npz", *TINY, cwd=tmp_path)[0] == 0
    code, out, err = run_windowclf("predict", "-m", "m.npz", "--format", "json", name, cwd=tmp_path)
    assert code == 0, err
    record = json.loads(out.decode("utf-8"))
    assert record["file"] == "caf\\xe9.txt"
    code, out, err = run_windowclf("info", "--json", "m.npz", cwd=tmp_path)
    json.loads(out.decode("utf-8"))
    code, out, err = run_windowclf("predict", "-m", os.fsdecode(b"nop\xe9.npz"), cwd=tmp_path)
    assert code == 2 and err.decode("utf-8") == "Error: nop\\xe9.npz: no such model file\n", err


# --------------------------------------------------------------------------- outputs


def test_train_into_a_fresh_directory_creates_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train", str(SAMPLE / "train.conll"), "-o", "runs/ner.npz", *TINY])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["ner.npz", "ner.npz.log.jsonl"]


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/dev/null", "is a character device"),
        ("/", "is a directory"),
        ("/dev/null/x.npz", "a parent of this path is a file"),
    ],
)
def test_the_output_guard_refuses_devices_and_directories_without_writing(target, expected):
    with pytest.raises(InputError, match=expected):
        check_output(target)


def test_tokens_with_nbsp_and_line_separators_round_trip_through_export(tmp_path, monkeypatch):
    """Whatever train accepts, export-embeddings writes and load_vectors reads back, bit for bit."""
    monkeypatch.chdir(tmp_path)
    words = ["Anna\xa0Lee", "in\u2028side", "Oslo\x85", "Zürich", "\u202eevil"]
    conll = "".join(f"{w} B-PER\nlives O\n\n" for w in words) * 3
    Path("u.conll").write_text(conll, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["train", "u.conll", "-o", "u.npz", *TINY]).exit_code == 0
    result = runner.invoke(main, ["export-embeddings", "-m", "u.npz", "-o", "u.txt"])
    assert result.exit_code == 0, result.output
    tagger, vectors = WindowTagger.load("u.npz"), load_vectors("u.txt")
    assert vectors.index_to_key == tagger.index_to_key and {w.lower() for w in words} <= set(vectors.index_to_key)
    assert np.array_equal(vectors.vectors, tagger.vectors)
    again = runner.invoke(
        main, ["train", "u.conll", "-o", "again.npz", *TINY, "--embeddings", "u.txt", "--keep-pretrained-vocab"]
    )
    assert again.exit_code == 0, again.output
