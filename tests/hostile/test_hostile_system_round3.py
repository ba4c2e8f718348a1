"""Issue 30's classes that need real processes: what the terminal receives on stderr (class 11),
what a Dask run prints before its one error line (class 12), and what the provenance records of a
file changed or removed after it was read (class 7)."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from hostile_cli import REPO, TINY
from support import drain_terminal

from windowclf._util.hashing import open_input, recorded_reads
from windowclf.cli.main import main
from windowclf.formats.tagged import read_tagged
from windowclf.models.container import load_model_file

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="real processes and terminals (POSIX)")

SAMPLE = REPO / "data" / "sample"
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
ESCAPES = "\x1b]0;pwned\x07"


def _stderr_on_a_terminal(args, cwd) -> tuple:
    """Run with stderr on a pseudo-terminal (stdout to a pipe); (exit code, what the terminal got)."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "windowclf", *map(str, args)],
        cwd=cwd,
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
    )
    os.close(follower)
    return drain_terminal(leader, proc, 60)


@pytest.fixture
def model(tmp_path):
    result = CliRunner().invoke(main, ["train", str(SAMPLE / "train.conll"), "-o", str(tmp_path / "m.npz"), *TINY])
    assert result.exit_code == 0, result.output
    return tmp_path / "m.npz"


# ------------------------------------------------------- class 11: every line to a terminal


@pytest.mark.slow
def test_file_names_with_escapes_reach_a_terminal_escaped_on_stderr(model, tmp_path):
    jsonl = f"spans{ESCAPES}.jsonl"
    record = {
        "text": "Anna Keller flew to Oslo.",
        "entities": [[0, 11, "PER"], [20, 22, "LOC"]],
    }  # the second: off tokens
    (tmp_path / jsonl).write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    vectors = f"vec{ESCAPES}.txt"
    (tmp_path / vectors).write_text("3 2\nanna 0.1 0.2\noslo 0.3 0.4\nanna 0.5 0.6\n")  # a duplicate word
    (tmp_path / "text.txt").write_text("Anna flew to Oslo.\n")
    cases = [
        ["train", jsonl, "-o", "a.npz", *TINY],  # the warning about spans off token boundaries
        ["train", SAMPLE / "train.conll", "-o", "b.npz", *TINY, "--embeddings", vectors],  # duplicate vector
        ["predict", "-m", model, "--output-dir", f"od{ESCAPES}", "text.txt"],  # the --output-dir summary
        ["predict", "-m", model, f"missing{ESCAPES}.txt"],  # an error line
    ]
    for args in cases:
        code, seen = _stderr_on_a_terminal(args, tmp_path)
        assert code in (0, 2), (args, seen)
        assert b"\x1b]" not in seen and b"\x07" not in seen, (args, seen)
        assert b"\\x1b]0;pwned\\x07" in seen, (args, seen)


def test_a_progress_bar_still_draws_on_a_terminal(tmp_path):
    code, seen = _stderr_on_a_terminal(
        ["train", SAMPLE / "train.conll", "-o", "m.npz", *TINY[:-1], "--progress"], tmp_path
    )
    assert code == 0 and b"epoch 1" in seen and b"\\r" not in seen, seen  # redrawn with \r, not "\\r"


# --------------------------------------------------------- class 12: Dask's own logs stay out


@pytest.mark.slow
def test_a_bad_input_on_dask_workers_prints_the_one_line_the_command_prints(model, tmp_path):
    pytest.importorskip("distributed")
    (tmp_path / "good.txt").write_text("Anna Keller flew from Oslo to Lyon.\n")
    (tmp_path / "bad.txt").write_bytes(b"Anna lives in Oslo.\n\xff\xfe not text\n")
    alone = subprocess.run(
        [sys.executable, "-m", "windowclf", "predict", "-m", str(model), "bad.txt"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
    )
    on_dask = subprocess.run(
        [sys.executable, "-m", "windowclf", "predict", "-m", str(model), "--workers", "2"]
        + ["--output-dir", "od", "good.txt", "bad.txt"],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        timeout=180,
    )
    assert alone.returncode == on_dask.returncode == 2
    # the progress bar over the tasks, redrawn with \r, is all there is besides the one line
    lines = [x for x in on_dask.stderr.decode().replace("\r", "\n").splitlines() if x and not x.startswith("[")]
    assert lines == alone.stderr.decode().splitlines(), on_dask.stderr.decode()


# -------------------------------------------------- class 7: the bytes read, hashed as read


def test_the_ledger_hashes_the_bytes_read_whatever_happens_to_the_file_after(tmp_path):
    path = tmp_path / "train.conll"
    original = (SAMPLE / "train.conll").read_bytes()[:5000].rsplit(b"\n\n", 1)[0] + b"\n"
    path.write_bytes(original)
    with recorded_reads() as reads:
        read_tagged(path)
        path.write_bytes(original + b"Oslo B-LOC\n")  # changed after it was read
    assert reads.sha256(path) == hashlib.sha256(original).hexdigest()
    big = original * 50  # larger than a read's buffer: reading ten bytes leaves the rest unread
    path.write_bytes(big)
    with recorded_reads() as reads:  # a reader that stops early: the rest is hashed too, from its descriptor
        with open_input(path) as f:
            f.read(10)
        (tmp_path / "new").write_bytes(b"x")
        os.replace(tmp_path / "new", path)  # another file at the name: the descriptor reads the one opened
        assert reads.sha256(path) == hashlib.sha256(big).hexdigest()


def test_train_records_the_training_files_hash_even_when_it_is_changed_or_removed_while_vectors_load(tmp_path):
    """The vectors come through a FIFO: once the command opens it, the training file has been read;
    the test then removes the training file and only then sends the vectors."""
    train = tmp_path / "train.conll"
    train.write_bytes((SAMPLE / "train.conll").read_bytes())
    original = hashlib.sha256(train.read_bytes()).hexdigest()
    os.mkfifo(tmp_path / "vectors")
    proc = subprocess.Popen(
        [sys.executable, "-m", "windowclf", "train", "train.conll", "-o", "m.npz", *TINY, "--embeddings", "vectors"]
        + ["--embeddings-format", "glove"],
        cwd=tmp_path,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    opened = threading.Event()

    def feed():
        with open(tmp_path / "vectors", "w") as fifo:  # returns once the command opened its end
            opened.set()
            fifo.write("anna 0.1 0.2 0.3\noslo 0.3 0.2 0.1\n")

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    assert opened.wait(120), "the command never opened the vectors"
    train.unlink()  # removed once read, before the provenance is written
    writer.join(60)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    provenance = load_model_file(tmp_path / "m.npz")[1]["provenance"]
    assert provenance["train"] == {"name": "train.conll", "sha256": original}
    assert provenance["vectors"] == {"name": "vectors", "sha256": None}  # a FIFO: no bytes to hash again


def test_every_file_of_the_provenance_is_hashed_from_what_was_read(tmp_path, monkeypatch):
    """train never hashes a file by its name (the old provenance read each one again): every
    sha256 comes from the bytes its readers read."""
    from windowclf._util import hashing

    def by_name(path):
        raise AssertionError(f"{path} hashed by name")

    monkeypatch.setattr(hashing, "file_sha256", by_name)
    monkeypatch.chdir(tmp_path)
    Path("train.conll").write_bytes((SAMPLE / "train.conll").read_bytes())
    Path("dev.conll").write_bytes((SAMPLE / "dev.conll").read_bytes())
    Path("cfg.toml").write_text("hidden = 4\n")
    result = CliRunner().invoke(
        main, ["train", "train.conll", "--dev", "dev.conll", "--config", "cfg.toml", "-o", "m.npz", *TINY]
    )
    assert result.exit_code == 0, result.output
    provenance = load_model_file(tmp_path / "m.npz")[1]["provenance"]
    for key, name in (("train", "train.conll"), ("dev", "dev.conll"), ("settings_file", "cfg.toml")):
        assert provenance[key]["sha256"] == hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()
