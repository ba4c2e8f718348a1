"""windowclf serve: the routes answer the entity records the library gives, each limit answers its
status with a JSON error, it binds 127.0.0.1 by default, and SIGTERM drains the requests in flight
and exits 0."""

from __future__ import annotations

import json
import re
import signal
import socket
import sys
import threading
import time
from urllib.parse import urlsplit

import pytest
from support import read_sample, run, start_service

from windowclf import load_any

httpx = pytest.importorskip("httpx", reason="httpx is in the test extra: pip install 'windowclf[test]'")

TEXTS = [
    "Anna Keller flew from Oslo to Lyon on Monday.",
    "The European Union said Germany would join the talks in Brussels. Peter Blackburn reported it.",
    "",
    "@anna_k loves #Oslo :) https://example.org/x",
]


def same_records(got: list, expected: list) -> None:
    """Entity records equal field by field, the confidence to float32's rounding (a float32 network's
    scores of a word move in their last bits with the batch it is scored in)."""
    assert [{k: v for k, v in r.items() if k != "confidence"} for r in got] == [
        {k: v for k, v in r.items() if k != "confidence"} for r in expected
    ]
    assert [r["confidence"] for r in got] == pytest.approx([r["confidence"] for r in expected], rel=1e-5)


@pytest.fixture(scope="module")
def model(service_model):
    return load_any(service_model, training_state=False)


def test_entities_answers_tag_texts_records_for_one_text_and_for_many(service, model):
    with httpx.Client(base_url=service.url, timeout=30) as client:
        one = client.post("/entities", json={"text": TEXTS[0]})
        assert one.status_code == 200 and one.headers["content-type"] == "application/json"
        same_records(one.json()["entities"], [e.to_dict() for e in model.tag_text(TEXTS[0])])
        assert one.json()["entities"], "the sample model finds entities in the first text"
        many = client.post("/entities", json={"texts": TEXTS}).json()["results"]
        assert len(many) == len(TEXTS)
        for text, result in zip(TEXTS, many):
            same_records(result["entities"], [e.to_dict() for e in model.tag_text(text)])
        social = client.post("/entities", json={"text": TEXTS[3], "tokenizer": "social"}).json()["entities"]
        same_records(social, [e.to_dict() for e in model.tag_text(TEXTS[3], tokenizer="social")])


def test_tag_answers_predicts_tags_and_entities_for_pretokenized_sentences(service, model):
    sentences = read_sample("dev.conll")[0][:12]
    expected = model.predict(sentences, confidences=True)
    with httpx.Client(base_url=service.url, timeout=30) as client:
        results = client.post("/tag", json={"sentences": sentences}).json()["results"]
        one = client.post("/tag", json={"tokens": sentences[0]}).json()
    for result, (tags, entities) in zip(results, expected):
        assert result["tags"] == tags
        same_records(result["entities"], [e.to_dict() for e in entities])
    assert len(results) == len(expected)
    assert one["tags"] == expected[0][0]
    same_records(one["entities"], [e.to_dict() for e in expected[0][1]])


def test_health_and_model_answer_json_and_model_is_what_info_prints(service, service_model):
    with httpx.Client(base_url=service.url, timeout=30) as client:
        health = client.get("/health")
        described = client.get("/model").json()
    assert health.status_code == 200 and health.json()["status"] == "ok"
    info = run("info", "--json", service_model)
    assert described == json.loads(info.output)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"text": "Anna"', 400, "the body is not JSON"),
        (b"\xff\xfe", 400, "the body is not JSON"),
        (b'["Anna"]', 422, "expected a JSON object, got an array"),
        (b'{"txt": "Anna"}', 422, 'expected "text" or "texts"'),
        (b'{"text": "a", "texts": ["b"]}', 422, 'expected "text" or "texts"'),
        (b'{"text": 3}', 422, '"text" must be a string, got a number'),
        (b'{"texts": "Anna"}', 422, '"texts" must be an array, got a string'),
        (b'{"texts": ["a", null]}', 422, '"texts[1]" must be a string, got null'),
        (b'{"text": "a", "tokenizer": "spacy"}', 422, '"tokenizer" must be one of conll, whitespace, social'),
        (json.dumps({"texts": ["a"] * 51}).encode(), 413, '51 items in "texts"; at most 50'),
        (b'{"text": "' + b"a" * 70_000 + b'"}', 413, "the body is 70,012 bytes; at most 65,536"),
    ],
)
def test_each_refusal_has_its_status_and_a_json_error(service, body, status, message):
    with httpx.Client(base_url=service.url, timeout=30) as client:
        answer = client.post("/entities", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_a_chunked_body_over_the_limit_unknown_routes_and_methods_are_json_errors(service):
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    with httpx.Client(base_url=service.url, timeout=30) as client:
        big = client.post("/entities", content=chunks())  # no Content-Length: counted as it arrives
        tokens = client.post("/tag", json={"tokens": ["Anna", 3]})
        missing = client.get("/nothing")
        method = client.get("/entities")
    assert big.status_code == 413 and "over 65,536 bytes" in big.json()["error"]
    assert tokens.status_code == 422 and tokens.json()["error"] == '"tokens" must be an array of strings (tokens)'
    assert (missing.status_code, missing.json()) == (404, {"error": "Not Found"})
    assert (method.status_code, method.json()) == (405, {"error": "Method Not Allowed"})


def test_a_client_that_sends_its_body_too_slowly_gets_408(service):
    where = urlsplit(service.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as sock:
        sock.sendall(
            b"POST /entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(b'{"text": ')  # and nothing more: the service waits --body-timeout 0.5 s
        started = time.monotonic()
        answer = sock.recv(4096).decode("latin-1")
        waited = time.monotonic() - started
        head, _, body = answer.partition("\r\n\r\n")
        length = int(re.search(r"content-length: (\d+)", head, flags=re.I).group(1))
        while len(body.encode("latin-1")) < length:
            body += sock.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 408")
    assert json.loads(body) == {"error": "the body did not arrive within 0.5 seconds"}
    assert 0.3 < waited < 8


@pytest.mark.slow
def test_it_binds_127_0_0_1_unless_told_and_sigterm_drains_the_requests_in_flight(service_model, model):
    service = start_service(service_model, "--max-wait-ms", "400")  # requests wait in the batcher
    assert service.url.startswith("http://127.0.0.1:")
    answers: dict = {}

    def ask(i):
        with httpx.Client(base_url=service.url, timeout=30) as client:
            answers[i] = client.post("/entities", json={"text": TEXTS[i % 2]})

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    with httpx.Client(base_url=service.url, timeout=30) as client:
        deadline = time.monotonic() + 20
        while client.get("/health").json()["queued"] < 8 and time.monotonic() < deadline:
            time.sleep(0.02)  # until every request is in, waiting for its batch
    code, err = service.stop(signal.SIGTERM)
    for thread in threads:
        thread.join(30)
    assert code == 0, err
    assert "stopped (SIGTERM)" in err
    assert sorted(answers) == list(range(8))
    for i, answer in answers.items():
        assert answer.status_code == 200
        same_records(answer.json()["entities"], [e.to_dict() for e in model.tag_text(TEXTS[i % 2])])
    where = urlsplit(service.url)
    with pytest.raises(OSError):
        socket.create_connection((where.hostname, where.port), timeout=5).close()


def test_without_starlette_the_command_is_one_line_naming_the_extra(service_model, monkeypatch):
    monkeypatch.setitem(sys.modules, "windowclf.serve.app", None)
    result = run("serve", "-m", service_model, "--port", "0", reraise=False)
    assert result.exit_code == 1
    assert result.output == "Error: starlette and uvicorn are needed to serve: pip install 'windowclf[serve]'\n"
