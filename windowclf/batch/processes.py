"""A file's segments tagged on several cores: forked worker processes, the output written in order.

``windowclf predict`` (and ``--output-dir`` without Dask) tags a file of more than one segment on
``jobs`` worker processes forked from the one that loaded the model, so the model's memory is
shared, not copied, and each worker tags whole segments (:mod:`windowclf.batch.segments`), as any
engine does: a segment's output depends on its bytes alone, so the file's output is the bytes the
same file tagged in one process gives (``tests/batch/test_processes.py``). The tokenizer and the
writers are Python, which one process runs on one core at a time; processes, unlike threads, run
them side by side.

At most one segment a worker and one more are in flight (being tagged, or waiting to be written), so memory
stays bounded whatever the file; the first bad input, in file order, fails the command with the
line the single process prints for it, after the output before it. Needs the ``fork`` start method
(Linux): elsewhere, and for pipes, files are tagged in this process.
"""

from __future__ import annotations

import gc
import io
import multiprocessing
import os
import signal
import sys
from collections import Counter, deque

from windowclf.batch import shards
from windowclf.batch.jobs import Job, run_in_process, run_tasks
from windowclf.inference import prediction

__all__ = ["available_cores", "can_fork", "run_on_cores", "tag_blocks", "tag_on_cores"]

_WORKER: dict = {}  # what a forked worker tags with: set in the parent before the fork


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux: the model is shared, not sent)."""
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def tag_on_cores(tagger, path, out, options, jobs: int, repairs: Counter | None = None) -> tuple:
    """:func:`~windowclf.batch.shards.tag_input` on ``jobs`` processes where that can help: a regular
    file of more than one segment, with ``jobs`` > 1, where workers can be forked; else here.
    ``repairs`` (a Counter) adds up the lines the column rule read, as ``tag_input`` counts them."""
    path = os.fspath(path)
    if jobs > 1 and path != "-" and can_fork() and os.path.isfile(path):
        blocks = shards.plan_blocks(path, options, 1)  # one segment a block
        if len(blocks) > 1:
            return tag_blocks(tagger, blocks, out, options, min(jobs, len(blocks)), repairs)
    return shards.tag_input(tagger, path, out, options, repairs)


def tag_blocks(tagger, blocks: list, out, options, jobs: int, repairs: Counter | None = None) -> tuple:
    """Tag ``blocks`` (:func:`~windowclf.batch.shards.plan_blocks` of one file) on ``jobs`` forked
    worker processes and write their outputs to the text stream ``out`` in order; returns (tokens,
    sentences) as :func:`~windowclf.batch.shards.tag_input` does.

    A block that fails has its output up to the error written, then the error raised (the pool is
    stopped), as one process tagging the file would have it.
    """
    context = multiprocessing.get_context("fork")
    _WORKER.update(tagger=tagger, options=options)
    gc.collect()
    gc.freeze()  # the workers' collectors leave the model's objects alone: their pages stay shared
    pool = context.Pool(jobs, initializer=_start_worker)
    tokens = count = 0
    try:
        waiting: deque = deque()
        pending = iter(blocks)
        for block in pending:
            waiting.append(pool.apply_async(_tag_block, (block,)))
            if len(waiting) > jobs:
                break
        while waiting:
            text, t, s, error, repaired = waiting.popleft().get()
            if repairs is not None:
                repairs.update(repaired)
            out.write(shards.renumbered_text(text, count, options, blocks[0].path))  # records counted on
            if error is not None:
                raise error
            tokens, count = tokens + t, count + s
            block = next(pending, None)
            if block is not None:
                waiting.append(pool.apply_async(_tag_block, (block,)))
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()
        _WORKER.clear()
    return tokens, count


def run_on_cores(job: Job, jobs: int, progress=None) -> list:
    """Run a :class:`~windowclf.batch.jobs.Job`'s tasks on ``jobs`` forked worker processes (here,
    one after another, when there is one task or workers cannot be forked); returns its records.

    Each task is :func:`~windowclf.batch.shards.tag_shard`, whose model the parent loaded already
    (:func:`~windowclf.batch.shards.model_ref`): the workers find it in the memory they share.
    """
    if jobs < 2 or len(job.tasks) < 2 or not can_fork():
        return run_in_process(job, progress)
    context = multiprocessing.get_context("fork")
    gc.collect()
    gc.freeze()
    pool = context.Pool(min(jobs, len(job.tasks)), initializer=_start_worker)
    try:
        waiting: deque = deque()
        pending = iter(job.tasks)

        def submit() -> None:
            task = next(pending, None)
            if task is not None:
                waiting.append(
                    (task, pool.apply_async(shards.tag_shard, (job.model, task.source, task.output, job.options)))
                )

        for _ in range(jobs + 1):
            submit()

        def results():
            while waiting:
                task, result = waiting.popleft()
                try:
                    report = result.get()
                except Exception as err:
                    yield task, err
                    return  # as in one process: the first error ends the job
                submit()
                yield task, report

        records = run_tasks(job, results(), progress)
        pool.close()
        return records
    finally:
        pool.terminate()
        pool.join()
        gc.unfreeze()


def _start_worker() -> None:
    """In a forked worker: one scoring thread (the processes use the cores); Ctrl-C is the parent's
    to handle, and the SIGTERM that stops the pool ends the worker quietly."""
    prediction._SCORE_THREADS = 1
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _tag_block(block) -> tuple:
    """(output text, tokens, sentences, error or None, the column rule's repairs) of one block,
    tagged here."""
    tagger, options = _WORKER["tagger"], _WORKER["options"]
    out = io.StringIO()
    repairs: Counter = Counter()
    try:
        t, s = shards.tag_block_into(tagger, block, out, options, repairs)
    except Exception as err:  # written up to the error, then raised in the parent, in file order
        return out.getvalue(), 0, 0, err, repairs
    return out.getvalue(), t, s, None, repairs
