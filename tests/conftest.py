"""Fixtures every test folder may use: the real data sets, the golden files, the sample corpus.

Helpers (paths, the command line, builders of small inputs) are in support.py; a folder's own
fixtures are in its conftest.py (tests/batch, tests/hostile).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support import SAMPLE, TEST_DATA, read_sample, shared_data_dir

# Generated cases per test of tests/hostile/ (each test draws one family of hostile inputs).
HOSTILE_EXAMPLES = 50


def pytest_addoption(parser):
    parser.addoption(
        "--hostile-examples",
        type=int,
        default=HOSTILE_EXAMPLES,
        metavar="N",
        help=f"cases each test of tests/hostile/ generates [default: {HOSTILE_EXAMPLES}; "
        "the seed is fixed: a run tries the same cases every time]",
    )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """Path of the shared data sets; skips the test when they are absent (a user's clone)."""
    path = shared_data_dir()
    if not (path / "conll2003" / "eng.train").is_file():
        pytest.skip(f"real data not found at {path} (set WINDOWCLF_DATA to the shared data folder)")
    return path


@pytest.fixture(scope="session")
def test_data() -> Path:
    """tests/data: small golden files written by the project."""
    return TEST_DATA


@pytest.fixture(scope="session")
def sample() -> Path:
    """data/sample: the checked-in sample corpus."""
    assert (SAMPLE / "train.conll").is_file(), f"the sample corpus is missing from {SAMPLE}"
    return SAMPLE


@pytest.fixture(scope="module")
def sample_split() -> tuple:
    """((train sentences, train tags), (dev sentences, dev tags)) of the sample corpus."""
    return read_sample("train.conll"), read_sample("dev.conll")
