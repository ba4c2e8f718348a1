"""The tagging rows of scripts/bench (not part of the package): the command end to end, its memory, and
the tools users would pick instead, measured in the same run.

- ``windowclf predict`` as a user runs it (a subprocess, both cores as the command uses them, output
  to a file) on a raw-text file of about 5 MB (CoNLL-2003's sentences, one a line, no blank line)
  and on CoNLL input, with the strong presets and the default network: words/s;
- its peak memory with the GloVe preset on a 50 MB raw file without blank lines and on a file of
  one 10 MB line: the sum over its processes of their proportional set size (Pss: a page the
  processes share counts once), sampled every 20 ms, beside the largest single process's RSS;
- spaCy's efficiency NER pipeline (a blank English pipeline with an ``ner`` component, initialized
  with CoNLL-2003's labels: its speed does not depend on training) and sklearn-crfsuite's tagger
  with the usual CoNLL features (trained on 2,000 sentences: its speed does not depend on them
  either) on eng.testa's tokens, one process each, tokenized for them: words/s, and the strong
  presets' end-to-end rate over theirs.

The strong presets' models are those the strong rows trained (scripts/_bench_strong.py), or with
--quick one epoch on a slice (speed does not depend on accuracy). Needs CoNLL-2003 (and GloVe for
its rows) under $WINDOWCLF_DATA; spaCy and sklearn-crfsuite come with ``pip install 'windowclf[bench]'``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLOVE = os.path.join("embeddings", "glove.6B.50d", "glove.6B.50d.txt.gz")
LABELS = ["LOC", "MISC", "ORG", "PER"]
RAW_BYTES, BIG_BYTES, LINE_BYTES = 5 << 20, 50 << 20, 10 << 20
TARGETS = {"strong": 200_000, "default": 350_000, "rss_mb": 400, "spacy": 10.0, "crf": 8.0}


def data_dir() -> str:
    return os.environ.get("WINDOWCLF_DATA", os.path.join(REPO, "..", "shared", "data"))


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))


def _sentences(name: str) -> list:
    from windowclf.formats.conll import read_conll

    return [(s.tokens, s.tags) for s in read_conll(os.path.join(data_dir(), "conll2003", name))]


def raw_file(path: str, n_bytes: int, sentences, one_line: bool = False) -> int:
    """CoNLL-2003's sentences as raw text, one a line (or all on one line), at least ``n_bytes``."""
    lines = [" ".join(tokens) for tokens, _ in sentences]
    sep = " " if one_line else "\n"
    with open(path, "w", encoding="utf-8") as f:
        size, i = 0, 0
        while size < n_bytes:
            line = lines[i % len(lines)] + sep
            f.write(line)
            size, i = size + len(line.encode("utf-8")), i + 1
    return size


def conll_file(path: str, n_bytes: int) -> None:
    """eng.train repeated until at least ``n_bytes``."""
    with open(os.path.join(data_dir(), "conll2003", "eng.train"), "rb") as f:
        one = f.read()
    with open(path, "wb") as f:
        f.write(one * (n_bytes // len(one) + 1))


# ------------------------------------------------------------------------------ the command
class _TreeMemory(threading.Thread):
    """Samples a process tree's summed Pss and largest Rss (smaps_rollup) until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.pss_mb, self.rss_mb, self.processes = pid, 0.0, 0.0, 0
        self.stop = threading.Event()

    def _tree(self) -> list:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as f:
                        todo += [int(c) for c in f.read().split()]
            except OSError:
                pass
        return pids

    def run(self) -> None:
        while not self.stop.is_set():
            pss = rss = 0.0
            pids = self._tree()
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/smaps_rollup") as f:
                        fields = dict(line.split(":", 1) for line in f if line.startswith(("Rss:", "Pss:")))
                except OSError:
                    continue
                pss += int(fields["Pss"].split()[0]) / 1024
                rss = max(rss, int(fields["Rss"].split()[0]) / 1024)
            self.pss_mb, self.rss_mb = max(self.pss_mb, pss), max(self.rss_mb, rss)
            self.processes = max(self.processes, len(pids))
            self.stop.wait(0.02)


def command(model: str, path: str, where: str, *args, memory: bool = False) -> dict:
    """``windowclf predict -m MODEL ARGS PATH`` into a file: seconds, words (its lines that are not
    blank), and with ``memory`` the tree's peak summed Pss and largest RSS."""
    out = os.path.join(where, "out.conll")
    start = time.perf_counter()
    with open(out, "wb") as f:
        proc = subprocess.Popen(
            [sys.executable, "-m", "windowclf", "predict", "-m", model, *args, path], stdout=f, env=_env()
        )
        watch = _TreeMemory(proc.pid) if memory and os.path.exists("/proc/self/smaps_rollup") else None
        if watch is not None:
            watch.start()
        code = proc.wait()
        seconds = time.perf_counter() - start
        if watch is not None:
            watch.stop.set()
            watch.join()
    if code != 0:
        raise RuntimeError(f"windowclf predict exited {code}")
    with open(out, "rb") as f:
        data = f.read()
    words = data.count(b"\n") - data.count(b"\n\n")  # CoNLL output: a line a word, a blank line a sentence
    os.unlink(out)
    result = {"seconds": seconds, "words": words, "rate": words / seconds}
    if watch is not None:
        result.update(pss_mb=watch.pss_mb, rss_mb=watch.rss_mb, processes=watch.processes)
    return result


def quick_model(where: str, name: str, train, dev, preset: str | None) -> str:
    """A model of ``preset`` (None: the default network) trained one epoch on ``train``, for its speed."""
    path = os.path.join(where, f"{name}.npz")
    args = ["train", train, "--dev", dev, "-o", path, "--epochs", "1", "--no-progress"]
    if preset:
        args += ["--preset", preset]
        if preset == "window-strong-vectors":
            args += ["--embeddings", os.path.join(data_dir(), GLOVE)]
    subprocess.run([sys.executable, "-m", "windowclf", *args], check=True, env=_env(), capture_output=True)
    return path


# ------------------------------------------------------------------------------ the peers
def spacy_rate(sentences) -> tuple:
    """Words/s of spaCy's efficiency NER pipeline on pre-tokenized docs of 20 sentences, or (None, why)."""
    try:
        import spacy
        from spacy.tokens import Doc
    except ImportError:
        return None, "n/a (pip install 'windowclf[bench]')"
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in LABELS:
        ner.add_label(label)
    nlp.initialize()
    words = [w for tokens, _ in sentences for w in tokens]
    docs = [
        Doc(nlp.vocab, words=[w for tokens, _ in sentences[i : i + 20] for w in tokens])
        for i in range(0, len(sentences), 20)
    ]
    start = time.perf_counter()
    for _ in nlp.pipe(docs, batch_size=64):
        pass
    return len(words) / (time.perf_counter() - start), f"spaCy {spacy.__version__}, blank en + ner"


def _crf_features(tokens) -> list:
    """The usual CoNLL features of sklearn-crfsuite's tutorial (no POS column in raw text)."""
    out = []
    for i, w in enumerate(tokens):
        f = {
            "bias": 1.0,
            "lower": w.lower(),
            "suffix3": w[-3:],
            "suffix2": w[-2:],
            "upper": w.isupper(),
            "title": w.istitle(),
            "digit": w.isdigit(),
        }
        if i:
            p = tokens[i - 1]
            f.update({"-1:lower": p.lower(), "-1:title": p.istitle(), "-1:upper": p.isupper()})
        else:
            f["BOS"] = True
        if i + 1 < len(tokens):
            n = tokens[i + 1]
            f.update({"+1:lower": n.lower(), "+1:title": n.istitle(), "+1:upper": n.isupper()})
        else:
            f["EOS"] = True
        out.append(f)
    return out


def crf_rate(train, sentences) -> tuple:
    """Words/s of sklearn-crfsuite tagging ``sentences`` (features made as it tags), or (None, why)."""
    try:
        import sklearn_crfsuite
    except ImportError:
        return None, "n/a (pip install 'windowclf[bench]')"
    crf = sklearn_crfsuite.CRF(algorithm="lbfgs", c1=0.1, c2=0.1, max_iterations=30)
    crf.fit([_crf_features(t) for t, _ in train[:2000]], [tags for _, tags in train[:2000]])
    words = sum(len(t) for t, _ in sentences)
    start = time.perf_counter()
    crf.predict([_crf_features(t) for t, _ in sentences])
    return words / (time.perf_counter() - start), "sklearn-crfsuite, 2,000 sentences, 30 iterations"


# ------------------------------------------------------------------------------ rows
def tagging_rows(quick: bool, models: dict | None = None) -> list:
    """(measure, value, reference, ratio, target, met) rows; ``models``: preset -> model path."""
    conll = os.path.join(data_dir(), "conll2003")
    if not os.path.exists(os.path.join(conll, "eng.train")):
        return [("predict end to end (tagging rows)", "n/a (CoNLL-2003 not found)", "", None, "", None)]
    rows: list = []
    train, dev = _sentences("eng.train"), _sentences("eng.testa")
    with tempfile.TemporaryDirectory() as where:
        models = dict(models or {})
        slice_train = os.path.join(where, "train.conll")
        with open(os.path.join(conll, "eng.train"), encoding="utf-8") as f:
            head = f.read().split("\n\n")[:1500]
        with open(slice_train, "w", encoding="utf-8") as f:
            f.write("\n\n".join(head) + "\n")
        dev_path = os.path.join(conll, "eng.testa")
        presets = ["window-strong"] + (
            ["window-strong-vectors"] if os.path.exists(os.path.join(data_dir(), GLOVE)) else []
        )
        for preset in presets:
            if preset not in models:  # one epoch on a slice: its speed is the preset's
                models[preset] = quick_model(where, preset, slice_train, dev_path, preset)
        models["default"] = quick_model(where, "default", slice_train, dev_path, None)
        text = os.path.join(where, "news.txt")
        raw_file(text, RAW_BYTES // (5 if quick else 1), train + dev)
        columns = os.path.join(where, "news.conll")
        conll_file(columns, RAW_BYTES // (5 if quick else 1))
        load = os.getloadavg()[0]
        rates = {}
        for name in presets + ["default"]:
            r = min((command(models[name], text, where) for _ in range(1 if quick else 2)), key=lambda r: r["seconds"])
            rates[name] = r["rate"]
            goal = TARGETS["default" if name == "default" else "strong"]
            rows.append(
                (
                    f"predict {name}, raw text -> conll, end to end (words/s)",
                    f"{r['rate']:,.0f}/s",
                    f"{r['words']:,} words, {os.path.getsize(text) / 2**20:.1f} MB; load {load:.1f}",
                    None,
                    f">= {goal:,}/s",
                    r["rate"] >= goal,
                )
            )
        for name in presets:
            r = command(models[name], columns, where, "--input", "conll")
            rows.append(
                (
                    f"predict {name}, CoNLL input -> conll, end to end (words/s)",
                    f"{r['rate']:,.0f}/s",
                    f"{r['words']:,} words",
                    None,
                    f">= {TARGETS['strong']:,}/s",
                    r["rate"] >= TARGETS["strong"],
                )
            )
        strong = min(rates[p] for p in presets)
        for label, (rate, why), goal in (
            ("spaCy efficiency NER pipeline", spacy_rate(dev), "spacy"),
            ("sklearn-crfsuite, CoNLL features", crf_rate(train, dev), "crf"),
        ):
            if rate is None:
                rows.append((f"strong presets vs {label} (words/s)", why, "", None, f">= {TARGETS[goal]}x", None))
                continue
            ratio = strong / rate
            rows.append(
                (
                    f"strong presets (slower) vs {label} (words/s)",
                    f"{strong:,.0f}/s",
                    f"{rate:,.0f}/s: {why}",
                    ratio,
                    f">= {TARGETS[goal]:.0f}x",
                    ratio >= TARGETS[goal],
                )
            )
        if "window-strong-vectors" in models:
            big = os.path.join(where, "big.txt")
            line = os.path.join(where, "line.txt")
            raw_file(big, BIG_BYTES // (10 if quick else 1), train + dev)
            raw_file(line, LINE_BYTES // (10 if quick else 1), train + dev, one_line=True)
            for path, what in ((big, "no blank line"), (line, "one line")):
                r = command(models["window-strong-vectors"], path, where, memory=True)
                mb = os.path.getsize(path) / 2**20
                rows.append(
                    (
                        f"predict window-strong-vectors peak memory, {mb:.0f} MB raw file, {what}",
                        f"{r['pss_mb']:.0f} MB",
                        f"{r['processes']} process{'es' * (r['processes'] != 1)}, largest RSS {r['rss_mb']:.0f} MB; "
                        f"{r['rate']:,.0f} words/s",
                        None,
                        f"<= {TARGETS['rss_mb']} MB",
                        r["pss_mb"] <= TARGETS["rss_mb"],
                    )
                )
    return rows
