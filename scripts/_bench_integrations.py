"""The integrations' rows of scripts/bench (not part of the package): the service and the spaCy component.

- ``windowclf serve`` with the default model on this machine's cores: 32 concurrent clients on
  loopback, each sending one sentence a request (HTTP/1.1 keep-alive over asyncio streams, so a
  client library's own cost is not counted as the service's), against ``tag_text`` on the same
  sentences in this process; the latencies' p50 and p99 and the failed requests;
- the ``windowclf_ner`` spaCy component in ``nlp.pipe`` over eng.testa's raw sentences against
  ``windowclf predict`` (in process, as the command runs) on the same sentences, each in its own
  tokens per second; and against ``predict --format entities``, which computes the entities'
  confidences as the component does; and the component with ``confidences: false`` against ``predict``.
  Each pipeline is made once and runs the sentences once a repeat, as a pipeline that lives on
  does (spaCy's tokenizer caches what it learns of each word: its first run is the slowest).

The default model: the default settings, one epoch on 2,000 sentences of eng.train (speed is the
question, not accuracy), or the sample corpus where eng.train is absent. Best of 3 interleaved
runs (1 with --quick); the load average is printed with the rows, the machine being shared.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENTS = 32


def _data(name: str) -> str:
    return os.path.join(os.environ.get("WINDOWCLF_DATA", os.path.join(REPO, "..", "shared", "data")), name)


def default_model(where: str) -> tuple:
    """(path of the default model, raw sentences to tag, where they come from)."""
    from windowclf.formats.conll import read_conll
    from windowclf.models.tagger import WindowTagger

    train, dev = _data("conll2003/eng.train"), _data("conll2003/eng.testa")
    if not (os.path.exists(train) and os.path.exists(dev)):
        train = dev = os.path.join(REPO, "data", "sample", "train.conll")
    sentences = list(read_conll(train))[:2000]
    path = os.path.join(where, "default.npz")
    WindowTagger(epochs=1, seed=0).fit([s.tokens for s in sentences], [s.tags for s in sentences]).save(path)
    texts = [" ".join(s.tokens) for s in read_conll(dev)]
    return path, texts, os.path.basename(dev)


# ------------------------------------------------------------------------------ the service
def start_service(model: str) -> tuple:
    """``windowclf serve -m MODEL --port 0`` as a child process: (process, host, port)."""
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "windowclf", "serve", "-m", model, "--port", "0"],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if select.select([proc.stderr], [], [], 0.5)[0]:
            found = re.search(r"http://([\d.]+):(\d+)", proc.stderr.readline())
            if found:
                return proc, found.group(1), int(found.group(2))
    proc.kill()
    raise RuntimeError(f"the service did not start: {proc.communicate()[1][-200:]}")


async def _load(host: str, port: int, texts: list) -> tuple:
    """Each of CLIENTS connections posts its share of ``texts`` one at a time: (latencies, failed, seconds)."""
    latencies, failed = [], 0

    async def client(first: int):
        nonlocal failed
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for i in range(first, len(texts), CLIENTS):
                body = json.dumps({"text": texts[i]}).encode()
                started = time.perf_counter()
                writer.write(
                    b"POST /entities HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = int(re.search(r"(?i)content-length: (\d+)", head).group(1))
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                failed += not head.startswith("HTTP/1.1 200")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client(c) for c in range(CLIENTS))), 300)
    return latencies, failed, time.perf_counter() - started


def service_rows(model: str, texts: list, repeats: int) -> list:
    import numpy as np

    from windowclf.models.ensemble import load_any

    tagger = load_any(model, training_state=False)
    proc, host, port = start_service(model)
    best = {"tag_text": 0.0, "service": 0.0, "p99": float("inf"), "p50": None, "failed": 0}
    try:
        asyncio.run(_load(host, port, texts[: 4 * CLIENTS]))  # warm-up: connections, first calls
        for _ in range(repeats):
            started = time.perf_counter()
            for text in texts:
                tagger.tag_text(text)
            best["tag_text"] = max(best["tag_text"], len(texts) / (time.perf_counter() - started))
            latencies, failed, seconds = asyncio.run(_load(host, port, texts))
            best["service"] = max(best["service"], len(texts) / seconds)
            p50, p99 = np.percentile(latencies, [50, 99])
            if p99 < best["p99"]:
                best["p99"], best["p50"] = p99, p50
            best["failed"] += failed + len(texts) - len(latencies)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
    ratio = best["service"] / best["tag_text"]
    load = "load average %.2f, %.2f, %.2f" % os.getloadavg()
    return [
        (
            f"serve /entities, {CLIENTS} clients x 1 sentence, {len(texts):,} requests (/s) vs tag_text",
            f"{best['service']:,.0f}/s",
            f"tag_text in process {best['tag_text']:,.0f}/s; {load}",
            ratio,
            ">= 0.7x",
            ratio >= 0.7,
        ),
        (
            f"serve /entities p99 latency, {CLIENTS} concurrent clients",
            f"{1000 * best['p99']:.1f} ms",
            f"p50 {1000 * best['p50']:.1f} ms; {best['failed']} failed of {repeats * len(texts):,}; "
            f"SIGTERM exit {code}",
            None,
            "<= 50 ms, none failed",
            best["p99"] <= 0.050 and best["failed"] == 0,
        ),
    ]


# ------------------------------------------------------------------------------ spaCy
def _predict_tokens_per_s(model: str, path: str, *options) -> float:
    """Tokens per second of ``windowclf predict -m MODEL --sentence-per-line PATH OPTIONS``, in process."""
    from click.testing import CliRunner

    from windowclf.cli.main import main

    started = time.perf_counter()
    result = CliRunner().invoke(main, ["predict", "-m", model, "--sentence-per-line", path, *options])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise RuntimeError(result.output[-200:])
    if "--format" in options:  # entity records: count the tokens of the text instead
        from windowclf.text.tokenize import split_sentences

        with open(path, encoding="utf-8") as f:
            return sum(len(s) for line in f for s in split_sentences(line, "sentence-per-line")) / seconds
    return sum(1 for line in result.output.splitlines() if line.strip()) / seconds


def spacy_rows(model: str, texts: list, source: str, repeats: int, where: str) -> list:
    label = f"spaCy windowclf_ner in nlp.pipe, {source} raw sentences (tokens/s) vs windowclf predict"
    try:
        import spacy

        from windowclf.integrations.spacy_ner import FACTORY
    except ImportError:
        return [(label, "skipped (spaCy not installed)", "", None, ">= 0.8x", None)]
    path = os.path.join(where, "sentences.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    best = {"spacy": 0.0, "tags only": 0.0, "predict": 0.0, "entities": 0.0}
    pipelines = {}
    for key, config in (("spacy", {}), ("tags only", {"confidences": False})):
        pipelines[key] = spacy.blank("en")
        pipelines[key].add_pipe(FACTORY, config={"model": model, **config})
    for _ in range(repeats):
        for key, nlp in pipelines.items():  # a pipeline lives on: its tokenizer's cache of words fills in the first run
            started = time.perf_counter()
            tokens = sum(sum(not t.is_space for t in doc) for doc in nlp.pipe(texts, batch_size=256))
            best[key] = max(best[key], tokens / (time.perf_counter() - started))
        best["predict"] = max(best["predict"], _predict_tokens_per_s(model, path))
        best["entities"] = max(best["entities"], _predict_tokens_per_s(model, path, "--format", "entities"))
    load = "load average %.2f, %.2f, %.2f" % os.getloadavg()
    ratio = best["spacy"] / best["predict"]
    return [
        (label, f"{best['spacy']:,.0f}/s", f"predict {best['predict']:,.0f}/s; {load}", ratio, ">= 0.8x", ratio >= 0.8),
        (
            "spaCy windowclf_ner, confidences false, vs windowclf predict",
            f"{best['tags only']:,.0f}/s",
            f"predict {best['predict']:,.0f}/s",
            best["tags only"] / best["predict"],
            "",
            None,
        ),
        (
            "spaCy windowclf_ner vs predict --format entities (confidences too)",
            f"{best['spacy']:,.0f}/s",
            f"predict --format entities {best['entities']:,.0f}/s",
            best["spacy"] / best["entities"],
            "",
            None,
        ),
    ]


def integration_rows(quick: bool) -> list:
    """The rows above: (measure, value, reference, ratio, target, met)."""
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory() as where:
        try:
            model, texts, source = default_model(where)
        except ImportError as err:
            return [("integrations", f"n/a (module missing: {err.name})", "", None, "", None)]
        served = texts[: 8 * CLIENTS] if quick else texts[: 40 * CLIENTS]
        try:
            rows = service_rows(model, served, repeats)
        except ImportError:
            rows = [("serve /entities", "skipped (starlette/uvicorn not installed)", "", None, ">= 0.7x", None)]
        except (RuntimeError, OSError, asyncio.TimeoutError) as err:
            rows = [("serve /entities", f"error: {err}"[:60], "", None, ">= 0.7x", False)]
        return rows + spacy_rows(model, texts[:800] if quick else texts, source, repeats, where)
