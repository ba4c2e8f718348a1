"""A job into a folder removes only what it made, runs alone in its folder, and records what it read
(issue 30, classes 2 and 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from windowclf.batch.jobs import MANIFEST, PARTS, Job, run_in_process
from windowclf.batch.shards import TagOptions, model_ref
from windowclf.cli.main import main
from windowclf.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("jobs")
    result = CliRunner().invoke(
        main,
        ["train", str(SAMPLE / "train.conll"), "-o", str(where / "m.npz"), "--epochs", "1", "--hidden", "8"]
        + ["--dim", "8", "--no-progress"],
    )
    assert result.exit_code == 0, result.output
    return where / "m.npz"


def _text(path: Path, lines: int, seed: int = 0) -> Path:
    words = [
        "Anna",
        "Keller",
        "flew",
        "from",
        "Oslo",
        "to",
        "Lyon",
        ".",
        "The",
        "bank",
        "of",
        "Norway",
        "is",
        "in",
        "Oslo",
    ]
    rows = [" ".join(words[(i * 7 + j + seed) % len(words)] for j in range(12)) for i in range(lines)]
    rows = [row + ("\n" if i % 10 == 9 else "") for i, row in enumerate(rows)]  # paragraphs: segments end there
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    "lines, blocks",
    [(50, 1), pytest.param(25_000, 2, marks=pytest.mark.slow)],  # 25,000 lines: over 2 MB, parts joined
)
def test_a_job_removes_only_what_it_made_never_a_users_file(model, tmp_path, lines, blocks):
    a = _text(tmp_path / "a.txt", lines)
    out = tmp_path / "od"
    out.mkdir()
    mine = {
        ".a.txt.conll.notes.tmp": b"the user's notes",  # what the old cleanup's pattern took
        ".a.txt.conll.x1y2z3.tmp": b"another program's temporary file",
        "a.txt.conll.00001": b"a file named like a part",
    }
    for name, data in mine.items():
        (out / name).write_bytes(data)
    (out / PARTS).mkdir()
    (out / PARTS / "notes.txt").write_bytes(b"inside windowclf's folder, but not a job's")
    records = run_in_process(Job([str(a)], out, model_ref(model, send="path"), TagOptions(), block_bytes=1))
    assert records[0]["blocks"] >= blocks  # with parts: made, joined and removed
    for name, data in mine.items():
        assert (out / name).read_bytes() == data, name
    assert (out / PARTS / "notes.txt").exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([*mine, PARTS, "a.txt.conll", MANIFEST])


def test_the_folder_of_a_job_killed_outright_is_removed_by_the_next_job(model, tmp_path):
    a = _text(tmp_path / "a.txt", 50)
    out = tmp_path / "od"
    stale = out / PARTS / "job-deadbeef"
    stale.mkdir(parents=True)
    (stale / ".a.txt.conll.abc.tmp").write_bytes(b"half a part")
    run_in_process(Job([str(a)], out, model_ref(model, send="path"), TagOptions()))
    assert not (out / PARTS).exists()


def test_a_second_job_of_one_process_into_one_folder_is_refused_not_deadlocked(model, tmp_path):
    a = _text(tmp_path / "a.txt", 50)
    ref = model_ref(model, send="path")
    first = Job([str(a)], tmp_path / "od", ref, TagOptions())
    with pytest.raises(ConfigError, match="a job of this process is writing into this folder"):
        Job([str(a)], tmp_path / "od", ref, TagOptions())
    run_in_process(first)
    assert Job([str(a)], tmp_path / "od", ref, TagOptions()).tasks == []  # after it: done, skipped


def _predict(args, cwd):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "windowclf", "predict", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
def test_two_runs_into_one_folder_at_once_both_succeed_one_saying_it_waits(model, tmp_path):
    inputs = [_text(tmp_path / f"doc{i}.txt", 20_000, seed=i) for i in range(2)]
    args = ["-m", model, "--output-dir", "od", *inputs]
    first = _predict(args, tmp_path)
    deadline = time.time() + 60
    while not (tmp_path / "od" / PARTS).exists() and time.time() < deadline:  # the first has begun
        time.sleep(0.01)
    second = _predict(args, tmp_path)
    _out1, err1 = first.communicate(timeout=120)
    _out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert b"another job is writing into this folder; waiting for it to end" in err2, err2
    single = subprocess.run(
        [sys.executable, "-m", "windowclf", "predict", "-m", str(model), str(inputs[0])],
        env={**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"},
        capture_output=True,
        check=True,
    )
    assert (tmp_path / "od" / "doc0.txt.conll").read_bytes() == single.stdout
    manifest = json.loads((tmp_path / "od" / MANIFEST).read_text())
    assert sorted(manifest["files"]) == ["doc0.txt.conll", "doc1.txt.conll"]
    assert sorted(p.name for p in (tmp_path / "od").iterdir()) == ["doc0.txt.conll", "doc1.txt.conll", MANIFEST]


def test_an_input_changed_after_it_was_read_is_redone_by_the_next_run(model, tmp_path, caplog):
    """The record holds what was read: the size and time taken before the first byte."""
    a, b = _text(tmp_path / "a.txt", 300), _text(tmp_path / "b.txt", 300, seed=3)
    ref = model_ref(model, send="path")
    job = Job([str(a), str(b)], tmp_path / "od", ref, TagOptions())
    with open(a, "a") as f:  # appended after the job looked at it, before (or while) it is tagged
        f.write("Anna Keller flew to Oslo .\n")
    run_in_process(job)
    assert "a.txt changed while it was tagged" in caplog.text
    again = Job([str(a), str(b)], tmp_path / "od", ref, TagOptions())
    assert [t.file for t in again.tasks] == [0]  # the changed one only
    run_in_process(again)
    single = CliRunner().invoke(main, ["predict", "-m", str(model), str(a)])
    assert (tmp_path / "od" / "a.txt.conll").read_text() == single.stdout
    assert Job([str(a), str(b)], tmp_path / "od", ref, TagOptions()).tasks == []


@pytest.mark.parametrize(
    "damage, why",
    [
        (b"{not json", "not the JSON of a manifest"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"version": 99, "files": {}}', "not a version 1 manifest"),
    ],
)
def test_a_damaged_manifest_is_said_and_every_input_tagged_again(model, tmp_path, damage, why):
    inputs = [_text(tmp_path / f"doc{i}.txt", 5, seed=i) for i in range(2)]
    out = tmp_path / "od"
    out.mkdir()
    (out / MANIFEST).write_bytes(damage)
    result = CliRunner().invoke(main, ["predict", "-m", str(model), "--output-dir", str(out), *map(str, inputs)])
    assert result.exit_code == 0, result.output
    assert f"manifest.json: {why}; every input is tagged again" in result.stderr
    assert sorted(json.loads((out / MANIFEST).read_text())["files"]) == ["doc0.txt.conll", "doc1.txt.conll"]
