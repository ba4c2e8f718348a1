"""Training a user can trust (library level): divergence, determinism, resume, Ctrl-C."""

import numpy as np
import pytest
from support import synthetic_task

from windowclf import WindowTagger
from windowclf.errors import DivergenceError


def test_divergence_stops_with_a_clear_error_and_keeps_finite_weights():
    sentences, tags = synthetic_task(100)
    tagger = WindowTagger(epochs=3, lr=1e30, hidden=10, dim=5, seed=0, activation="relu")
    with pytest.raises(DivergenceError, match="lower the learning rate"):
        tagger.fit(sentences, tags)
    for name, arr in tagger.network.params.items():
        assert np.all(np.isfinite(arr)), name


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
