"""The service under load (loopback only, bounded in count and time): 32 concurrent clients, one
sentence a request; every answer is tag_text's for its text, none fails, and concurrent requests
are scored together (fewer batches than requests).

The clients speak HTTP/1.1 over asyncio streams (keep-alive, one request at a time each): a
client library's own cost per request would be measured beside the service's otherwise.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import urlsplit

import numpy as np
import pytest
from support import read_sample, start_service

from windowclf import load_any

httpx = pytest.importorskip("httpx", reason="httpx is in the test extra: pip install 'windowclf[test]'")

CLIENTS = 32
REQUESTS_PER_CLIENT = 10
DEADLINE = 120  # seconds for the whole run, on a busy shared machine


async def post_all(url: str, path: str, bodies: list, clients: int = CLIENTS) -> tuple:
    """POST each of ``bodies`` (JSON objects) to ``path``, ``clients`` connections at once; returns
    ({index: (status, JSON answer)}, latencies in seconds, seconds in all)."""
    where = urlsplit(url)
    answers: dict = {}
    latencies: list = []

    async def client(first: int):
        reader, writer = await asyncio.open_connection(where.hostname, where.port)
        try:
            for i in range(first, len(bodies), clients):
                body = json.dumps(bodies[i]).encode()
                head = f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
                started = time.perf_counter()
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                lines = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
                length = next(int(v) for k, _, v in (x.partition(":") for x in lines) if k.lower() == "content-length")
                answers[i] = (int(lines[0].split()[1]), json.loads(await reader.readexactly(length)))
                latencies.append(time.perf_counter() - started)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(c) for c in range(clients))), DEADLINE)
    return answers, latencies, time.perf_counter() - started


@pytest.mark.slow
def test_32_concurrent_clients_get_tag_texts_answers_scored_in_batches(service_model):
    sentences = read_sample("train.conll")[0]
    texts = [" ".join(s) for s in sentences[: CLIENTS * REQUESTS_PER_CLIENT]]
    model = load_any(service_model, training_state=False)
    service = start_service(service_model)
    try:
        answers, latencies, seconds = asyncio.run(post_all(service.url, "/entities", [{"text": t} for t in texts]))
        batches = httpx.get(f"{service.url}/health", timeout=30).json()["batches"]
    finally:
        code, err = service.stop()
    assert code == 0, err
    assert sorted(answers) == list(range(len(texts)))
    failed = [i for i, (status, _) in answers.items() if status != 200]
    assert not failed, answers[failed[0]]
    for i, text in enumerate(texts):
        got = answers[i][1]["entities"]
        expected = [e.to_dict() for e in model.tag_text(text)]
        assert [{k: v for k, v in r.items() if k != "confidence"} for r in got] == [
            {k: v for k, v in r.items() if k != "confidence"} for r in expected
        ], text
        assert [r["confidence"] for r in got] == pytest.approx([r["confidence"] for r in expected], rel=1e-5)
    assert batches < len(texts) / 2, f"{batches} batches for {len(texts)} requests: they were not scored together"
    p50, p99 = np.percentile(latencies, [50, 99])
    print(
        f"\n{len(texts)} requests from {CLIENTS} clients in {seconds:.2f} s ({len(texts) / seconds:.0f}/s); "
        f"{batches} batches; latency p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms"
    )
