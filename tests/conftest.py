"""Shared fixtures: the one place tests find the real data sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


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


def shared_data_dir() -> Path:
    """The real data: $WINDOWCLF_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("WINDOWCLF_DATA", REPO.parent / "shared" / "data"))


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
