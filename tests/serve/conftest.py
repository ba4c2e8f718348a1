"""The service as a real process: ``windowclf serve`` started on 127.0.0.1 with a free port, stopped
with SIGTERM (each within a bounded time), and a small trained model for it."""

from __future__ import annotations

import os

import pytest
from support import SERVE_EXTRA, TINY_TAGGER, read_sample, start_service

pytest.importorskip("starlette", reason=SERVE_EXTRA)
pytest.importorskip("uvicorn", reason=SERVE_EXTRA)


@pytest.fixture(scope="session")
def service_model(tmp_path_factory):
    from windowclf import WindowTagger

    sentences, tags = read_sample("train.conll")
    path = tmp_path_factory.mktemp("serve") / "ner.npz"
    WindowTagger(epochs=4, **TINY_TAGGER).fit(sentences, tags).save(path)
    return path


@pytest.fixture(scope="module")
def service(service_model):
    """One service for a module's tests (a short body timeout, for the slow-client test)."""
    running = start_service(service_model, "--body-timeout", "0.5", "--max-texts", "50", "--max-body-kb", "64")
    yield running
    running.stop()
    assert os.path.exists(service_model)
