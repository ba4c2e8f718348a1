"""What ``predict`` holds does not grow with the file: a file without blank lines and a file of one huge
line take about the memory of a file a quarter of their size (before segments were bounded, raw text
without blank lines was one segment and one document: 424 MB of peak RSS for 2 MB)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import REPO, SAMPLE, sample_sentences

from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

# The command, run as a user runs it, printing its own peak RSS (VmHWM) to stderr as it exits.
_PREDICT = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    status = open('/proc/self/status').read().split('VmHWM:')\n"
    "    sys.stderr.write('HWM ' + status[1].split()[0] + '\\n')\n"
    "atexit.register(_hwm)\n"
    "from windowclf.cli.main import main\n"
    "main(prog_name='windowclf')\n"
)


@pytest.fixture(scope="module")
def reading_model(tmp_path_factory):
    """A model that reads whole documents (document case, the vote): what used to hold a file whole."""
    train = list(read_conll(SAMPLE / "train.conll"))
    path = tmp_path_factory.mktemp("model") / "doc.npz"
    WindowTagger(
        dim=16, hidden=20, epochs=1, seed=0, features=["caps", "doccase"], decoder="sll", scheme="IOBES", doc_vote=2.0
    ).fit([s.tokens for s in train], [s.tags for s in train]).save(path)
    return path


def _text(n_bytes: int, one_line: bool) -> bytes:
    lines, out, size, i = sample_sentences(), [], 0, 0
    while size < n_bytes:
        out.append(lines[i % len(lines)] + (" " if one_line else "\n"))
        size, i = size + len(out[-1]), i + 1
    return "".join(out).encode("utf-8")


def _peak_mb(model, path) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", _PREDICT, "predict", "--jobs", "1", "-m", str(model), str(path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        check=True,
        timeout=600,
    )
    return int(proc.stderr.split("HWM ")[-1].split()[0]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("one_line", [False, True], ids=["no-blank-lines", "one-line"])
@pytest.mark.parametrize(
    "small,large",
    [pytest.param(1.5, 6.0, marks=pytest.mark.slow, id="1.5-6MB"), pytest.param(0.6, 2.4, id="0.6-2.4MB")],
)
def test_peak_memory_does_not_grow_with_a_file_without_blank_lines(reading_model, tmp_path, one_line, small, large):
    sizes = {}
    for name, megabytes in (("small", small), ("large", large)):
        path = tmp_path / f"{name}.txt"
        path.write_bytes(_text(int(megabytes * 2**20), one_line))
        sizes[name] = _peak_mb(reading_model, path)
    # 4x the text, and not 25 MB more (unbounded, it was hundreds of MB more)
    assert sizes["large"] - sizes["small"] < 25, sizes
