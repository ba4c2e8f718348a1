"""windowclf on Dask: tag files or a bag of sentences on a cluster, and train sweeps (``windowclf[dask]``).

Only this module imports Dask, and nothing imports it unless asked to. The work is the
engine-independent :func:`windowclf.batch.shards.tag_shard` (one task per file, or per block of a large
file, joined in order by :class:`windowclf.batch.jobs.Job`), so the outputs are the bytes ``windowclf
predict`` writes, whatever the number of workers or blocks. The model travels once to each worker,
as its ``.npz`` bytes (scattered, broadcast) or a shared path, and is loaded once per worker
process by the model file's checked loader; it is checked here first, so a missing or corrupt
model fails before any task is scheduled. Each worker process tags on one BLAS thread and one
scoring thread (its cores are the cluster's to share out), with Dask's sampling profiler stopped
while the job runs (``distributed.worker.profile``: it costs pure-Python work 20 to 35%).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from contextlib import contextmanager
from itertools import islice

import dask
import dask.bag
from distributed import as_completed, default_client

from windowclf.batch.jobs import Job, run_tasks
from windowclf.batch.shards import TagOptions, load_model, model_ref, tag_shard
from windowclf.features.documents import document_chunks
from windowclf.models.files import save_tagger

__all__ = ["sweep", "tag_bag", "tag_files", "tagging_config"]

_PROFILER = ("profile", "profile-cycle")  # the worker's periodic callbacks that sample stacks


def tagging_config() -> dict:
    """Dask configuration for clusters started to tag (LocalCluster(...) inside ``dask.config.set``)."""
    # MALLOC_TRIM_THRESHOLD_ (Dask's default 65536) hands freed memory back to the system at once,
    # which costs a tagger's many small allocations; glibc's own threshold adapts instead.
    # The event loop's tick (20 ms) and monitors (100 to 500 ms) each take the GIL from the task's
    # thread: measured here, about 5% of a tagging task; slower ones only slow the dashboards.
    return {
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "1s",
        "distributed.admin.system-monitor.interval": "5s",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.nanny.pre-spawn-environ.OPENBLAS_NUM_THREADS": 1,
        "distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS": 1,
        "distributed.nanny.pre-spawn-environ.MKL_NUM_THREADS": 1,
    }


_SET_UP = False


def _worker_setup() -> None:
    """Once per worker process: one BLAS thread, one scoring thread."""
    global _SET_UP
    if _SET_UP:
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")  # numpy is loaded already: its env var comes too late
    except ImportError:
        pass  # the nanny's pre-spawn environment sets OPENBLAS_NUM_THREADS=1 before numpy loads
    from windowclf.inference import prediction

    prediction._SCORE_THREADS = 1  # threads change no bit of the scores (scoring.chunked_scores)
    _SET_UP = True


def _profiler(on: bool, dask_worker=None):
    """Stop (or start again) the worker's profiler; returns whether it was running."""
    callbacks = [dask_worker.periodic_callbacks.get(name) for name in _PROFILER]
    running = any(pc is not None and pc.is_running() for pc in callbacks)
    for pc in callbacks:
        if pc is not None:
            (pc.start if on else pc.stop)()
    return running


@contextmanager
def _quiet_profiler(client):
    was = client.run(_profiler, False)
    try:
        yield
    finally:
        again = [worker for worker, running in was.items() if running]
        if again:
            with contextlib.suppress(OSError, KeyError, ValueError):  # a worker gone meanwhile
                client.run(_profiler, True, workers=again)


def _stop_profiler() -> None:
    """Stop the profiler of the worker running this task (one restarted mid-job starts with it on)."""
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:  # not on a worker
        return
    for name in _PROFILER:
        pc = worker.periodic_callbacks.get(name)
        if pc is not None and pc.is_running():
            worker.loop.add_callback(pc.stop)  # the worker's event loop owns its callbacks


def _tag_task(model, source, output, options):
    _worker_setup()
    _stop_profiler()
    return tag_shard(model, source, output, options)


def _threads(client) -> int:
    return max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))


def tag_files(
    inputs,
    out_dir,
    model,
    client=None,
    *,
    options: TagOptions | None = None,
    block_bytes: int | None = None,
    send: str = "bytes",
    progress=None,
    timeout: float | None = None,
    protect: dict | None = None,
    **option_values,
) -> list:
    """Tag the files ``inputs`` into ``out_dir`` on a Dask cluster; returns one record per input.

    ``model``: a path, a model file's bytes or a trained WindowTagger (``send="path"`` ships the
    path: every worker must read the same file). ``client``: a distributed Client (default: the
    current one). ``options``: a TagOptions, or its fields as keywords. ``block_bytes``: see
    :class:`~windowclf.batch.jobs.Job`. Output ``i`` is named after input ``i``; the manifest in
    ``out_dir`` lets a rerun skip what is done. ``progress(done, total, tokens)`` is called as
    tasks finish; ``timeout`` (seconds) bounds the wait for them. The first bad input, in input
    order, is raised as tagging it alone raises it. ``protect``: label -> path of other files the
    caller read, which no output may be (:class:`~windowclf.batch.jobs.Job`).
    """
    options = options or TagOptions(**option_values)
    ref = model_ref(model, send=send)  # before anything is scheduled
    client = client or default_client()
    job = Job(inputs, out_dir, ref, options, block_bytes=block_bytes, workers=_threads(client), protect=protect)
    if not job.tasks:
        return run_tasks(job, iter(()), progress)
    try:
        with _quiet_profiler(client):
            [shared] = client.scatter([ref], broadcast=True)
    except BaseException:
        job.close()
        raise
    with _quiet_profiler(client):
        futures = {
            client.submit(
                _tag_task,
                shared,
                task.source,
                task.output,
                job.options,
                pure=False,
                priority=-task.order,
                key=f"windowclf-tag-{task.order}-{time.time_ns()}",
            ): task
            for task in job.tasks
        }
        try:
            return run_tasks(
                job,
                (
                    (futures[f], f.exception() if f.status == "error" else f.result())
                    for f in as_completed(futures, timeout=timeout)
                ),
                progress,
            )
        finally:
            client.cancel(list(futures))


def _tag_partition(sentences, model, scheme, predict, chunk, documents, entities=False):
    _worker_setup()
    tagger = load_model(model)
    options = dict(predict)

    def tag(batch):
        if not entities:
            return tagger.predict(batch, scheme=scheme, **options)
        return [ents for _, ents in tagger.predict(batch, scheme=scheme, confidences=True, **options)]

    if documents:  # each element a document: its sentences tagged together, as one (cut as the model reads it)
        if entities:  # a document's entities, in one list, numbered by their sentence in it
            return [[e for ents in tag(list(document)) for e in ents] for document in sentences]
        return [tag(list(document)) for document in sentences]
    if tagger.reads_documents:  # a partition is unmarked data: cut only where a document as read ends
        batches = document_chunks(sentences, _unmarked, tagger.document_size, chunk)
    else:
        it = iter(sentences)
        batches = iter(lambda: list(islice(it, chunk)), [])
    out = []
    for batch in batches:
        out.extend(_each_alone(tag(batch), entities))
    return out


def _unmarked(sentence) -> int:
    return 0


def _each_alone(results: list, entities: bool) -> list:
    """Each element's result as if it had been tagged alone: an element's entities are of its one
    sentence, sentence 0 (they come numbered by their place in the batch)."""
    if not entities:
        return results
    return [[dataclasses.replace(e, sentence=0) for e in ents] for ents in results]


def tag_bag(
    bag,
    model,
    *,
    documents: bool = False,
    entities: bool = False,
    scheme: str | None = None,
    send: str = "bytes",
    chunk_size: int = 1000,
    **predict_options,
):
    """A bag of tag lists: the tags of each token list of ``bag``, in the same order and partitions.

    With ``documents=True`` each element of ``bag`` is a document, a list of token lists, and
    each element of the result that document's list of tag lists: a model that reads documents
    (``doccase``, the document vote) sees each alone, wherever the partitions fall (as
    :meth:`~windowclf.inference.prediction.Tagging.documents_as_read` reads documents: a long
    one as blocks of ``document_sentences`` sentences). Without it, a partition is unmarked data,
    which such a model reads as such blocks, counted from the partition's first sentence. With
    ``entities=True`` each element of the result is a list of :class:`~windowclf.tags.record.Entity`
    records instead (what ``predict_entities`` gives): of the token list (``sentence`` 0), or of the
    whole document (``sentence``: the sentence's index in it).
    The model (path, bytes or WindowTagger) goes to the workers once (scattered when a distributed
    client is current, else one node of the graph) and is loaded once per process;
    ``predict_options`` go to :meth:`WindowTagger.predict` (``constrain=False``, ...).
    """
    ref = model_ref(model, send=send)
    try:
        [shared] = default_client().scatter([ref], broadcast=True)
        node = dask.delayed(shared)
    except ValueError:  # no distributed client: the local schedulers share this process's memory
        node = dask.delayed(ref, traverse=False)
    return bag.map_partitions(
        _tag_partition,
        node,
        scheme,
        tuple(sorted(predict_options.items())),
        chunk_size,
        bool(documents),
        bool(entities),
    )


def _train_one(settings: dict, data):
    _worker_setup()
    from windowclf.models.tagger import WindowTagger

    sentences, tags, dev = data
    start = time.perf_counter()
    tagger = WindowTagger(**settings).fit(sentences, tags, dev=dev)
    return {
        "settings": tagger.settings.to_dict(),
        "dev_f1": tagger.best["f1"],
        "best_epoch": tagger.best["epoch"],
        "epochs": len(tagger.history),
        "seconds": time.perf_counter() - start,
        "model": save_tagger(tagger, tagger.network.params, None),
    }


def sweep(sentences, tags, dev, configurations, client=None, *, seeds=(None,)) -> tuple:
    """Train one model per configuration and seed, each a whole training run in one task; choose by dev F1.

    ``configurations``: dicts of WindowTagger settings; each is trained once per seed in ``seeds``
    (None: the configuration's own seed). ``dev``: (sentences, tags), scored after every epoch
    (the best epoch is kept). Returns (the best model's file bytes, a table: one dict per run in
    the order given, with settings, dev_f1, best_epoch, epochs, seconds). Ties go to the first.
    """
    client = client or default_client()
    runs = [dict(c) if seed is None else {**c, "seed": seed} for c in configurations for seed in seeds]
    if not runs:
        raise ValueError("sweep: no configurations to train")
    [data] = client.scatter(
        [(list(map(list, sentences)), list(map(list, tags)), (list(map(list, dev[0])), list(map(list, dev[1]))))],
        broadcast=True,
    )
    results = client.gather(client.map(_train_one, runs, data=data, pure=False))
    best = max(range(len(results)), key=lambda i: (results[i]["dev_f1"] is not None, results[i]["dev_f1"] or 0, -i))
    table = [{k: v for k, v in r.items() if k != "model"} for r in results]
    return results[best]["model"], table
