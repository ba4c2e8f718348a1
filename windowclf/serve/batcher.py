"""Micro-batches: concurrent requests' texts and sentences scored together, one model call per batch.

Every request puts its work (:class:`Job`) on one asyncio queue; one worker task takes the first
job waiting, then whatever else arrives within ``max_wait`` seconds, up to ``max_items`` texts or
sentences, and scores the batch with one call of the model per kind of work (``pipe`` for texts,
``predict`` for sentences) in a thread, so the event loop goes on reading and answering requests
meanwhile. Each request's texts are their own documents and each request's sentences one document,
so a batch gives every request the entities it would get alone (:meth:`WindowTagger.tag_text
<windowclf.inference.prediction.Tagging.tag_text>` for a text, ``predict(..., confidences=True)``
for a request's sentences). While the model runs, requests queue up: under load the batches grow
towards ``max_items`` without any waiting; alone, a request waits at most ``max_wait``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field, replace

__all__ = ["Batcher", "Busy", "Job"]

log = logging.getLogger(__name__)


class Busy(Exception):
    """The queue holds ``max_queued`` items already: the request should be refused (503)."""


@dataclass
class Job:
    """One request's work.

    Attributes
    ----------
    kind : {"texts", "sentences"}
        Raw texts to split and tag (``tag_text`` each), or sentences of tokens (``predict``).
    items : list
        The texts (str), or the sentences (lists of str).
    tokenizer : str or None
        How texts are split (None: the model's).
    future : asyncio.Future
        Set to the result: a list of entity lists (texts), or of (tags, entities) pairs (sentences).
    """

    kind: str
    items: list
    tokenizer: str | None = None
    future: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Batcher:
    """The queue and its one worker (start it in the app's lifespan, :meth:`run`).

    Parameters
    ----------
    model : WindowTagger or Ensemble
    max_items : int
        Texts plus sentences scored in one batch at most (a request larger than that is one batch).
    max_wait : float
        Seconds the first job of a batch waits for others.
    max_queued : int
        Items waiting at most; :meth:`submit` refuses beyond it (:class:`Busy`).
    """

    def __init__(self, model, *, max_items: int = 64, max_wait: float = 0.002, max_queued: int = 10_000):
        self.model, self.max_items, self.max_wait, self.max_queued = model, max_items, max_wait, max_queued
        self.queue: asyncio.Queue = asyncio.Queue()
        self.queued = 0  # items in the queue
        self.batches = 0  # batches scored so far (for the tests and /health)
        self.ids = itertools.count()

    async def submit(self, job: Job):
        """Queue ``job`` and wait for its result."""
        if self.queued + len(job.items) > self.max_queued:
            raise Busy(f"{self.queued:,} texts and sentences are waiting already")
        self.queued += len(job.items)
        self.queue.put_nowait(job)
        return await job.future

    async def run(self) -> None:
        """The worker: batches from the queue until cancelled (what is in a batch gets its answer)."""
        while True:
            batch = [await self.queue.get()]
            size = len(batch[0].items)
            deadline = asyncio.get_running_loop().time() + self.max_wait
            while size < self.max_items:
                try:
                    job = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    left = deadline - asyncio.get_running_loop().time()
                    if left <= 0:
                        break
                    try:
                        job = await asyncio.wait_for(self.queue.get(), left)
                    except asyncio.TimeoutError:
                        break
                batch.append(job)
                size += len(job.items)
            self.queued -= size
            try:
                results = await asyncio.to_thread(self.score, batch)
            except Exception:  # one request's work failed: each alone, so that only its own answer fails
                log.exception("scoring a batch of %d requests failed; scoring each alone", len(batch))
                results = [await self.alone(job) for job in batch]
            finally:
                self.batches += 1
            for job, result in zip(batch, results):
                if job.future.done():  # a request whose client left has been cancelled
                    continue
                if isinstance(result, Exception):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)

    async def alone(self, job: Job):
        """The result of ``job`` scored by itself, or the exception scoring it raised."""
        try:
            return (await asyncio.to_thread(self.score, [job]))[0]
        except Exception as err:
            return err

    def score(self, batch: list) -> list:
        """The results of the jobs of ``batch``: one ``pipe`` call per tokenizer for the texts (each
        text its own document, as ``tag_text``), one ``predict`` call for the sentences (each job's
        sentences one document, as ``predict`` of them alone)."""
        results: list = [None] * len(batch)
        by_tokenizer: dict = {}
        for i, job in enumerate(batch):
            if job.kind == "texts":
                by_tokenizer.setdefault(job.tokenizer, []).append(i)
        for tokenizer, members in by_tokenizer.items():
            texts = [text for i in members for text in batch[i].items]
            found = iter(self.model.pipe(texts, batch_size=max(1, len(texts)), tokenizer=tokenizer))
            for i in members:
                results[i] = [next(found) for _ in batch[i].items]
        sentence_jobs = [i for i, job in enumerate(batch) if job.kind == "sentences"]
        if sentence_jobs:
            sentences = [s for i in sentence_jobs for s in batch[i].items]
            documents = [i for i in sentence_jobs for _ in batch[i].items]
            found = iter(self.model.predict(sentences, confidences=True, documents=documents))
            for i in sentence_jobs:  # entities numbered by their sentence in the job, as predict of it alone
                pairs = [next(found) for _ in batch[i].items]
                results[i] = [(tags, [replace(e, sentence=j) for e in ents]) for j, (tags, ents) in enumerate(pairs)]
        return results
