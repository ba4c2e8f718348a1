"""The batcher: concurrent jobs scored in one batch give each job what it gets alone, and a job whose
work fails fails alone (a 422 with the library's message)."""

from __future__ import annotations

import asyncio

import pytest
from support import SERVE_EXTRA

from windowclf import load_any

pytest.importorskip("starlette", reason=SERVE_EXTRA)
from windowclf.serve.batcher import Batcher, Job


class Refusing:
    """The real model, whose pipe refuses a text holding FAIL (as the library refuses bad input)."""

    def __init__(self, model):
        self.model = model

    def pipe(self, texts, **kwargs):
        if any("FAIL" in t for t in texts):
            raise ValueError("a text the model refuses")
        return self.model.pipe(texts, **kwargs)

    def predict(self, *args, **kwargs):
        return self.model.predict(*args, **kwargs)

    def check_fitted(self):
        self.model.check_fitted()


def test_jobs_of_one_batch_get_their_own_answers_and_a_failing_job_fails_alone(service_model):
    model = load_any(service_model, training_state=False)
    texts = ["Anna Keller flew from Oslo to Lyon.", "FAIL", "Peter Blackburn of Reuters reported it."]
    sentences = [["Anna", "Keller", "flew", "to", "Oslo", "."], ["Lyon"]]

    async def run():
        batcher = Batcher(Refusing(model), max_items=16, max_wait=0.2)
        worker = asyncio.create_task(batcher.run())
        jobs = [Job("texts", [t]) for t in texts] + [Job("sentences", sentences)]
        answers = await asyncio.gather(*(batcher.submit(job) for job in jobs), return_exceptions=True)
        worker.cancel()
        return answers, batcher.batches

    answers, batches = asyncio.run(run())
    assert batches == 1  # the four jobs came within the wait: one batch, which failed, then each alone
    assert isinstance(answers[1], ValueError)
    for text, answer in zip(texts[::2], answers[::2]):
        assert [e.to_dict() for e in answer[0]] == [e.to_dict() for e in model.tag_text(text)]
    expected = model.predict(sentences, confidences=True)
    assert [tags for tags, _ in answers[3]] == [tags for tags, _ in expected]
    assert [[e.to_dict() for e in ents] for _, ents in answers[3]] == [
        [e.to_dict() for e in ents] for _, ents in expected
    ]


def test_a_request_the_library_refuses_is_a_422_with_its_message(service_model):
    from starlette.testclient import TestClient

    from windowclf.serve.app import make_app

    app = make_app(Refusing(load_any(service_model, training_state=False)))
    with TestClient(app) as client:
        refused = client.post("/entities", json={"texts": ["Anna", "FAIL"]})
        fine = client.post("/entities", json={"text": "Anna Keller flew to Oslo."})
    assert (refused.status_code, refused.json()) == (422, {"error": "a text the model refuses"})
    assert fine.status_code == 200 and "entities" in fine.json()
