"""The Dask rows of scripts/bench (not part of the package): windowclf.batch.on_dask against the command.

- end-to-end tokens/s of ``tag_files`` (files in, files out, on a running LocalCluster of 1 and 2
  worker processes, one thread each) against the single-process ``windowclf predict`` command on
  the same files, and a 16-worker projection from the measured per-task cost and overhead;
- CPU-seconds per million tokens (all worker processes and the client) against the command's;
- cluster start time; model load time per worker and worker peak RSS with a 1M-word model.

The corpus is generated from the shipped sample text (data/sample/source.txt), big enough that
a task's overhead is small beside its work. Best of 3 interleaved runs (1 with --quick).
"""

from __future__ import annotations

import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIP = "skipped (dask not installed)"
LABELS = (
    "Dask tag_files, 1 worker (tokens/s, end to end)",
    "Dask tag_files, 2 workers vs the command",
    "Dask, 16 workers (PROJECTION from per-task cost + overhead)",
    "Dask CPU-s per 1M tokens vs the command",
    "Dask LocalCluster start, 2 workers",
    "Dask model load per worker, 1M-word model",
    "Dask worker peak RSS, 1M-word model (sent as a path)",
)


def corpus(where: str, n_files: int, file_bytes: int) -> list:
    """``n_files`` raw-text files of the sample's sentences in paragraphs, ``file_bytes`` each."""
    rng = random.Random(0)
    with open(os.path.join(REPO, "data", "sample", "source.txt"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    sentences = [re.sub(r"\[[A-Z]+ |\]", "", s).strip() for s in lines if s.strip() and not s.startswith("#")]
    paths = []
    for i in range(n_files):
        parts, size = [], 0
        while size < file_bytes:
            paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 6))) + "\n\n"
            parts.append(paragraph)
            size += len(paragraph)
        path = os.path.join(where, f"news{i:02d}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(parts))
        paths.append(path)
    return paths


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _worker_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _warm(model=None) -> None:
    from windowclf.batch import shards

    if model is not None:
        shards.load_model(shards.model_ref(model))


def _worker_load(data) -> dict:
    """On a worker: load the model from its bytes (timed), keep it, report peak RSS (VmHWM)."""
    from windowclf.batch import shards

    start = time.perf_counter()
    shards.load_model(data)
    seconds = time.perf_counter() - start
    with open("/proc/self/status") as f:
        hwm = next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))
    return {"seconds": seconds, "hwm_mb": hwm}


def _peak_rss() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("VmHWM:"))


def big_model(path: str, words: int = 1_000_000) -> None:
    """A model with a vocabulary of ``words`` rows (the sample's words, then made-up ones), dim 50."""
    import numpy as np

    from windowclf.features.vocab import Vocabulary
    from windowclf.formats.conll import read_conll
    from windowclf.models.tagger import WindowTagger

    train = list(read_conll(os.path.join(REPO, "data", "sample", "train.conll")))
    tagger = WindowTagger(epochs=1, seed=0).fit([s.tokens for s in train], [s.tags for s in train])
    old = tagger.network.params
    v = tagger.vocab
    tagger.vocab = Vocabulary(
        v.index_to_key + [f"w{i}" for i in range(words - len(v))],
        lowercase=v.lowercase,
        digits=v.digits,
        unk=v.unk,
        start=v.start,
        end=v.end,
    )
    tagger.network = tagger.make_network()
    for name, arr in old.items():
        if name != "L":
            tagger.network.params[name][...] = arr
    L = tagger.network.params["L"]
    L[: len(old["L"])] = old["L"]
    L[len(old["L"]) :] = np.random.default_rng(0).normal(0, 0.1, size=(len(L) - len(old["L"]), L.shape[1]))
    tagger.training_state = None
    tagger.save(path, include_state=False)


def dask_rows(quick: bool) -> list:
    """(measure, value, reference, ratio, target, met) rows; SKIP rows where Dask is missing."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        targets = ("", ">= 1.7x", "", "<= 1.10x", "", "", "<= 2x model + 200 MB")
        return [(label, SKIP, "", None, target, None) for label, target in zip(LABELS, targets)]
    import logging

    from windowclf.batch.on_dask import tag_files, tagging_config

    logging.getLogger("distributed").setLevel(logging.WARNING)  # the table, not the cluster's log
    from windowclf.formats.conll import read_conll
    from windowclf.models.tagger import WindowTagger

    rows = []
    n_files, file_bytes = (4, 500_000) if quick else (12, 3_000_000)
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory() as where:
        files = corpus(where, n_files, file_bytes)
        train = list(read_conll(os.path.join(REPO, "data", "sample", "train.conll")))
        model = os.path.join(where, "model.npz")
        WindowTagger(epochs=1, seed=0).fit([s.tokens for s in train], [s.tags for s in train]).save(model)
        # the single-process command (--jobs 1: one process, as a worker), as a user runs it (stdout
        # to /dev/null)
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
        load = os.getloadavg()[0]  # other work on the machine takes the second core
        command_s = command_cpu = float("inf")
        results = {w: {"wall": float("inf"), "cpu": float("inf"), "start": float("inf")} for w in (1, 2)}
        for k in range(repeats):  # interleaved, best of the repeats, as the rest of the table
            cpu0, t0 = _cpu_children(), time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "windowclf", "predict", "--jobs", "1", "-m", model, *files],
                stdout=subprocess.DEVNULL,
                check=True,
                env=env,
            )
            command_s = min(command_s, time.perf_counter() - t0)
            command_cpu = min(command_cpu, _cpu_children() - cpu0)
            for workers in (1, 2):  # each cluster alone on the machine while it tags (an idle one ticks too)
                r = results[workers]
                with dask.config.set(tagging_config()):
                    start = time.perf_counter()
                    cluster = LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        host="127.0.0.1",
                        dashboard_address=":0",
                        silence_logs=40,
                    )
                    client = Client(cluster)
                try:
                    client.wait_for_workers(workers)
                    r["start"] = min(r["start"], time.perf_counter() - start)
                    client.run(_warm, model)  # the imports and the model's loading are not the job's work
                    wcpu0, cpu0 = sum(client.run(_worker_cpu).values()), _cpu_self()
                    t0 = time.perf_counter()
                    records = tag_files(files, os.path.join(where, f"out{workers}-{k}"), model, client, block_bytes=0)
                    r["wall"] = min(r["wall"], time.perf_counter() - t0)
                    r["cpu"] = min(r["cpu"], sum(client.run(_worker_cpu).values()) - wcpu0 + _cpu_self() - cpu0)
                    r.update(
                        tokens=sum(x["tokens"] for x in records),
                        tasks=len(records),
                        task_s=min(r.get("task_s", float("inf")), sum(x["seconds"] for x in records)),
                    )
                finally:
                    client.close()
                    cluster.close()
        tokens = results[1]["tokens"]
        command_rate = tokens / command_s
        one, two = results[1], results[2]
        rows.append(
            (
                LABELS[0],
                f"{tokens / one['wall']:,.0f}/s",
                f"command {command_rate:,.0f}/s",
                (tokens / one["wall"]) / command_rate,
                "",
                None,
            )
        )
        speedup = (tokens / two["wall"]) / command_rate
        rows.append(
            (
                LABELS[1],
                f"{tokens / two['wall']:,.0f}/s",
                f"command {command_rate:,.0f}/s; load {load:.1f}",
                speedup,
                ">= 1.7x",
                speedup >= 1.7,
            )
        )
        overhead = max(0.0, (one["wall"] - one["task_s"]) / one["tasks"])
        per_task = one["task_s"] / one["tasks"]
        projected = 16 * tokens / (one["tasks"] * (per_task + overhead))
        rows.append(
            (
                LABELS[2],
                f"{projected:,.0f}/s",
                f"task {per_task:.2f} s + overhead {overhead:.3f} s",
                projected / command_rate,
                "",
                None,
            )
        )
        per_m = two["cpu"] / (tokens / 1e6)
        command_per_m = command_cpu / (tokens / 1e6)
        rows.append(
            (
                LABELS[3],
                f"{per_m:.2f} s",
                f"command {command_per_m:.2f} s",
                per_m / command_per_m,
                "<= 1.10x",
                per_m / command_per_m <= 1.10,
            )
        )
        rows.append((LABELS[4], f"{two['start']:.2f} s", f"1 worker {one['start']:.2f} s", None, "", None))
        if quick:
            rows.append((LABELS[5], "skipped (--quick)", "", None, "", None))
            rows.append((LABELS[6], "skipped (--quick)", "", None, "<= 2x model + 200 MB", None))
            return rows
        big = os.path.join(where, "big.npz")
        big_model(big)
        size_mb = os.path.getsize(big) / 2**20
        with dask.config.set(tagging_config()):
            cluster = LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=":0",
                silence_logs=40,
            )
            client = Client(cluster)
        try:
            client.wait_for_workers(2)
            base = max(client.run(_peak_rss).values())
            from windowclf.batch.shards import model_ref

            ref = model_ref(big, send="path")  # as --workers sends it: the workers read the file
            loads = client.gather(
                [client.submit(_worker_load, ref, workers=[w], pure=False) for w in client.scheduler_info()["workers"]]
            )
            tag_files(files[:2], os.path.join(where, "outbig"), ref, client, block_bytes=0)
            peak = max(client.run(_peak_rss).values())
        finally:
            client.close()
            cluster.close()
        rows.append(
            (LABELS[5], f"{max(r['seconds'] for r in loads):.2f} s", f"model file {size_mb:,.0f} MB", None, "", None)
        )
        limit = 2 * size_mb + 200
        rows.append(
            (
                LABELS[6],
                f"{peak:,.0f} MB",
                f"idle worker {base:,.0f} MB; limit {limit:,.0f} MB",
                peak / limit,
                "<= 2x model + 200 MB",
                peak <= limit,
            )
        )
    return rows
