"""Guarantees of ``windowclf train`` as a real process: Ctrl-C, crashes, divergence, determinism, resume.

Each test runs ``python -m windowclf.cli.main`` in a subprocess and sends real signals. (The closed
output pipe of ``predict ... | head -1`` is covered by
tests/cli/test_cli.py::test_predict_into_a_closed_pipe_exits_quietly.)
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
from support import SAMPLE, run_windowclf, start_windowclf

from windowclf.models.container import load_model_file
from windowclf.models.tagger import WindowTagger

pytestmark = pytest.mark.slow  # each test trains in real processes

SMALL = [
    "--hidden",
    "20",
    "--dim",
    "20",
    "--seed",
    "3",
    "--optimizer",
    "adagrad",
    "--lr",
    "0.05",
    "--lr-decay",
    "0.1",
    "--no-progress",
]
# Per-example updates make an epoch long enough (~0.5 s) for a signal to land inside the next one.
SLOW = [*SMALL, "--batch-size", "1"]


def train_ok(*args, cwd):
    code, out, err = run_windowclf("train", *args, cwd=cwd, text=True)
    assert code == 0, err
    return out


def signal_after(proc, prefix: str, sig) -> list:
    """Read stdout until a line starts with ``prefix``, send ``sig``; return the lines read."""
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(prefix):
            proc.send_signal(sig)
            return lines
    raise AssertionError(f"no line starting with {prefix!r}; stderr: {proc.stderr.read()}")


def log_records(model: Path) -> list:
    with open(f"{model}.log.jsonl", encoding="utf-8") as log:
        return [json.loads(line) for line in log]


def log_epochs(model: Path) -> list:
    return [record["epoch"] for record in log_records(model)]


def assert_same_model(a: Path, b: Path):
    """Every array of the two model files equal, and the same history, best epoch and state."""
    arrays_a, meta_a = load_model_file(a)
    arrays_b, meta_b = load_model_file(b)
    assert sorted(arrays_a) == sorted(arrays_b)
    for name in arrays_a:
        assert np.array_equal(arrays_a[name], arrays_b[name]), name
    for key in ("history", "best", "state", "settings"):
        assert meta_a.get(key) == meta_b.get(key), key
    tagger_a, tagger_b = WindowTagger.load(a), WindowTagger.load(b)
    for name, arr in tagger_b.network.params.items():
        assert np.array_equal(tagger_a.network.params[name], arr), name


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """train.conll, dev.conll, and dev_all_o.conll: the dev words with every tag O.

    On an all-O dev set the entity F1 is 0 every epoch, so epoch 1 stays the best and every later
    epoch is one without improvement, whatever the training does.
    """
    where = tmp_path_factory.mktemp("data")
    lines = (SAMPLE / "dev.conll").read_text(encoding="utf-8").splitlines()
    all_o = [" ".join(line.split()[:-1] + ["O"]) if line.strip() else "" for line in lines]
    (where / "dev_all_o.conll").write_text("\n".join(all_o) + "\n", encoding="utf-8")
    return {"train": SAMPLE / "train.conll", "dev": SAMPLE / "dev.conll", "dev_all_o": where / "dev_all_o.conll"}


# --------------------------------------------------------------------------- Ctrl-C


def test_sigint_during_training_exits_130_with_one_line_and_keeps_the_best_epoch(data, tmp_path):
    model = tmp_path / "m.npz"
    proc = start_windowclf(
        "train", data["train"], "--dev", data["dev"], "-o", model, "--epochs", 40, *SMALL, cwd=tmp_path, text=True
    )
    signal_after(proc, "epoch", signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)

    assert proc.returncode == 130, stderr
    assert len(stderr.splitlines()) == 1 and stderr.startswith("Interrupted: "), stderr
    assert "Traceback" not in stderr
    records = log_records(model)
    best = max(records, key=lambda r: r["dev"]["f1"])["epoch"]  # the first of equal bests, as training keeps
    tagger = WindowTagger.load(model)
    assert [h["epoch"] for h in tagger.history] == [r["epoch"] for r in records]
    assert tagger.best["epoch"] == best
    reference = tmp_path / "reference.npz"
    train_ok(data["train"], "--dev", data["dev"], "-o", reference, "--epochs", best, *SMALL, cwd=tmp_path)
    for name, arr in WindowTagger.load(reference).network.params.items():
        assert np.array_equal(tagger.network.params[name], arr), name


# ------------------------------------------------------------------------- divergence


def _all_finite(path: Path) -> bool:
    arrays, _ = load_model_file(path)  # itself refuses NaN and inf
    return all(np.all(np.isfinite(a)) for a in arrays.values() if a.dtype.kind == "f")


def test_divergence_stops_with_one_line_exit_1_and_leaves_the_previous_model(data, tmp_path):
    model = tmp_path / "m.npz"
    train_ok(data["train"], "-o", model, "--epochs", 1, *SMALL, "--activation", "relu", cwd=tmp_path)
    before = model.read_bytes()

    code, _, err = run_windowclf(
        "train",
        data["train"],
        "-o",
        model,
        "--epochs",
        3,
        *SMALL,
        "--activation",
        "relu",
        "--lr",
        "1e30",
        cwd=tmp_path,
        text=True,
    )

    assert code == 1, err
    assert len(err.splitlines()) == 1 and err.startswith("Error: "), err
    assert "lower the learning rate" in err and "Traceback" not in err
    assert model.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".npz"] == ["m.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert _all_finite(model)


def test_divergence_when_resuming_keeps_the_last_good_model_untouched(data, tmp_path):
    model = tmp_path / "m.npz"
    train_ok(data["train"], "-o", model, "--epochs", 2, *SMALL, "--activation", "relu", cwd=tmp_path)
    before = model.read_bytes()

    code, _, err = run_windowclf(
        "train",
        data["train"],
        "--resume",
        model,
        "--epochs",
        4,
        "--lr",
        "1e30",
        "--no-progress",
        cwd=tmp_path,
        text=True,
    )

    assert code == 1, err
    assert len(err.splitlines()) == 1 and "lower the learning rate" in err, err
    assert model.read_bytes() == before  # not even its settings rewritten with --lr 1e30
    assert _all_finite(model)
    log = Path(f"{model}.log.jsonl").read_text(encoding="utf-8")
    assert log_epochs(model) == [1, 2] and "NaN" not in log and "Infinity" not in log


# ------------------------------------------------------------------------ determinism


def test_training_twice_with_the_same_seed_gives_byte_identical_model_files(data, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the provenance's time (reproducible builds)
    for name in ("a.npz", "b.npz"):
        train_ok(data["train"], "--dev", data["dev"], "-o", name, "--epochs", 2, *SMALL, cwd=tmp_path)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


# ----------------------------------------------------------------------------- resume


@pytest.mark.parametrize(
    "dev, patience, epochs", [("dev", 2, None), ("dev_all_o", 2, [1, 2, 3])], ids=["dev", "patience-stops-at-3"]
)
def test_two_epochs_then_resume_to_four_equals_four_in_one_go(data, tmp_path, dev, patience, epochs):
    common = ["--dev", data[dev], "--patience", patience, *SMALL]
    train_ok(data["train"], "-o", "a.npz", "--epochs", 2, *common, cwd=tmp_path)
    train_ok(
        data["train"],
        "--resume",
        "a.npz",
        "--epochs",
        4,
        "-o",
        "a.npz",
        "--dev",
        data[dev],
        "--no-progress",
        cwd=tmp_path,
    )
    train_ok(data["train"], "-o", "b.npz", "--epochs", 4, *common, cwd=tmp_path)

    assert_same_model(tmp_path / "a.npz", tmp_path / "b.npz")
    assert log_epochs(tmp_path / "a.npz") == log_epochs(tmp_path / "b.npz")
    if epochs is not None:
        assert log_epochs(tmp_path / "b.npz") == epochs


def test_resuming_a_run_that_patience_stopped_is_refused_and_changes_nothing(data, tmp_path):
    # patience 1 on the all-O dev set: training stops after epoch 2, the end of the first run
    common = ["--dev", data["dev_all_o"], "--patience", 1, *SMALL]
    train_ok(data["train"], "-o", "a.npz", "--epochs", 2, *common, cwd=tmp_path)
    before = (tmp_path / "a.npz").read_bytes()

    code, _, err = run_windowclf(
        "train",
        data["train"],
        "--resume",
        "a.npz",
        "--epochs",
        4,
        "--dev",
        data["dev_all_o"],
        "--no-progress",
        cwd=tmp_path,
        text=True,
    )

    assert code == 2, err
    assert len(err.splitlines()) == 1 and "--patience" in err, err
    assert (tmp_path / "a.npz").read_bytes() == before
    train_ok(data["train"], "-o", "b.npz", "--epochs", 4, *common, cwd=tmp_path)
    assert log_epochs(tmp_path / "b.npz") == [1, 2]  # the run in one go stopped there too


@pytest.fixture(scope="module")
def straight(data, tmp_path_factory):
    """A 4-epoch run in one go on the all-O dev set (the best epoch is 1, never the last)."""
    where = tmp_path_factory.mktemp("straight")
    train_ok(data["train"], "--dev", data["dev_all_o"], "-o", "b.npz", "--epochs", 4, *SLOW, cwd=where)
    return where / "b.npz"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_run_killed_in_epoch_3_resumes_to_where_the_uninterrupted_run_ends(data, tmp_path, straight, sig):
    model = tmp_path / "a.npz"
    proc = start_windowclf(
        "train", data["train"], "--dev", data["dev_all_o"], "-o", model, "--epochs", 4, *SLOW, cwd=tmp_path, text=True
    )
    signal_after(proc, "epoch 2/4", sig)
    proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL)

    # SIGKILL: the file holds the best epoch (1) with its own training state, since it is saved
    # only when dev F1 improves (Ctrl-C saves the last epoch's state on the way out); the log has
    # every finished epoch. Resuming replays epoch 2 from epoch 1's state, exactly.
    interrupted = WindowTagger.load(model)
    expected = [1, 2] if sig == signal.SIGINT else [1]
    assert [h["epoch"] for h in interrupted.history] == expected
    assert interrupted.best["epoch"] == 1
    assert log_epochs(model) == [1, 2]

    train_ok(data["train"], "--resume", model, "--epochs", 4, "--dev", data["dev_all_o"], "--no-progress", cwd=tmp_path)
    assert_same_model(model, straight)
    assert log_epochs(model) == [1, 2, 3, 4]
