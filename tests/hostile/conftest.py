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
    finally:
        os.chdir(cwd)


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
