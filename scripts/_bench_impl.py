"""The work behind scripts/bench (not part of the package).

Measures, in one process so that ratios hold on a noisy machine:

- training throughput (windows/s) of windowclf's run_epoch at batch sizes 1, 32, 128 in float32 and
  float64, beside (a) a naive per-example numpy loop written from the seed equations and (b) the same
  network in PyTorch when it is installed;
- forward-only tagging throughput and end-to-end ``predict`` on raw text;
- the time of one SGD step at V = 10,000 and V = 1,000,000;
- peak RSS of a training run with a 100,000-word vocabulary and of loading GloVe with a vocabulary
  filter (each in a child process: VmHWM, or ru_maxrss where /proc is missing).

The network is the seeds' one: D = 150 (window 3, n = 50), H = 100, K = 5, tanh, softmax, SGD, word
table only.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import io
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from windowclf.features.vocab import Vocabulary
from windowclf.features.windows import window_ids
from windowclf.nn.network import WindowNetwork
from windowclf.nn.optim import SGD
from windowclf.training.loop import run_epoch
from windowclf.training.objectives import WindowObjective

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WINDOW, DIM, HIDDEN, CLASSES = 3, 50, 100, 5
LR = 0.01
N_TRAIN_WINDOWS = 203_621  # CoNLL-2003 eng.train
IO_CLASSES = ["LOC", "MISC", "O", "ORG", "PER"]

FULL = {
    "repeats": 3,
    "b1_windows": 20_000,
    "epoch_windows": None,
    "reference_seconds": 8.0,
    "forward_repeats": 5,
    "step_repeats": 5,
    "steps": 500,
    "predict_sentences": None,
    "memory_windows": None,
    "glove": True,
}
QUICK = {
    "repeats": 1,
    "b1_windows": 1_000,
    "epoch_windows": 10_000,
    "reference_seconds": 0.3,
    "forward_repeats": 1,
    "step_repeats": 2,
    "steps": 300,
    "predict_sentences": 300,
    "memory_windows": 10_000,
    "glove": False,
}


# ----------------------------------------------------------------------------- data
def data_dir() -> str:
    return os.environ.get("WINDOWCLF_DATA", os.path.join(REPO, "..", "shared", "data"))


def read_train_sentences():
    """(sentences, IO tags) of eng.train, or None when the file is absent."""
    path = os.path.join(data_dir(), "conll2003", "eng.train")
    if not os.path.exists(path):
        return None
    try:
        from windowclf.formats.conll import read_conll

        sentences, tags = [], []
        for sentence in read_conll(path):
            sentences.append(list(sentence.tokens))
            tags.append([t.split("-")[-1] for t in sentence.tags])
        return sentences, tags
    except ImportError:
        pass
    sentences, tags, words, labels = [], [], [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split()
            if not fields or fields[0] == "-DOCSTART-":
                if words:
                    sentences.append(words)
                    tags.append(labels)
                    words, labels = [], []
                continue
            words.append(fields[0])
            labels.append(fields[-1].split("-")[-1])
    if words:
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def training_windows(corpus, vocab_size=None):
    """(X (n, 3) ids, y, V, source): eng.train's windows, or synthetic ones of the same shape.

    ``vocab_size`` pads the vocabulary with unseen words up to that many rows.
    """
    if corpus is None:
        rng = np.random.default_rng(0)
        V = vocab_size or 21_000
        X = rng.integers(0, min(V, 21_000), size=(N_TRAIN_WINDOWS, WINDOW))
        y = rng.integers(0, CLASSES, size=N_TRAIN_WINDOWS)
        return X, y, V, "synthetic windows (eng.train not found)"
    sentences, tags = corpus
    vocab = Vocabulary.build(sentences)
    if vocab_size is not None and vocab_size > len(vocab):
        extra = [f"<unseen-{i}>" for i in range(vocab_size - len(vocab))]
        vocab = Vocabulary(vocab.index_to_key + extra)
    X = window_ids([vocab.ids(s) for s in sentences], WINDOW, vocab.start_id, vocab.end_id)
    index = {t: i for i, t in enumerate(IO_CLASSES)}
    y = np.array([index[t] for ts in tags for t in ts], dtype=np.int64)
    return X, y, len(vocab), "CoNLL-2003 eng.train"


# ----------------------------------------------------------------------------- BLAS
def blas_config() -> dict:
    """Name, version, core type and thread count of numpy's BLAS."""
    out = {"name": "?", "version": "?", "threads": None, "corename": "?"}
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        out["name"], out["version"] = blas.get("name", "?"), blas.get("version", "?")
    except (TypeError, KeyError):  # older numpy: no dict form
        pass
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            if info.get("user_api") == "blas":
                out["threads"] = info.get("num_threads")
                out["corename"] = info.get("architecture") or "?"
                return out
    except ImportError:
        pass
    # No threadpoolctl: ask the OpenBLAS that numpy ships (loading it again returns the same copy).
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "*openblas*"))
    libs += glob.glob(os.path.join(os.path.dirname(np.__file__), ".libs", "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (
            ("scipy_openblas", "64_"),
            ("openblas", "64_"),
            ("openblas", ""),
            ("scipy_openblas", ""),
        ):
            get_threads = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            get_core = getattr(lib, f"{prefix}_get_corename{suffix}", None)
            if get_threads is not None:
                out["threads"] = int(get_threads())
                if get_core is not None:
                    get_core.restype = ctypes.c_char_p
                    out["corename"] = get_core().decode()
                return out
    return out


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


# ------------------------------------------------------------------- training: windowclf
def time_windowclf(X, y, V, dtype, batch_size):
    """Windows per second of one run_epoch over X (same seed every time)."""
    net = WindowNetwork([("L", V, DIM)], WINDOW, HIDDEN, CLASSES, dtype=dtype, seed=0)
    t0 = time.perf_counter()
    objective = WindowObjective(net, (X,), y)
    run_epoch(objective, SGD(LR), objective.draw_order(np.random.default_rng(0), batch_size))
    return len(y) / (time.perf_counter() - t0)


# ------------------------------------------------------------- training: naive numpy loop
def naive_params(V, dtype):
    net = WindowNetwork([("L", V, DIM)], WINDOW, HIDDEN, CLASSES, dtype=dtype, seed=0)
    return {k: v.copy() for k, v in net.params.items()}


def naive_sgd_step(p, window, label, lr):
    """Seed 003's per-example SGD, one equation per line."""
    L, W1, b1, W2, b2 = p["L"], p["W1"], p["b1"], p["W2"], p["b2"]
    n = L.shape[1]
    x = np.concatenate([L[w] for w in window])  # x = [L_w1; ...; L_wC]
    z1 = W1 @ x + b1  # z1 = W1 x + b1
    a1 = np.tanh(z1)  # a1 = f(z1)
    z2 = W2 @ a1 + b2  # z2 = W2 a1 + b2
    e = np.exp(z2 - np.max(z2))
    yhat = e / np.sum(e)  # yhat = softmax(z2)
    delta2 = yhat.copy()
    delta2[label] -= 1  # delta2 = yhat - y
    grad_W2 = np.outer(delta2, a1)  # grad_W2 = delta2 a1^T
    grad_b2 = delta2
    delta1 = (1 - a1**2) * (W2.T @ delta2)  # delta1 = f'(z1) * W2^T delta2
    grad_W1 = np.outer(delta1, x)  # grad_W1 = delta1 x^T
    grad_b1 = delta1
    grad_x = W1.T @ delta1  # grad_x = W1^T delta1
    W1 -= lr * grad_W1
    b1 -= lr * grad_b1
    W2 -= lr * grad_W2
    b2 -= lr * grad_b2
    for j, w in enumerate(window):  # grad_L: slice j of grad_x into the row of word j
        L[w] -= lr * grad_x[j * n : (j + 1) * n]


def naive_minibatch_step(p, windows, labels, lr):
    """The same equations per example, gradients summed over the batch, then one mean step."""
    L, W1, b1, W2, b2 = p["L"], p["W1"], p["b1"], p["W2"], p["b2"]
    n = L.shape[1]
    grad_W1, grad_b1 = np.zeros_like(W1), np.zeros_like(b1)
    grad_W2, grad_b2 = np.zeros_like(W2), np.zeros_like(b2)
    grad_L = {}
    for window, label in zip(windows, labels):
        x = np.concatenate([L[w] for w in window])
        a1 = np.tanh(W1 @ x + b1)
        z2 = W2 @ a1 + b2
        e = np.exp(z2 - np.max(z2))
        delta2 = e / np.sum(e)
        delta2[label] -= 1
        grad_W2 += np.outer(delta2, a1)
        grad_b2 += delta2
        delta1 = (1 - a1**2) * (W2.T @ delta2)
        grad_W1 += np.outer(delta1, x)
        grad_b1 += delta1
        grad_x = W1.T @ delta1
        for j, w in enumerate(window):
            grad_L[w] = grad_L.get(w, 0) + grad_x[j * n : (j + 1) * n]
    step = lr / len(labels)
    W1 -= step * grad_W1
    b1 -= step * grad_b1
    W2 -= step * grad_W2
    b2 -= step * grad_b2
    for w, g in grad_L.items():
        L[w] -= step * g


def time_naive(X, y, V, dtype, batch_size, max_windows, max_seconds):
    p = naive_params(V, dtype)
    Xs, ys = X.tolist(), y.tolist()
    done = 0
    t0 = time.perf_counter()
    while done < max_windows and time.perf_counter() - t0 < max_seconds:
        if batch_size == 1:
            naive_sgd_step(p, Xs[done], ys[done], LR)
            done += 1
        else:
            stop = done + batch_size
            naive_minibatch_step(p, Xs[done:stop], ys[done:stop], LR)
            done = min(stop, len(ys))
            if done >= len(ys):
                break
    return done / (time.perf_counter() - t0)


# ---------------------------------------------------------------------- training: PyTorch
def time_torch(torch, X, y, V, dtype, batch_size, max_windows, max_seconds):
    """nn.Embedding(sparse=True) -> Linear -> Tanh -> Linear, cross-entropy, optim.SGD."""
    nn = torch.nn
    tdtype = torch.float32 if dtype == np.float32 else torch.float64
    p = naive_params(V, dtype)
    emb = nn.Embedding(V, DIM, sparse=True).to(tdtype)
    model = nn.Sequential(nn.Linear(WINDOW * DIM, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, CLASSES)).to(tdtype)
    with torch.no_grad():  # same starting point as windowclf
        emb.weight.copy_(torch.from_numpy(p["L"]))
        model[0].weight.copy_(torch.from_numpy(p["W1"]))
        model[0].bias.copy_(torch.from_numpy(p["b1"]))
        model[2].weight.copy_(torch.from_numpy(p["W2"]))
        model[2].bias.copy_(torch.from_numpy(p["b2"]))
    opt = torch.optim.SGD(list(emb.parameters()) + list(model.parameters()), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    n = min(max_windows, len(y))
    done = 0
    t0 = time.perf_counter()
    while done < n and time.perf_counter() - t0 < max_seconds:
        stop = min(done + batch_size, n)
        xb = Xt[done:stop]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(emb(xb).reshape(stop - done, -1)), yt[done:stop])
        loss.backward()
        opt.step()
        done = stop
    return done / (time.perf_counter() - t0)


# ---------------------------------------------------------------------------- forward, predict
def time_forward(X, V, repeats):
    """Windows per second of forward-only tagging (scores and argmax), as ``predict`` runs it.

    WindowTagger computes the scores of its windows with ``scoring.chunked_scores``: chunks of
    ``_PREDICT_CHUNK`` windows shared among ``_SCORE_THREADS`` threads. Returns (windows/s with
    those threads, windows/s on one thread, chunk, threads), measured in turns.
    """
    from windowclf.inference.prediction import _PREDICT_CHUNK, _SCORE_THREADS
    from windowclf.inference.scoring import chunked_scores

    net = WindowNetwork([("L", V, DIM)], WINDOW, HIDDEN, CLASSES, dtype=np.float32, seed=0)
    best = {_SCORE_THREADS: 0.0, 1: 0.0}
    for _ in range(repeats):
        for threads in best:
            t0 = time.perf_counter()
            chunked_scores(net, (X,), _PREDICT_CHUNK, threads).argmax(axis=1)
            best[threads] = max(best[threads], len(X) / (time.perf_counter() - t0))
    return best[_SCORE_THREADS], best[1], _PREDICT_CHUNK, _SCORE_THREADS


def time_predict(corpus, n_sentences, repeats):
    """Tokens per second of ``windowclf predict --format conll`` on raw text, in process.

    The command's own pipeline: text read in blocks and split into sentences with offsets
    (``text.reader.text_sentences``), tagged 1,000 sentences at a time, written as CoNLL; or a reason why not.
    """
    try:
        from windowclf.formats.writers import WRITERS, Tagged
        from windowclf.models.tagger import WindowTagger
        from windowclf.text.reader import text_sentences
    except ImportError as err:
        return None, f"n/a (module missing: {err.name})"
    if corpus is None:
        return None, "n/a (eng.train not found)"
    sentences, tags = corpus
    if n_sentences is not None:
        sentences, tags = sentences[:n_sentences], tags[:n_sentences]
    try:
        # speed is the question here, not accuracy: one epoch on a few sentences
        tagger = WindowTagger(epochs=1, seed=0).fit(sentences[:2000], tags[:2000])
        text = "\n".join(" ".join(s) for s in sentences)
        write = WRITERS["conll"]
        best = 0.0
        for _ in range(repeats):
            out = io.StringIO()
            n_tokens = 0
            t0 = time.perf_counter()
            stream = text_sentences(io.StringIO(text), make=lambda tokens, **kw: Tagged(tokens, [], **kw))
            while chunk := list(itertools.islice(stream, 1000)):
                for s, predicted in zip(chunk, tagger.predict([s.tokens for s in chunk])):
                    s.tags = predicted
                    write(out, s)
                    n_tokens += len(predicted)
            best = max(best, n_tokens / (time.perf_counter() - t0))
        return best, ""
    except Exception as err:
        return None, f"error: {type(err).__name__}: {err}"[:60]


def time_steps(X, V_values, steps, repeats):
    """Seconds per SGD step (loss_and_grads + update) on the same 32 windows, for each V."""
    rng = np.random.default_rng(1)
    batch = (rng.integers(0, min(V_values), size=(32, WINDOW)),)
    labels = rng.integers(0, CLASSES, size=32)
    nets = {}
    for V in V_values:
        nets[V] = WindowNetwork([("L", 10, DIM)], WINDOW, HIDDEN, CLASSES, dtype=np.float32, seed=0)
        # a zero table of V rows: values do not change the cost of a step, and drawing a million
        # random rows would take longer than the measurement
        nets[V].params["L"] = np.zeros((V, DIM), dtype=np.float32)
    best = {V: float("inf") for V in V_values}
    for _ in range(repeats):
        for V, net in nets.items():
            opt = SGD(LR)
            t0 = time.perf_counter()
            for _ in range(steps):
                opt.update(net.params, net.loss_and_grads(batch, labels)[1])
            best[V] = min(best[V], (time.perf_counter() - t0) / steps)
    return best


# ------------------------------------------------------------------------------ memory
def maxrss_mb() -> float:
    """Peak RSS of this process so far, in MB.

    On Linux ru_maxrss survives fork + exec, so a child reports at least its parent's peak; the
    kernel's VmHWM belongs to the new program alone, so it is read when /proc has it.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def child(argv):
    """Entry point of the memory children; prints one JSON line."""
    kind = argv[0]
    base = maxrss_mb()  # interpreter + numpy + scipy + windowclf
    if kind == "train-memory":
        n_windows = int(argv[1]) if len(argv) > 1 and argv[1] != "all" else None
        X, y, V, _ = training_windows(read_train_sentences(), vocab_size=100_000)
        if n_windows is not None:
            X, y = X[:n_windows], y[:n_windows]
        net = WindowNetwork([("L", V, DIM)], WINDOW, HIDDEN, CLASSES, dtype=np.float32, seed=0)
        objective = WindowObjective(net, (X,), y)
        run_epoch(objective, SGD(LR), objective.draw_order(np.random.default_rng(0), 32))
        print(
            json.dumps(
                {
                    "base_mb": base,
                    "peak_mb": maxrss_mb(),
                    "V": V,
                    "windows": len(y),
                    "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            )
        )
    elif kind == "glove-memory":
        try:
            from windowclf.formats.vectors import load_vectors
        except ImportError:
            print(json.dumps({"missing": "windowclf.formats.vectors"}))
            return 0
        with open(argv[2], encoding="utf-8") as f:
            words = f.read().split("\n")
        before = maxrss_mb()
        wv = load_vectors(argv[1], vocabulary=words)
        print(
            json.dumps(
                {
                    "base_mb": base,
                    "before_mb": before,
                    "peak_mb": maxrss_mb(),
                    "kept_mb": wv.vectors.nbytes / 2**20,
                    "rows": int(wv.vectors.shape[0]),
                }
            )
        )
    return 0


def run_child(*args):
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return None, f"error: {last}"[:60]
    return json.loads(proc.stdout.strip().splitlines()[-1]), ""


def memory_rows(cfg, corpus_words):
    """The two memory rows, measured first: a child's ru_maxrss starts at its parent's peak."""
    rows = []
    mem, why = run_child("train-memory", str(cfg["memory_windows"] or "all"))
    if mem is None:
        rows.append(("peak RSS, training, V = 100,000", why, "", None, "< 500 MB", None))
    else:
        rows.append(
            (
                f"peak RSS, training 1 epoch b=32, V = {mem['V']:,} ({mem['windows']:,} windows)",
                f"{mem['peak_mb']:,.0f} MB",
                f"interpreter {mem['base_mb']:,.0f} MB; ru_maxrss {mem['ru_maxrss_mb']:,.0f} MB",
                None,
                "< 500 MB",
                mem["peak_mb"] < 500,
            )
        )
    glove = os.path.join(data_dir(), "embeddings", "glove.6B.50d", "glove.6B.50d.txt.gz")
    label = "GloVe 6B.50d load, eng.train filter: RSS growth vs kept matrix"
    if not cfg["glove"]:
        rows.append((label, "skipped (--quick)", "", None, "< 2x", None))
        return rows
    if not os.path.exists(glove):
        rows.append((label, "n/a (file not found)", "", None, "< 2x", None))
        return rows
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(corpus_words or ["the"]))
    try:
        res, why = run_child("glove-memory", glove, f.name)
    finally:
        os.unlink(f.name)
    if res is None or "missing" in res:
        rows.append((label, why or "n/a (module missing)", "", None, "< 2x", None))
        return rows
    growth = res["peak_mb"] - res["before_mb"]
    ratio = growth / res["kept_mb"]
    rows.append(
        (
            label,
            f"+{growth:,.1f} MB (peak {res['peak_mb']:,.0f} MB)",
            f"{res['rows']:,} rows = {res['kept_mb']:,.1f} MB; interpreter {res['base_mb']:,.0f} MB",
            ratio,
            "< 2x",
            ratio < 2,
        )
    )
    return rows


# ------------------------------------------------------------------------------ table
class Table:
    HEAD = ("measure", "windowclf", "reference", "ratio", "target", "met?")

    def __init__(self):
        self.rows = []

    def add(self, measure, value, reference="", ratio=None, target="", met=None):
        self.rows.append(
            (
                measure,
                value,
                reference,
                "" if ratio is None else f"{ratio:.2f}x",
                target,
                "" if met is None else ("yes" if met else "NO"),
            )
        )

    def print(self):
        widths = [max(len(str(r[i])) for r in self.rows + [self.HEAD]) for i in range(len(self.HEAD))]
        line = "  ".join("-" * w for w in widths)
        print("  ".join(h.ljust(w) for h, w in zip(self.HEAD, widths)))
        print(line)
        for r in self.rows:
            print(
                "  ".join(
                    str(c).ljust(w) if i in (0, 2, 4) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))
                )
            )


def rate(x, unit="/s"):
    return f"{x:,.0f}{unit}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument(
        "--threads", type=int, help="BLAS and PyTorch threads (default: 1, as the windowclf command runs)"
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--only-dask", action="store_true", help="only the Dask rows (scripts/_bench_dask.py)")
    parser.add_argument(
        "--only-strong", action="store_true", help="only the strong configurations' rows (scripts/_bench_strong.py)"
    )
    parser.add_argument(
        "--only-tagging",
        action="store_true",
        help="only the command's tagging rows and the peers (scripts/_bench_tagging.py)",
    )
    parser.add_argument(
        "--only-integrations",
        action="store_true",
        help="only the service's and the spaCy component's rows (scripts/_bench_integrations.py)",
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    if args.only_dask or args.only_strong or args.only_tagging or args.only_integrations:
        from _bench_dask import dask_rows
        from _bench_integrations import integration_rows
        from _bench_strong import strong_rows
        from _bench_tagging import tagging_rows

        table = Table()
        if args.only_dask:
            only = dask_rows
        elif args.only_strong:
            only = strong_rows
        elif args.only_tagging:
            only = tagging_rows
        else:
            only = integration_rows
        for row in only(args.quick):
            table.add(*row)
        table.print()
        return 0
    cfg = QUICK if args.quick else FULL
    corpus = read_train_sentences()
    words = Vocabulary.build(corpus[0]).index_to_key if corpus is not None else None
    memory = memory_rows(cfg, words)  # first, while this process is small (see maxrss_mb)
    torch = try_torch()
    blas = blas_config()
    threads = blas["threads"] or os.cpu_count()
    if torch is not None:
        torch.set_num_threads(threads)

    X, y, V, source = training_windows(corpus)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]  # the references read windows in order; windowclf shuffles its own copy
    print(
        f"windowclf bench{' (--quick)' if args.quick else ''}: {source}, {len(y):,} windows, V = {V:,}; "
        f"D = {WINDOW * DIM}, H = {HIDDEN}, K = {CLASSES}, tanh, softmax, SGD"
    )
    print(
        f"numpy {np.__version__}, BLAS {blas['name']} {blas['version']} ({blas['corename']}), "
        f"{blas['threads']} threads; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; "
        f"torch {torch.__version__ + f' ({torch.get_num_threads()} threads)' if torch else 'not installed'}; "
        f"{os.cpu_count()} CPUs; best of {cfg['repeats']} interleaved runs"
    )
    print()

    table = Table()
    targets = {(1, "naive"): 1.5, (32, "torch"): 2.0, (128, "torch"): 1.2}
    for dtype in (np.float32, np.float64):
        tag = "f32" if dtype == np.float32 else "f64"
        for batch_size in (1, 32, 128):
            n = cfg["b1_windows"] if batch_size == 1 else (cfg["epoch_windows"] or len(y))
            Xb, yb = X[:n], y[:n]
            best = {"windowclf": 0.0, "naive": 0.0, "torch": 0.0}
            for _ in range(cfg["repeats"]):
                best["windowclf"] = max(best["windowclf"], time_windowclf(Xb, yb, V, dtype, batch_size))
                best["naive"] = max(
                    best["naive"], time_naive(Xb, yb, V, dtype, batch_size, min(n, 20_000), cfg["reference_seconds"])
                )
                if torch is not None:
                    best["torch"] = max(
                        best["torch"], time_torch(torch, Xb, yb, V, dtype, batch_size, n, cfg["reference_seconds"])
                    )
            scope = "" if args.quick else f" ({n:,} steps)" if batch_size == 1 else " (1 epoch)"
            what = f"train {tag} b={batch_size}{scope}"
            for ref, label in (("naive", "naive numpy loop"), ("torch", "PyTorch")):
                goal = targets.get((batch_size, ref))
                if ref == "torch" and torch is None:
                    table.add(
                        f"{what} vs {label}",
                        rate(best["windowclf"]),
                        "not installed",
                        None,
                        f">= {goal}x" if goal else "",
                        None,
                    )
                    continue
                ratio = best["windowclf"] / best[ref]
                table.add(
                    f"{what} vs {label}",
                    rate(best["windowclf"]),
                    rate(best[ref]),
                    ratio,
                    f">= {goal}x" if goal else "",
                    None if goal is None else ratio >= goal,
                )

    fwd, fwd_one, chunk, threads = time_forward(
        X if cfg["epoch_windows"] is None else X[: cfg["epoch_windows"]], V, cfg["forward_repeats"]
    )
    table.add(
        f"tag forward-only f32 (as predict: {chunk}-window chunks, {threads} threads)",
        rate(fwd),
        f"on 1 thread {rate(fwd_one)}",
        None,
        ">= 2,000,000/s",
        fwd >= 2_000_000,
    )

    tokens_per_s, why = time_predict(corpus, cfg["predict_sentences"], cfg["forward_repeats"])
    if tokens_per_s is None:
        table.add("predict raw text -> conll, as the command (tokens/s)", why, "", None, ">= 300,000/s", None)
    else:
        table.add(
            "predict raw text -> conll, as the command (tokens/s)",
            rate(tokens_per_s),
            "",
            None,
            ">= 300,000/s",
            tokens_per_s >= 300_000,
        )

    step = time_steps(X, (10_000, 1_000_000), cfg["steps"], cfg["step_repeats"])
    ratio = step[1_000_000] / step[10_000]
    table.add(
        "SGD step, 32 windows, V=1,000,000 vs V=10,000",
        f"{step[1_000_000] * 1e6:,.0f} us",
        f"{step[10_000] * 1e6:,.0f} us",
        ratio,
        "<= 1.10x",
        ratio <= 1.10,
    )

    for row in memory:
        table.add(*row)
    from _bench_dask import dask_rows
    from _bench_strong import strong_rows
    from _bench_tagging import tagging_rows

    for row in dask_rows(args.quick):
        table.add(*row)
    with tempfile.TemporaryDirectory() as where:
        models: dict = {}  # the presets' models the strong rows train, timed by the tagging rows
        for row in strong_rows(args.quick, models, where):
            table.add(*row)
        for row in tagging_rows(args.quick, models):
            table.add(*row)
    from _bench_integrations import integration_rows

    for row in integration_rows(args.quick):
        table.add(*row)
    table.print()
    print()
    print(
        "ratio = windowclf / reference; step row: V=1,000,000 / V=10,000; GloVe row: growth of peak RSS "
        "during load_vectors / bytes of the matrix it returns. Peak RSS is the child process's VmHWM."
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        sys.exit(child(sys.argv[2:]))
    sys.exit(main())
