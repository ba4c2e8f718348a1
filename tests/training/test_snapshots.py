"""Snapshots of the weights hold only the rows training can change; model files hold L once."""

from __future__ import annotations

import numpy as np
import pytest

from windowclf import WindowTagger, WordVectors
from windowclf.models.container import load_model_file, save_model_file
from windowclf.training.snapshots import Patch, Snapshot

SENTS = [["Anna", "lives", "in", "Oslo", "."], ["Lyon", "is", "far", "."]] * 10
TAGS = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"]] * 10


def _vectors(n=3000, dim=16):
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(n)] + ["anna", "lives", "in", "oslo", "lyon", "is", "far", "."]
    return WordVectors(words, rng.normal(size=(len(words), dim)).astype(np.float32))


def _tagger(**settings):
    return WindowTagger(**{"dim": 16, "hidden": 6, "epochs": 2, "seed": 0, "keep_pretrained_vocab": True, **settings})


def test_a_snapshot_restores_what_it_copied_and_reads_back_whole():
    rng = np.random.default_rng(0)
    params = {"L": rng.normal(size=(6, 2)), "W": rng.normal(size=(2, 2))}
    before = {k: v.copy() for k, v in params.items()}
    snap = Snapshot(params, {"L": np.array([1, 4])})
    params["L"][[1, 4]] += 1.0
    params["W"] += 1.0
    assert snap.full(params)["L"].tobytes() == before["L"].tobytes()
    snap.restore(params)
    assert all(params[k].tobytes() == before[k].tobytes() for k in params)
    assert snap.full(params)["L"] is params["L"]  # nothing to patch: the live table itself


def test_a_patch_reads_its_rows_and_refuses_others():
    patch = Patch(np.array([2, 5]), np.array([[1.0], [2.0]]))
    assert patch[np.array([5, 2, 5])].ravel().tolist() == [2.0, 1.0, 2.0]
    with pytest.raises(KeyError):
        patch[np.array([3])]
    grown = patch.extended(np.arange(8.0)[:, None], np.array([0, 5, 7]))
    assert grown.rows.tolist() == [0, 2, 5, 7] and grown.values.ravel().tolist() == [0.0, 1.0, 2.0, 7.0]


def test_training_snapshots_copy_only_the_rows_training_can_change():
    tagger = _tagger().fit(SENTS, TAGS, embeddings=_vectors())
    full = sum(a.nbytes for a in tagger.network.params.values())
    assert tagger.training_state.params.nbytes < 0.05 * full  # 3,000 pretrained rows, 7 trained ones
    assert tagger.initial_patch.nbytes < 0.05 * tagger.network.params["L"].nbytes


def test_momentum_moves_every_row_so_its_snapshots_copy_every_row():
    tagger = _tagger(optimizer="momentum").fit(SENTS, TAGS, embeddings=_vectors())
    assert not tagger.training_state.params.patches
    assert len(tagger.initial_patch.rows) == len(tagger.vocab)


def test_a_model_file_holds_L_once_beside_its_training_state(tmp_path):
    tagger = _tagger().fit(SENTS, TAGS, dev=(SENTS[:4], TAGS[:4]), embeddings=_vectors(n=20000))
    tagger.save(tmp_path / "with.npz")
    tagger.save(tmp_path / "without.npz", include_state=False)
    arrays, meta = load_model_file(tmp_path / "with.npz")
    assert "state/param/L" not in arrays and len(arrays["state/rows/L"]) == meta["state"]["rows"]["L"] <= 10
    params = sum(a.nbytes for name, a in arrays.items() if name.startswith("param/"))
    extra = (tmp_path / "with.npz").stat().st_size - (tmp_path / "without.npz").stat().st_size
    assert extra < 0.02 * params


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "momentum"])
def test_two_epochs_then_resume_to_four_equals_four_in_one_go_with_pretrained_vectors(tmp_path, optimizer):
    dev = (SENTS[:4], TAGS[:4])
    vectors = _vectors()
    settings = dict(optimizer=optimizer, l2_embeddings=0.1, dropout_input=0.2)
    whole = _tagger(epochs=4, **settings).fit(SENTS, TAGS, dev=dev, embeddings=vectors)
    _tagger(epochs=2, **settings).fit(SENTS, TAGS, dev=dev, embeddings=vectors).save(tmp_path / "m.npz")
    resumed = WindowTagger.load(tmp_path / "m.npz").set_params(epochs=4).fit(SENTS, TAGS, dev=dev, resume=True)
    for name, arr in whole.network.params.items():
        assert resumed.network.params[name].tobytes() == arr.tobytes(), name
    assert resumed.initial_vectors.tobytes() == whole.initial_vectors.tobytes()
    resumed.save(tmp_path / "r.npz")
    whole.save(tmp_path / "w.npz")
    assert load_model_file(tmp_path / "r.npz")[0].keys() == load_model_file(tmp_path / "w.npz")[0].keys()


def test_a_file_with_the_whole_state_matrix_still_resumes(tmp_path):
    dev = (SENTS[:4], TAGS[:4])
    _tagger(epochs=2).fit(SENTS, TAGS, dev=dev, embeddings=_vectors()).save(tmp_path / "m.npz")
    arrays, meta = load_model_file(tmp_path / "m.npz")
    for name in meta["state"].pop("rows"):  # as files before snapshots wrote them: whole tables
        patch = Patch(arrays.pop(f"state/rows/{name}"), arrays.pop(f"state/values/{name}"))
        arrays[f"state/param/{name}"] = patch.applied(arrays[f"param/{name}"])
    save_model_file(tmp_path / "old.npz", arrays, {k: v for k, v in meta.items() if k != "format_version"})
    new = WindowTagger.load(tmp_path / "m.npz").set_params(epochs=3).fit(SENTS, TAGS, dev=dev, resume=True)
    old = WindowTagger.load(tmp_path / "old.npz").set_params(epochs=3).fit(SENTS, TAGS, dev=dev, resume=True)
    for name, arr in new.network.params.items():
        assert old.network.params[name].tobytes() == arr.tobytes(), name
