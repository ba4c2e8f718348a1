"""The engine-independent shard function: segments, blocks, byte identity with predict, manifests, pickling."""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import random
import re

import pytest
from click.testing import CliRunner
from support import REPO, SAMPLE, make_conll, make_text, predict_cli

from windowclf.batch.jobs import MANIFEST, Job, run_in_process
from windowclf.batch.segments import SEGMENT_BYTES, Stream, _Cutter, plan
from windowclf.batch.shards import TagOptions, join_parts, model_ref, plan_blocks, tag_input, tag_shard
from windowclf.cli.main import main
from windowclf.errors import InputError, ModelFileError
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

# ------------------------------------------------------------------------------ segments


@pytest.mark.parametrize("seed", range(40))
def test_planned_and_streamed_segments_cut_and_count_alike(seed, tmp_path):
    rng = random.Random(seed)
    pieces = ["word ", "é", "\n", "\n\n", " \n", "\r\n", "\r\n\r\n", "\t", "\ufeff", "."]
    data = (("\ufeff" if seed % 3 == 0 else "") + "".join(rng.choice(pieces) for _ in range(600))).encode()
    spacing = rng.randint(1, 60)
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    planned = plan(path, "utf-8", spacing)
    cutter, one_by_one = _Cutter(spacing), []
    for i in range(len(data)):
        one_by_one += cutter.feed(data[i : i + 1])
    assert [s.start for s in planned[1:]] == [c for c in one_by_one if c < len(data)]

    class Trickle(io.RawIOBase):  # a pipe that hands over a few bytes at a time
        def __init__(self):
            self.source = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.source.read(min(len(buffer), rng.randint(1, 9)))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    streamed = [(s, r.read()) for s, r in Stream(Trickle(), "utf-8", spacing).segments()]
    streamed = [(s, b) for s, b in streamed if b or s.start == 0]
    assert [s.start for s, _ in streamed] == [s.start for s in planned]
    text = data.decode("utf-8-sig")
    for (s, chunk), p in zip(streamed, planned):
        assert chunk == data[p.start : p.stop] and (s.line, s.char) == (p.line, p.char)
        assert p.line == data[: p.start].count(b"\n") + 1
        # char offsets index the decoded text (a byte-order mark at the file's start is not text)
        assert text[p.char :] == data[p.start :].decode("utf-8-sig" if p.start == 0 else "utf-8")
        assert p.start == 0 or (data[: p.start].endswith(b"\n") and re.search(rb"\n[ \t\r]*\n$", data[: p.start]))


def test_segments_hold_at_least_the_spacing_and_end_at_blank_lines(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(make_text(3 * SEGMENT_BYTES))
    segments = plan(path)
    assert len(segments) == 3 or len(segments) == 4
    assert all(s.stop - s.start >= SEGMENT_BYTES for s in segments[:-1])
    assert segments[-1].stop == os.path.getsize(path)


# ------------------------------------------------------------------------------ byte identity


# JSON output computes every entity's probability (forward-backward), ten times the work: a smaller file.
@pytest.mark.slow
@pytest.mark.parametrize(
    "fmt,crlf,bom,size,block_sizes",
    [
        ("json", False, True, 1.2, (1,)),
        ("conll", True, False, 2.5, (1, 2 * SEGMENT_BYTES)),
    ],
)
def test_blocks_joined_in_order_equal_the_whole_file_and_predict(
    tiny_model, tmp_path, fmt, crlf, bom, size, block_sizes
):
    path = tmp_path / "news.txt"
    path.write_bytes(make_text(int(size * SEGMENT_BYTES), seed=1, crlf=crlf, bom=bom))
    expected = predict_cli(tiny_model, "--format", fmt, path)
    options = TagOptions(output_format=fmt)
    if fmt != "json":
        whole = tag_shard(tiny_model, str(path), tmp_path / "whole.out", options)
        assert (tmp_path / "whole.out").read_bytes() == expected
        assert whole["tokens"] > 0 and whole["bytes"] == len(expected)
    for block_bytes in block_sizes:
        blocks = plan_blocks(str(path), options, block_bytes)
        assert len(blocks) > 1
        reports = {}
        for block in reversed(blocks):  # any order: each block is tagged on its own
            reports[block.index] = tag_shard(tiny_model, block, tmp_path / f"part{block.index}", options)
        joined = io.BytesIO()  # in block order; entity records' sentences counted on from the blocks before
        join_parts([reports[block.index] for block in blocks], joined, options)
        assert joined.getvalue() == expected
    if fmt == "json":  # offsets of later blocks index the whole file's text
        text = path.read_bytes().decode("utf-8-sig")
        for line in expected.decode().splitlines()[-50:]:
            record = json.loads(line)
            assert text[record["char_start"] : record["char_end"]] == record["text"]


@pytest.mark.slow
def test_conll_blocks_carry_the_files_layout(tiny_model, tmp_path):
    path = tmp_path / "big.conll"
    data = make_conll(int(2.2 * SEGMENT_BYTES), separator="\t")
    lines = data.split(b"\n")
    bad_line = len(lines) - 40
    while not lines[bad_line - 1]:
        bad_line += 1
    lines[bad_line - 1] += b"\textra"  # a third column late in the file
    path.write_bytes(b"\n".join(lines))
    options = TagOptions(input_format="conll")
    result = CliRunner().invoke(main, ["predict", "-m", str(tiny_model), "--input", "conll", str(path)])
    assert result.exit_code == 2
    expected = result.stderr.strip()
    assert f"{path}:{bad_line}: expected 2 columns like line 3, found 3" in expected
    blocks = plan_blocks(str(path), options, 1)
    assert len(blocks) > 1 and blocks[-1].layout == ("\t", 2, 3)
    with pytest.raises(InputError) as err:
        for block in blocks:
            tag_shard(tiny_model, block, tmp_path / "part", options)
    assert f"Error: {err.value}" == expected
    path.write_bytes(data)
    good = predict_cli(tiny_model, "--input", "conll", path)
    joined = b""
    for block in plan_blocks(str(path), options, 1):
        tag_shard(tiny_model, block, tmp_path / "part", options)
        joined += (tmp_path / "part").read_bytes()
    assert joined == good


@pytest.mark.slow
def test_stdin_is_tagged_as_the_file_is(tiny_model, tmp_path):
    data = make_text(int(1.5 * SEGMENT_BYTES), seed=2)
    path = tmp_path / "in.txt"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["predict", "-m", str(tiny_model)], input=data)
    assert result.exit_code == 0 and result.stdout_bytes == predict_cli(tiny_model, path)


@pytest.mark.slow
def test_an_undecodable_byte_late_in_a_file_is_named_alike_everywhere(tiny_model, tmp_path):
    data = bytearray(make_text(int(2.3 * SEGMENT_BYTES), seed=3))
    at = len(data) - 500
    data[at] = 0xFF
    path = tmp_path / "bad.txt"
    path.write_bytes(bytes(data))
    line = data[:at].count(b"\n") + 1
    single = CliRunner().invoke(main, ["predict", "-m", str(tiny_model), str(path)])
    assert single.exit_code == 2
    message = single.stderr.strip()
    assert message.startswith(f"Error: {path}:{line}: cannot decode the text as utf-8")
    into_dir = CliRunner().invoke(
        main, ["predict", "-m", str(tiny_model), "--output-dir", str(tmp_path / "out"), "--block-size", "1", str(path)]
    )
    assert into_dir.exit_code == 2 and into_dir.stderr.strip().splitlines()[-1] == message
    assert not (tmp_path / "out" / "bad.txt.conll").exists()
    assert [p.name for p in (tmp_path / "out").iterdir()] == []  # no part, no temporary file


# ------------------------------------------------------------------------------ jobs, manifest


def test_a_rerun_skips_what_is_done_and_redoes_what_is_not(tiny_model, tmp_path):
    inputs = []
    for i in range(3):
        p = tmp_path / f"doc{i}.txt"
        p.write_bytes(make_text(20_000, seed=10 + i))
        inputs.append(str(p))
    out = tmp_path / "out"
    ref, options = model_ref(tiny_model), TagOptions()
    first = run_in_process(Job(inputs, out, ref, options))
    assert [r["output"] for r in first] == ["doc0.txt.conll", "doc1.txt.conll", "doc2.txt.conll"]
    for path, record in zip(inputs, first):
        assert (out / record["output"]).read_bytes() == predict_cli(tiny_model, path)
        assert record["model_sha256"] == ref.sha256 and record["tokens"] > 0
    assert Job(inputs, out, ref, options).tasks == []  # all done
    (out / "doc1.txt.conll").write_bytes(b"damaged")  # an output changed
    with open(inputs[2], "ab") as f:  # an input changed
        f.write(b"Anna Keller flew to Oslo .\n")
    job = Job(inputs, out, ref, options)
    assert sorted(t.file for t in job.tasks) == [1, 2]
    second = run_in_process(job)
    assert second[0] == {**first[0], "skipped": True}
    for path, record in zip(inputs, second):
        assert (out / record["output"]).read_bytes() == predict_cli(tiny_model, path)
    assert [t.file for t in Job(inputs, out, ref, TagOptions(output_format="json")).tasks] == [0, 1, 2]
    assert (out / MANIFEST).exists()
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["doc0.txt.conll", "doc1.txt.conll", "doc2.txt.conll", MANIFEST]
    )


def test_output_dir_in_process_writes_what_predict_prints(tiny_model, tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_bytes(make_text(30_000, seed=4))
    b.write_bytes(make_text(40_000, seed=5))
    result = CliRunner().invoke(
        main,
        ["predict", "-m", str(tiny_model), "--format", "inline", "--output-dir", str(tmp_path / "out"), str(a), str(b)],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "a.txt.txt").read_bytes() == predict_cli(tiny_model, "--format", "inline", a)
    assert (tmp_path / "out" / "b.txt.txt").read_bytes() == predict_cli(tiny_model, "--format", "inline", b)
    # the command tags each input on its own: two files at once print what each prints alone
    assert (
        predict_cli(tiny_model, "--format", "inline", a, b)
        == (tmp_path / "out" / "a.txt.txt").read_bytes() + (tmp_path / "out" / "b.txt.txt").read_bytes()
    )


def test_output_names_that_collide_are_refused_before_anything_is_written(tiny_model, tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    for d in "xy":
        (tmp_path / d / "a.txt").write_text("Anna is in Oslo .\n")
    result = CliRunner().invoke(
        main,
        [
            "predict",
            "-m",
            str(tiny_model),
            "--output-dir",
            str(tmp_path / "out"),
            str(tmp_path / "x" / "a.txt"),
            str(tmp_path / "y" / "a.txt"),
        ],
    )
    assert result.exit_code == 2 and "would both be written to a.txt.conll" in result.output
    assert not (tmp_path / "out").exists()


def test_a_missing_or_corrupt_model_fails_before_anything_is_written(tiny_model, tmp_path):
    (tmp_path / "a.txt").write_text("Anna is in Oslo .\n")
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(tiny_model.read_bytes()[:-100])
    for model in (tmp_path / "missing.npz", corrupt):
        result = CliRunner().invoke(
            main, ["predict", "-m", str(model), "--output-dir", str(tmp_path / "out"), str(tmp_path / "a.txt")]
        )
        assert result.exit_code == 2 and result.output.startswith(f"Error: {model}")
        assert len(result.output.strip().splitlines()) == 1
        assert not (tmp_path / "out").exists()
    with pytest.raises(ModelFileError):
        model_ref(b"not a model")


# ------------------------------------------------------------------------------ pickling


def test_a_tagger_pickles_as_its_model_file_and_nothing_else(tiny_model):
    tagger = WindowTagger.load(tiny_model)
    payload = pickle.dumps(tagger)
    names = [
        arg
        for op, arg, _ in pickletools.genops(payload)
        if op.name in ("GLOBAL", "STACK_GLOBAL", "SHORT_BINUNICODE") and isinstance(arg, str) and len(arg) < 40
    ]
    assert names[:3] == ["builtins", "getattr", "windowclf.models.tagger"] and "WindowTagger" in names
    assert "load" in names and "numpy" not in " ".join(names)
    again = pickle.loads(payload)
    sentences = [["Anna", "Keller", "flew", "to", "Oslo", "."]]
    assert again.predict(sentences) == tagger.predict(sentences)
    assert pickle.dumps(again) == payload  # the same model file, byte for byte
    with pytest.raises(TypeError, match="untrained WindowTagger"):
        pickle.dumps(WindowTagger())


def test_tag_input_counts_what_it_writes(tiny_model):
    out = io.StringIO()
    tokens, sentences = tag_input(WindowTagger.load(tiny_model), SAMPLE / "example.txt", out, TagOptions())
    assert sentences == out.getvalue().count("\n\n") and tokens == len(out.getvalue().splitlines()) - sentences


def test_nothing_of_dask_is_imported_unless_asked_for():
    import subprocess
    import sys

    code = (
        "import sys, windowclf.cli.main, windowclf.batch.shards, windowclf.batch.jobs, windowclf.cli.output_dir; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.slow
def test_a_model_with_character_and_document_features_tags_blocks_as_the_whole_file(tmp_path):
    train = list(read_conll(SAMPLE / "train.conll"))
    model = tmp_path / "rich.npz"
    WindowTagger(
        dim=20, hidden=30, epochs=2, seed=0, features=["caps", "doccase"], char_filters=6, decoder="sll", scheme="IOBES"
    ).fit([s.tokens for s in train], [s.tags for s in train]).save(model)
    path = tmp_path / "news.txt"
    path.write_bytes(make_text(int(1.2 * SEGMENT_BYTES), seed=4))
    expected = predict_cli(model, path)
    options = TagOptions()
    blocks = plan_blocks(str(path), options, 1)
    assert len(blocks) > 1
    for block in blocks:
        tag_shard(model, block, tmp_path / f"part{block.index}", options)
    assert b"".join((tmp_path / f"part{b.index}").read_bytes() for b in blocks) == expected
