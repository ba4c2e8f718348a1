"""What the tests share: the repository's paths, the command line (in-process or as a real process),
and builders of small inputs (a synthetic tagging task, an SLL problem, tokenizer texts, raw text
and CoNLL files cut from the sample corpus).

Every test folder imports it as ``support`` (``pythonpath = ["tests"]`` in pyproject.toml). Fixtures
live in the conftest.py files; no test module imports another test module.
"""

from __future__ import annotations

import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from hypothesis import strategies as st

from windowclf.cli.main import main
from windowclf.formats.conll import read_conll
from windowclf.nn import gradcheck

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "data" / "sample"  # the checked-in sample corpus (data/sample)
TEST_DATA = REPO / "tests" / "data"  # small golden files written by the project


# Why a test that needs an optional extra is skipped without it (pytest.importorskip's reason).
PLOT_EXTRA = "matplotlib is not installed: pip install 'windowclf[plot]'"
DASK_EXTRA = "dask[distributed] is not installed: pip install 'windowclf[dask]'"
SPACY_EXTRA = "spaCy is not installed: pip install 'windowclf[spacy]'"
SERVE_EXTRA = "starlette and uvicorn are not installed: pip install 'windowclf[serve]'"
DATASETS_EXTRA = "datasets is not installed: pip install 'windowclf[datasets]'"


def shared_data_dir() -> Path:
    """The real data: $WINDOWCLF_DATA, else ../shared/data beside the repository."""
    return Path(os.environ.get("WINDOWCLF_DATA", REPO.parent / "shared" / "data"))


# ------------------------------------------------------------------------ the command line


def run(*args, input=None, reraise=True):
    """Invoke ``windowclf ARGS`` in-process (click's runner); ``input``: the bytes or text of stdin.

    With ``reraise`` (the default) an unexpected exception fails the test with its traceback;
    without, it stays in ``result.exception`` for the test to look at.
    """
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    if reraise and result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def predict_cli(model, *args) -> bytes:
    """What ``windowclf predict -m MODEL ARGS`` prints, its exit code checked to be 0."""
    result = run("predict", "-m", model, *args, reraise=False)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def start_windowclf(*args, cwd, close=(), **popen) -> subprocess.Popen:
    """Start ``python -m windowclf ARGS`` as a real process, stdout and stderr piped unless given.

    ``close``: descriptors the child starts without; ``popen``: more arguments of Popen
    (``text=True`` for str streams).
    """
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    popen.setdefault("stdout", subprocess.PIPE)
    popen.setdefault("stderr", subprocess.PIPE)

    def start():
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # a parent that ignores SIGINT would pass that on
        for fd in close:
            os.close(fd)

    return subprocess.Popen(
        [sys.executable, "-m", "windowclf", *map(str, args)], cwd=cwd, env=env, preexec_fn=start, **popen
    )


def drain_terminal(leader: int, proc: subprocess.Popen, timeout: float = 60) -> tuple:
    """Read what the process ``proc`` writes to the pseudo-terminal whose leader end is ``leader``
    until it closes, then wait for the process and close ``leader``: (exit code, the bytes)."""
    received = b""
    while True:
        ready, _, _ = select.select([leader], [], [], timeout)
        try:
            chunk = os.read(leader, 65536) if ready else b""
        except OSError:  # the other end is closed
            chunk = b""
        if not chunk:
            break
        received += chunk
    proc.wait(timeout=timeout)
    os.close(leader)
    return proc.returncode, received


def run_windowclf(*args, cwd, **popen) -> tuple:
    """Run ``python -m windowclf ARGS`` to the end: (exit code, stdout, stderr)."""
    proc = start_windowclf(*args, cwd=cwd, **popen)
    out, err = proc.communicate(timeout=120)
    empty = "" if popen.get("text") else b""
    return proc.returncode, out or empty, err or empty


# ------------------------------------------------------------------------ the service

START_SECONDS = 60  # a cold start imports numpy, scipy, starlette and uvicorn on a shared machine
STOP_SECONDS = 30


class Service:
    """A running ``windowclf serve``: its process, its base URL, and its stderr so far."""

    def __init__(self, proc: subprocess.Popen, url: str, banner: str):
        self.proc, self.url, self.banner = proc, url, banner

    def stop(self, sig=signal.SIGTERM) -> tuple:
        """Send ``sig``, wait for the exit (bounded): (exit code, the rest of stderr)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"the service did not stop within {STOP_SECONDS} s of {sig!r}") from None
        return self.proc.returncode, err


def start_service(model, *args) -> Service:
    """Start ``windowclf serve -m MODEL --port 0 ARGS`` and wait for its address line (bounded)."""
    proc = start_windowclf("serve", "-m", model, "--port", "0", *args, cwd=REPO, text=True)
    deadline, seen = time.monotonic() + START_SECONDS, ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 0.5)
        if ready:
            line = proc.stderr.readline()
            seen += line
            found = re.search(r"on (http://\S+) ", line)
            if found:
                return Service(proc, found.group(1), seen)
        if proc.poll() is not None:
            break
    proc.kill()
    _, err = proc.communicate()
    raise AssertionError(f"the service did not start within {START_SECONDS} s: {seen}{err}")


# ------------------------------------------------------------------------ data for the library


# Settings of a small WindowTagger: a few epochs on the sample corpus take a fraction of a second.
TINY_TAGGER = dict(dim=20, hidden=30, seed=0)


def read_sample(name: str) -> tuple:
    """(sentences, tags) of a file of the sample corpus: "train.conll" or "dev.conll"."""
    sentences = list(read_conll(SAMPLE / name))
    return [s.tokens for s in sentences], [s.tags for s in sentences]


def synthetic_task(n_sentences=300, seed=0):
    """Tags that depend on the word AND its neighbours, so the window matters.

    Names (n0..n9) are PER after "mr", ORG after "the", else O; places (p0..p9) are LOC after "in",
    else MISC. Fillers (f0..f19) are O.
    """
    rng = np.random.default_rng(seed)
    names = [f"n{i}" for i in range(10)]
    places = [f"p{i}" for i in range(10)]
    fillers = [f"f{i}" for i in range(20)]
    sentences, tags = [], []
    for _ in range(n_sentences):
        words, labels = [], []
        for _ in range(rng.integers(3, 9)):
            r = rng.random()
            if r < 0.25:
                cue = rng.choice(["mr", "the", "a"])
                words += [cue, rng.choice(names)]
                labels += ["O", {"mr": "PER", "the": "ORG"}.get(cue, "O")]
            elif r < 0.45:
                cue = rng.choice(["in", "at"])
                words += [cue, rng.choice(places)]
                labels += ["O", "LOC" if cue == "in" else "MISC"]
            else:
                words.append(rng.choice(fillers))
                labels.append("O")
        sentences.append(words)
        tags.append(labels)
    return sentences, tags


def sentence_problem(activation="tanh", seed=0, K=4):
    """A float64 network with transition scores and 7 windows in sentences of 3, 1 and 3 words.

    Returns (network, ids, y, lengths, rng), rng for drawing anything else the test needs.
    """
    rng = np.random.default_rng(1)
    net, ids, y, lengths = gradcheck.sentence_problem(
        n_classes=K,
        batch=7,
        lengths=[3, 1, 3],
        rng=rng,
        activation=activation,
        extra_tables=[("E_caps", 5, 2)],
        seed=seed,
    )
    return net, ids, y, lengths, rng


# ------------------------------------------------------------------------ text for the tokenizer

# Pieces the tokenizer's rules turn on: abbreviations, clitics, numbers, quotes, URLs, spaces.
TOKENIZER_PIECES = [
    "Mr.",
    "U.S.",
    "U.S.-led",
    "J.",
    "Inc.",
    "No.",
    "don't",
    "can't",
    "n't",
    "'s",
    "Germany's",
    "Farmers'",
    "O'Brien",
    "1,000.5",
    "3.5",
    ".5",
    "10-15",
    "1996-08-28",
    "+3",
    "year-ago",
    "-",
    "--",
    '"',
    "'",
    "\u2019",
    "\u201c",
    "(",
    ")",
    "%",
    "$",
    "US$",
    "...",
    ".",
    ",",
    "!",
    "?",
    "?!",
    "http://x.org/a.",
    "www.a.com",
    "a@b.com",
    "reuters.com",
    "1.",
    "2. ",
    "The",
    "He",
    "Oslo",
    "said",
    "a",
    "e\u0301",
    "東京",
    "&",
    "S&P",
    "AA+",
    "_",
    "@",
    "#",
    " ",
    "  ",
    "\t",
    "\n",
    "\n\n",
    " \n \n",
    "\r\n",
    "\u00a0",
    "\u2028",
    "\x0b",
    "\u3000",
]
# Texts for the tokenizer: any text, or the pieces above glued with bits of any text.
texts = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(TOKENIZER_PIECES), st.text(max_size=3)), max_size=60).map("".join),
)


# ------------------------------------------------------------------------ files for batch tagging

_BRACKETS = re.compile(r"\[[A-Z]+ |\]")


def sample_sentences() -> list:
    """The sentences of the sample's source.txt, without their entity brackets."""
    lines = (SAMPLE / "source.txt").read_text(encoding="utf-8").splitlines()
    return [_BRACKETS.sub("", line).strip() for line in lines if line.strip() and not line.startswith("#")]


def make_text(n_bytes: int, seed: int = 0, crlf: bool = False, bom: bool = False) -> bytes:
    """Raw text of the sample's sentences, in paragraphs, at least ``n_bytes`` long (UTF-8)."""
    rng, sentences = random.Random(seed), sample_sentences()
    newline = "\r\n" if crlf else "\n"
    out, size = ["\ufeff"] if bom else [], 0
    while size < n_bytes:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.2:
            paragraph = paragraph.replace(" . ", " ." + newline, 1)  # a line break inside the paragraph
        gap = rng.choice([newline * 2, newline * 2, newline + " " + newline, newline * 3])
        if rng.random() < 0.02:
            paragraph += " Zoë visited Malmö ."
        out.append(paragraph + gap)
        size += len(paragraph) + len(gap)
    return "".join(out).encode("utf-8")


def make_conll(n_bytes: int, separator: str = " ") -> bytes:
    """The sample's train.conll, repeated with -DOCSTART- lines until at least ``n_bytes``."""
    one = (SAMPLE / "train.conll").read_bytes()
    if separator != " ":
        one = one.replace(b" ", separator.encode())
    docstart = f"-DOCSTART-{separator}O\n\n".encode()
    return docstart + (one.rstrip(b"\n") + b"\n\n" + docstart) * (n_bytes // len(one) + 1)
