"""Guarantees: interrupted saves, divergence, determinism, resume (library level)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from conftest import REPO
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tagger import synthetic_task

from windowclf import WindowTagger
from windowclf.errors import DivergenceError, ModelFileError
from windowclf.features.windows import window_ids
from windowclf.models.container import save_model_file


def test_sigkill_during_save_leaves_the_previous_model_intact(tmp_path):
    model = tmp_path / "model.npz"
    sentences, tags = synthetic_task(40)
    WindowTagger(epochs=1, hidden=5, dim=4, seed=0).fit(sentences, tags).save(model)
    before = model.read_bytes()
    # A child writes a large (~400 MB uncompressed) file to the same path; kill it mid-write.
    child = textwrap.dedent(f"""
        import sys, numpy as np
        sys.path.insert(0, {str(REPO)!r})
        from windowclf.models.container import save_model_file
        print("saving", flush=True)
        big = np.random.default_rng(0).normal(size=(50_000_000,))
        save_model_file({str(model)!r}, {{"param/L": big}}, {{"settings": {{}}}})
    """)
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "saving"
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.endswith(".tmp") for p in tmp_path.iterdir()):
        time.sleep(0.01)
    assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), "the save never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert model.read_bytes() == before
    WindowTagger.load(model)  # still loadable


def test_divergence_stops_with_a_clear_error_and_keeps_finite_weights():
    sentences, tags = synthetic_task(100)
    tagger = WindowTagger(epochs=3, lr=1e30, hidden=10, dim=5, seed=0, activation="relu")
    with pytest.raises(DivergenceError, match="lower the learning rate"):
        tagger.fit(sentences, tags)
    for name, arr in tagger.network.params.items():
        assert np.all(np.isfinite(arr)), name


def test_non_finite_weights_are_never_written(tmp_path):
    with pytest.raises(DivergenceError, match="NaN or inf"):
        save_model_file(tmp_path / "m.npz", {"param/W1": np.array([1.0, np.nan])}, {})
    assert not os.path.exists(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_same_data_settings_and_seed_give_a_byte_identical_model_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the provenance's time (reproducible builds)
    sentences, tags = synthetic_task(60)
    for name in ("a.npz", "b.npz"):
        WindowTagger(epochs=2, hidden=6, dim=4, seed=11).fit(sentences, tags).save(tmp_path / name)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.parametrize(
    "optimizer, features",
    [("sgd", ["caps"]), ("momentum", ["caps"]), ("adagrad", ["caps"]), ("sgd", ["caps", "gazetteer"])],
)
def test_interrupted_then_resumed_run_ends_where_an_uninterrupted_run_would(tmp_path, optimizer, features):
    sentences, tags = synthetic_task(80)
    documents = [i // 10 for i in range(len(sentences))]  # the gazetteer leaves each one's own entities out
    dev = synthetic_task(20, seed=1)
    common = dict(hidden=6, dim=4, seed=5, optimizer=optimizer, lr=0.05, lr_decay=0.1, features=features)
    straight = WindowTagger(epochs=4, **common).fit(sentences, tags, dev=dev, documents=documents)
    first = WindowTagger(epochs=2, **common).fit(sentences, tags, dev=dev, documents=documents)
    first.save(tmp_path / "half.npz")
    resumed = WindowTagger.load(tmp_path / "half.npz")
    resumed.settings.epochs = 4
    resumed.fit(sentences, tags, dev=dev, documents=documents, resume=True)
    for name in straight.network.params:
        assert np.array_equal(resumed.network.params[name], straight.network.params[name]), name
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in straight.history]
    assert resumed.best == straight.best


def test_keyboard_interrupt_restores_the_best_epoch(tmp_path):
    from windowclf.training.loop import Callback

    class Interrupt(Callback):
        def __init__(self):
            self.epochs = 0

        def on_epoch_end(self, result):
            self.epochs += 1

        def on_batch_end(self, done, total):
            if self.epochs == 2 and done > total // 2:
                raise KeyboardInterrupt

    sentences, tags = synthetic_task(80)
    tagger = WindowTagger(epochs=5, hidden=6, dim=4, seed=1)
    with pytest.raises(KeyboardInterrupt):
        tagger.fit(sentences, tags, callbacks=[Interrupt()])
    assert tagger.best["epoch"] == 2
    tagger.save(tmp_path / "m.npz")
    again = WindowTagger(epochs=2, hidden=6, dim=4, seed=1).fit(sentences, tags)
    for name, arr in again.network.params.items():
        assert np.array_equal(tagger.network.params[name], arr), name


def test_truncated_model_file_is_refused(tmp_path):
    sentences, tags = synthetic_task(20)
    path = tmp_path / "m.npz"
    WindowTagger(epochs=1, hidden=4, dim=3).fit(sentences, tags).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="m.npz"):
        WindowTagger.load(path)


def test_object_array_model_is_refused_without_unpickling(tmp_path):
    import pickle
    import zipfile

    class Boom:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "PWNED"),))

    path = tmp_path / "evil.npz"
    arr = np.empty(1, dtype=object)
    arr[0] = Boom()
    np.savez(path, **{"param/L": arr})
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("metadata.json", '{"format_version": 1}')
    assert pickle  # the payload would run on unpickling
    with pytest.raises(ModelFileError, match="not a plain numeric array"):
        WindowTagger.load(path)
    assert not (tmp_path / "PWNED").exists()


def test_model_from_a_newer_format_version_is_refused(tmp_path):
    import zipfile

    path = tmp_path / "future.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("metadata.json", '{"format_version": 99}')
    with pytest.raises(ModelFileError, match="version 99 is newer"):
        WindowTagger.load(path)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=6), st.sampled_from([1, 3, 5, 7]))
def test_windows_are_padded_only_at_sentence_edges(lengths, window):
    START, END = -1, -2
    sentences, next_id = [], 0
    for n in lengths:
        sentences.append(np.arange(next_id, next_id + n))
        next_id += n
    ids = window_ids(sentences, window, START, END)
    h = window // 2
    row = 0
    for sent in sentences:
        for t in range(len(sent)):
            for j in range(-h, h + 1):
                expected = START if t + j < 0 else END if t + j >= len(sent) else sent[t + j]
                assert ids[row, j + h] == expected
            row += 1
    assert row == ids.shape[0]
