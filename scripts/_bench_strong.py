"""The strong configurations' rows of scripts/bench (not part of the package): time to the best model.

- one epoch of the strong network (window 5, hidden 500, four feature tables, dropout, batches of
  about 60 words) with the sentence-level likelihood against the same network's softmax epoch;
- the presets ``window-strong`` and ``window-strong-vectors`` trained by the ``windowclf train`` command as a
  user runs it (dev scored every epoch): the wall time until dev F1 first reaches the target, the
  whole run's time and best F1, peak RSS and the model file against its parameters' float32 bytes;
- two BLAS threads against one for the strong network's epoch, on the idle machine and with the
  other core busy (the training step uses one: see the README's Speed section).

Needs CoNLL-2003 (and GloVe for its rows) under $WINDOWCLF_DATA; rows say so where they are absent.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOVE = os.path.join("embeddings", "glove.6B.50d", "glove.6B.50d.txt.gz")
TRAIN_ONLY_TARGET, GLOVE_TARGET = 88.9, 92.8
STRONG = dict(
    window=5,
    hidden=500,
    activation="hardtanh",
    scheme="IOBES",
    features=["caps", "shape", "suffix3", "prefix3"],
    dropout_input=0.2,
    dropout_hidden=0.5,
    batch_size=60,
    lr=0.2,
    seed=0,
)
_F1 = re.compile(r"^epoch\s+(\d+)/(\d+) .* F1\s+([\d.]+)")  # "epoch  3/20": padded to the width of the total


def data_dir() -> str:
    return os.environ.get("WINDOWCLF_DATA", os.path.join(REPO, "..", "shared", "data"))


def _conll():
    from windowclf.formats.conll import read_conll

    path = os.path.join(data_dir(), "conll2003", "eng.train")
    if not os.path.exists(path):
        return None
    return [(s.tokens, s.tags) for s in read_conll(path)]


def epoch_seconds(corpus, decoder: str, repeats: int, threads: int = 1) -> float:
    """The best of ``repeats`` one-epoch fits of the strong network: the epoch's own seconds."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_limits

    import windowclf.models.tagger as tagger_module
    from windowclf.models.tagger import WindowTagger

    best = float("inf")
    tokens, tags = [s for s, _ in corpus], [t for _, t in corpus]
    saved = tagger_module.one_blas_thread
    try:
        if threads != 1:  # the library pins one thread; the row measures what a second one would bring
            tagger_module.one_blas_thread = nullcontext
        with threadpool_limits(threads, user_api="blas"):
            for _ in range(repeats):
                tagger = WindowTagger(**STRONG, decoder=decoder, epochs=1).fit(tokens, tags)
                best = min(best, tagger.history[0]["seconds"])
    finally:
        tagger_module.one_blas_thread = saved
    return best


def _busy_core():
    """A process that keeps one core busy (the 'other work on the machine' of the loaded rows)."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


# The command run as `windowclf train`, writing its own peak RSS (VmHWM) to a file as it exits: a
# child's ru_maxrss would start from this process's peak (fork copies it before exec).
_TRAIN = (
    "import atexit, sys\n"
    "def _hwm(path=sys.argv.pop(1)):\n"
    "    status = open('/proc/self/status').read().split('VmHWM:')\n"
    "    open(path, 'w').write(status[1].split()[0] if len(status) > 1 else '')\n"
    "atexit.register(_hwm)\n"
    "from windowclf.cli.main import main\n"
    "main(prog_name='windowclf')\n"
)


def train_run(args: list, target: float, keep: str | None = None) -> dict:
    """Run ``windowclf train`` with ``args``; the seconds to the first epoch at or above ``target``
    dev F1, the whole run's seconds, its best F1, its peak RSS (VmHWM) and its model file's size,
    as it writes it and prediction-only (``export-model``), kept at ``keep`` when given."""
    with tempfile.TemporaryDirectory() as where:
        model, hwm = os.path.join(where, "model.npz"), os.path.join(where, "hwm")
        env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), SOURCE_DATE_EPOCH="0")
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", _TRAIN, hwm, "train", *args, "-o", model, "--no-progress"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        reached, best, epochs = None, 0.0, 0
        for line in proc.stdout:
            m = _F1.match(line)
            if m:
                epochs, f1 = int(m.group(1)), float(m.group(3))
                best = max(best, f1)
                if reached is None and f1 >= target:
                    reached = (time.perf_counter() - start, epochs)
        proc.wait()
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            return {"error": (proc.stderr.read().strip().splitlines() or ["?"])[-1][:60]}
        from windowclf import WindowTagger

        tagger = WindowTagger.load(model)
        params = sum(a.size for a in tagger.network.params.values())
        slim = os.path.join(where, "slim.npz")
        tagger.save(slim, slim=True)
        if keep is not None:  # the tagging rows time the preset's model (scripts/_bench_tagging.py)
            os.replace(slim, keep)
            slim = keep
        with open(hwm) as f:
            rss_kb = f.read().strip()
        return {
            "reached": reached,
            "seconds": seconds,
            "best": best,
            "epochs": epochs,
            "rss_mb": int(rss_kb) / 1024 if rss_kb else float("nan"),
            "file_mb": os.path.getsize(model) / 2**20,
            "slim_mb": os.path.getsize(slim) / 2**20,
            "params_mb": 4 * params / 2**20,
        }


def strong_rows(quick: bool, models: dict | None = None, where: str | None = None) -> list:
    """(measure, value, reference, ratio, target, met) rows; with ``models`` and ``where``, each
    preset's model is kept in ``where`` and its path put in ``models`` under the preset's name."""
    corpus = _conll()
    labels = (
        "SLL epoch vs softmax epoch, strong network (window 5, hidden 500, 4 tables, dropout)",
        "2 BLAS threads vs 1, strong network epoch, machine idle",
        "2 BLAS threads vs 1, strong network epoch, other core busy",
    )
    if corpus is None:
        return [(label, "n/a (CoNLL-2003 not found)", "", None, "", None) for label in labels]
    if quick:
        corpus = corpus[:1500]
    repeats = 1 if quick else 2
    rows = []
    sll = epoch_seconds(corpus, "sll", repeats)
    softmax = epoch_seconds(corpus, "softmax", repeats)
    rows.append(
        (labels[0], f"{sll:.2f} s", f"softmax {softmax:.2f} s", sll / softmax, "<= 1.30x", sll / softmax <= 1.3)
    )
    two = epoch_seconds(corpus, "sll", repeats, threads=2)
    rows.append((labels[1], f"{two:.2f} s", f"1 thread {sll:.2f} s", two / sll, "", None))
    hog = _busy_core()
    try:
        one_busy = epoch_seconds(corpus, "sll", 1)
        two_busy = epoch_seconds(corpus, "sll", 1, threads=2)
    finally:
        hog.kill()
        hog.wait()
    rows.append((labels[2], f"{two_busy:.2f} s", f"1 thread {one_busy:.2f} s", two_busy / one_busy, "", None))
    if quick:
        return rows + [
            (f"preset {name} (windowclf train)", "skipped (--quick)", "", None, "", None)
            for name in ("window-strong", "window-strong-vectors")
        ]
    conll = os.path.join(data_dir(), "conll2003")
    common = [os.path.join(conll, "eng.train"), "--dev", os.path.join(conll, "eng.testa")]
    runs = [("window-strong", [], TRAIN_ONLY_TARGET, 240.0)]
    glove = os.path.join(data_dir(), GLOVE)
    if os.path.exists(glove):
        runs.append(("window-strong-vectors", ["--embeddings", glove], GLOVE_TARGET, 300.0))
    else:
        rows.append(("preset window-strong-vectors (windowclf train)", "n/a (GloVe not found)", "", None, "", None))
    for name, extra, target, limit in runs:
        keep = None if models is None or where is None else os.path.join(where, f"{name}.npz")
        r = train_run(common + ["--preset", name] + extra, target, keep)
        if keep is not None and "error" not in r:
            models[name] = keep
        label = f"preset {name}: wall to dev F1 >= {target}" + (" (incl. loading the vectors)" if extra else "")
        if "error" in r:
            rows.append((label, r["error"], "", None, f"<= {limit:.0f} s", False))
            continue
        reached = r["reached"]
        rows.append(
            (
                label,
                "not reached" if reached is None else f"{reached[0]:.0f} s (epoch {reached[1]})",
                f"best {r['best']:.2f} of {r['epochs']} epochs",
                None,
                f"<= {limit:.0f} s",
                reached is not None and reached[0] <= limit,
            )
        )
        rows.append(
            (
                f"preset {name}: the whole run",
                f"{r['seconds']:.0f} s",
                f"best dev F1 {r['best']:.2f}",
                None,
                "<= 480 s",
                r["seconds"] <= 480,
            )
        )
        if extra:
            rows.append(
                (f"preset {name}: peak RSS", f"{r['rss_mb']:.0f} MB", "", None, "<= 400 MB", r["rss_mb"] <= 400)
            )
            ratio = r["slim_mb"] / r["params_mb"]
            rows.append(
                (
                    f"preset {name}: model file without training state (--slim) vs float32 parameters",
                    f"{r['slim_mb']:.1f} MB",
                    f"{r['params_mb']:.1f} MB",
                    ratio,
                    "<= 1.10x",
                    ratio <= 1.1,
                )
            )
            rows.append(
                (
                    f"preset {name}: model file as train writes it (with --resume state)",
                    f"{r['file_mb']:.1f} MB",
                    f"{r['params_mb']:.1f} MB",
                    r["file_mb"] / r["params_mb"],
                    "",
                    None,
                )
            )
    return rows
