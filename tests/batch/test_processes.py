"""A file's segments tagged on forked worker processes (batch.processes): the bytes one process writes,
for predict and --output-dir, and a bad input's one line after the output before it."""

from __future__ import annotations

import pytest
from support import SAMPLE, make_text, predict_cli, run

from windowclf.batch.processes import can_fork
from windowclf.batch.segments import SEGMENT_BYTES
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

pytestmark = pytest.mark.skipif(not can_fork(), reason="worker processes are forked (Linux)")


@pytest.fixture(scope="module")
def rich_model(tmp_path_factory):
    train = list(read_conll(SAMPLE / "train.conll"))
    path = tmp_path_factory.mktemp("model") / "rich.npz"
    WindowTagger(
        dim=16,
        hidden=20,
        epochs=1,
        seed=0,
        features=["caps", "doccase", "gazetteer"],
        char_filters=4,
        decoder="sll",
        scheme="IOBES",
        doc_vote=1.5,
    ).fit([s.tokens for s in train], [s.tags for s in train]).save(path)
    return path


def test_two_processes_write_the_bytes_one_writes(rich_model, tmp_path):
    path = tmp_path / "news.txt"
    path.write_bytes(make_text(int(2.3 * SEGMENT_BYTES), seed=5))
    one = predict_cli(rich_model, "--jobs", "1", path)
    assert predict_cli(rich_model, "--jobs", "2", path) == one
    assert predict_cli(rich_model, "--jobs", "3", "--format", "inline", path) == predict_cli(
        rich_model, "--jobs", "1", "--format", "inline", path
    )


def test_output_dir_on_processes_writes_what_predict_prints(rich_model, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(make_text(int(1.6 * SEGMENT_BYTES), seed=6))
    b.write_bytes(make_text(20_000, seed=7))
    result = run("predict", "-m", rich_model, "--jobs", "2", "--output-dir", tmp_path / "out", a, b, reraise=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "a.txt.conll").read_bytes() == predict_cli(rich_model, "--jobs", "1", a)
    assert (tmp_path / "out" / "b.txt.conll").read_bytes() == predict_cli(rich_model, "--jobs", "1", b)


def test_a_bad_byte_late_in_a_file_is_the_line_one_process_prints(rich_model, tmp_path):
    data = bytearray(make_text(int(2.4 * SEGMENT_BYTES), seed=8))
    data[int(1.7 * SEGMENT_BYTES)] = 0xFF  # not UTF-8, in a later segment
    path = tmp_path / "bad.txt"
    path.write_bytes(bytes(data))
    one = run("predict", "-m", rich_model, "--jobs", "1", path, reraise=False)
    two = run("predict", "-m", rich_model, "--jobs", "2", path, reraise=False)
    assert one.exit_code == two.exit_code == 2
    assert two.stdout == one.stdout  # the output before the error
    assert two.stderr == one.stderr and two.stderr.startswith("Error: ")  # and the same line
