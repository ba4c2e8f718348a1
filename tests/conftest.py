"""Shared fixtures: the one place tests find the real data sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = Path(__file__).resolve().parent / "data"


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
