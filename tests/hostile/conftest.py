"""Fixtures of the hostile-input suite: the world of valid files, and a warm command line.

``world`` is a directory of small valid inputs (CoNLL, raw text, word vectors in every format,
a trained model with its log and training state) that every case starts from a copy of.
``cli`` runs one case: ``windowclf ARGS`` forked from a warm process (tests/hostile/forkserver.py)
under an address-space limit, with a timeout.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from hostile_cli import TINY, WarmCli
from hypothesis import HealthCheck, settings
from support import SAMPLE

settings.register_profile(
    "hostile", derandomize=True, deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck)
)


def _sentences(path: Path, n: int) -> str:
    blocks = path.read_text(encoding="utf-8").strip("\n").split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n"


def _build_world(where: Path) -> None:
    from click.testing import CliRunner

    from windowclf.cli.main import main
    from windowclf.formats.vectors import WordVectors, save_word2vec_format

    train = _sentences(SAMPLE / "train.conll", 24)
    dev = _sentences(SAMPLE / "dev.conll", 6)
    (where / "train.conll").write_text(train, encoding="utf-8")
    (where / "dev.conll").write_text(dev, encoding="utf-8")
    pred = "\n".join(f"{line} {line.split()[-1]}" if line else "" for line in dev.splitlines()) + "\n"
    (where / "pred.conll").write_text(pred, encoding="utf-8")
    (where / "text.txt").write_text((SAMPLE / "example.txt").read_text(encoding="utf-8")[:600], encoding="utf-8")
    words = sorted({line.split()[0].lower() for line in train.splitlines() if line})[:40]
    rng = np.random.default_rng(0)
    vectors = WordVectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    save_word2vec_format(where / "vec.txt", vectors)
    save_word2vec_format(where / "vec.bin", vectors, binary=True)
    (where / "glove.txt").write_bytes(b"".join((where / "vec.txt").read_bytes().splitlines(True)[1:]))
    (where / "vec.txt.gz").write_bytes(gzip.compress((where / "vec.txt").read_bytes(), mtime=0))
    (where / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    (where / "wordVectors.txt").write_bytes(
        b"".join(line.split(b" ", 1)[1] for line in (where / "vec.txt").read_bytes().splitlines(True)[1:])
    )
    cwd = os.getcwd()
    os.chdir(where)
    try:
        result = CliRunner().invoke(
            main, ["train", "train.conll", "--dev", "dev.conll", "-o", "model.npz", *TINY[2:], "--epochs", "2"]
        )
        assert result.exit_code == 0, result.output
        _build_newer_surfaces(where, train)
    finally:
        os.chdir(cwd)


def _build_newer_surfaces(where: Path, train: str) -> None:
    """The inputs of the newer surfaces: JSON lines, a TOML settings file, a second model and an
    ensemble of both, a folder of outputs with its manifest (run in ``where``)."""
    import json

    from click.testing import CliRunner

    from windowclf.cli.main import main

    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    records = []
    for block in train.strip("\n").split("\n\n"):
        rows = [line.split() for line in block.splitlines()]
        tags = [row[-1] if row[-1] in labels else "O" for row in rows]
        records.append(json.dumps({"tokens": [row[0] for row in rows], "ner_tags": [labels.index(t) for t in tags]}))
    (where / "train.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    (where / "labels.txt").write_text(",".join(labels), encoding="utf-8")
    (where / "spans.jsonl").write_text(
        json.dumps({"text": "Anna Keller flew from Oslo to Lyon.", "entities": [[0, 11, "PER"], [22, 26, "LOC"]]})
        + "\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    toml = runner.invoke(main, ["info", "--toml", "model.npz"])
    assert toml.exit_code == 0, toml.output
    (where / "cfg.toml").write_text(toml.stdout, encoding="utf-8")
    second = runner.invoke(
        main, ["train", "train.conll", "-o", "model2.npz", *TINY[2:], "--epochs", "2", "--seed", "1", "--window", "5"]
    )
    assert second.exit_code == 0, second.output
    joined = runner.invoke(main, ["ensemble", "-o", "ensemble.npz", "model.npz", "model2.npz"])
    assert joined.exit_code == 0, joined.output
    tagged = runner.invoke(main, ["predict", "-m", "model.npz", "--output-dir", "od", "text.txt", "dev.conll"])
    assert tagged.exit_code == 0, tagged.output


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("world")
    _build_world(where)
    return where


@pytest.fixture(scope="session")
def cli():
    server = WarmCli()
    yield server
    server.close()


@pytest.fixture(scope="session")
def hostile_examples(request) -> int:
    return request.config.getoption("--hostile-examples")


def pytest_terminal_summary(terminalreporter):
    """The campaign's numbers: how many generated cases each test ran, in how long."""
    from hostile_contract import TALLY

    if not TALLY:
        return
    terminalreporter.section("hostile cases")
    for test, (count, seconds) in sorted(TALLY.items()):
        terminalreporter.write_line(f"{test}: {count} cases in {seconds:.1f} s")
    total, seconds = sum(c for c, _ in TALLY.values()), sum(s for _, s in TALLY.values())
    terminalreporter.write_line(f"all: {total} cases in {seconds:.1f} s")
