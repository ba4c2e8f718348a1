"""Every size a model file asks for is checked against memory before it is allocated (issue 30,
class 4): its metadata text, the JSON values in it, its gazetteer, its tag count (the decoder's
K x K tables), and the models of an ensemble together.

Each case is a small file that asks for much; each command runs as its own process under an
address-space limit (``ulimit -v``), so an unchecked allocation would end in "out of memory" (or
be killed) instead of the one ``Error:`` line saying what would need how much.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from windowclf.cli.main import main
from windowclf.models.container import load_model_file

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
# The address space a command may take, the interpreter and its libraries (about 200 MB) included.
ADDRESS_SPACE = 2 * 2**30

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="runs commands under ulimit -v (POSIX)")


def windowclf(args, cwd, stdin=b""):
    """Run the command under the address-space limit; (exit code, stderr, its peak RSS in bytes)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OPENBLAS_NUM_THREADS": "1"}

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    with open(cwd / "stdin", "wb") as f:
        f.write(stdin)
    with open(cwd / "stdin", "rb") as given, open(cwd / "stderr", "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "windowclf", *map(str, args)],
            cwd=cwd,
            env=env,
            stdin=given,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=limit,
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak, not the test process's
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, (cwd / "stderr").read_text(), usage.ru_maxrss * 1024


def _write_model(path: Path, arrays: dict, meta: dict) -> None:
    """A model file whose arrays are deflated (zeros deflate to nearly nothing): small on disk."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", json.dumps(meta))
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            z.writestr(name + ".npy", buf.getvalue())


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    where = tmp_path_factory.mktemp("memory")
    train = "\n\n".join((SAMPLE / "train.conll").read_text().strip("\n").split("\n\n")[:30]) + "\n"
    (where / "train.conll").write_text(train)
    common = ["--epochs", "1", "--hidden", "4", "--dim", "3", "--min-count", "1", "--no-progress", "--slim"]
    for name, extra in (("plain.npz", []), ("gaz.npz", ["--features", "caps,gazetteer"])):
        result = CliRunner().invoke(
            main, ["train", str(where / "train.conll"), "-o", str(where / name), *common, *extra]
        )
        assert result.exit_code == 0, result.output
    return where


def _contract(code, err):
    lines = err.splitlines()
    assert code in (0, 2), err
    assert "Traceback" not in err and "out of memory" not in err and "MemoryError" not in err, err
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "of memory;" in lines[0], err


@pytest.mark.slow
def test_metadata_of_megabytes_of_whitespace_is_read_in_bounded_memory(trained, tmp_path):
    arrays, meta = load_model_file(trained / "plain.npz")
    text = json.dumps(meta)
    with zipfile.ZipFile(tmp_path / "ws.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("metadata.json", text[:-1] + " " * 60_000_000 + "}")
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, arr)
            z.writestr(name + ".npy", buf.getvalue())
    assert (tmp_path / "ws.npz").stat().st_size < 1_000_000
    code, err, peak = windowclf(["info", "ws.npz"], tmp_path)
    _contract(code, err)
    assert code == 0 and peak < 600 * 2**20, (peak, err)  # 1.1 GB before: the scan held int64 per byte


@pytest.mark.slow
def test_a_gazetteer_that_asks_for_more_than_there_is_is_refused(trained, tmp_path):
    arrays, meta = load_model_file(trained / "gaz.npz")
    types = meta["gazetteer"]["types"]
    meta["gazetteer"]["entries"] = [[[f"w{i}"], {types[0]: 1}] for i in range(1_500_000)]
    _write_model(tmp_path / "gaz.npz", arrays, meta)
    assert (tmp_path / "gaz.npz").stat().st_size < 20_000_000
    for args in (["info", "gaz.npz"], ["predict", "-m", "gaz.npz"]):
        code, err, _ = windowclf(args, tmp_path, b"Anna flew to Oslo.\n")
        _contract(code, err)
        assert code == 2 and "gaz.npz: " in err, err


def test_thousands_of_tags_are_refused_before_the_decoders_tables_are_made(trained, tmp_path):
    arrays, meta = load_model_file(trained / "plain.npz")
    k, hidden = 7501, meta["settings"]["hidden"]
    meta["tags"] = ["O", *(f"T{i}" for i in range(k - 1))]
    arrays["param/W2"] = np.zeros((k, hidden), np.float32)
    arrays["param/b2"] = np.zeros(k, np.float32)
    _write_model(tmp_path / "k.npz", arrays, meta)
    code, err, _ = windowclf(["predict", "-m", "k.npz"], tmp_path, b"Anna flew to Oslo.\n")
    _contract(code, err)
    assert code == 2 and "k.npz: decoding its 7,501 tags would need" in err, err


@pytest.mark.slow
def test_an_ensemble_of_models_each_small_enough_is_checked_as_a_whole(trained, tmp_path):
    arrays, meta = load_model_file(trained / "plain.npz")
    rows = arrays["param/L"].shape[0]
    dim = (200 * 2**20) // (4 * rows)  # each model's L: 200 MB of zeros, deflated to almost nothing
    meta["settings"]["dim"] = dim
    arrays["param/L"] = np.zeros((rows, dim), np.float32)
    window = meta["settings"]["window"]
    width = dim + sum(arrays[n].shape[1] for n in arrays if n.startswith("param/E_"))
    arrays["param/W1"] = np.zeros((meta["settings"]["hidden"], window * width), np.float32)
    _write_model(tmp_path / "wide.npz", arrays, meta)
    code, err, _ = windowclf(["info", "wide.npz"], tmp_path)
    assert code == 0, err  # one fits
    copies = ADDRESS_SPACE // (rows * dim * 4) + 2
    code, err, _ = windowclf(["ensemble", "-o", "ens.npz", *["wide.npz"] * copies], tmp_path)
    _contract(code, err)
    assert code == 2 and f"the arrays of {copies} model files together would need" in err, err
    assert not (tmp_path / "ens.npz").exists()
