"""The chunked, threaded forward pass of tagging (scoring.chunked_scores) against
``WindowNetwork.scores`` chunk by chunk, bit for bit."""

import numpy as np
import pytest

from windowclf.inference.scoring import chunked_scores
from windowclf.nn.network import WindowNetwork


def _network(dtype, activation, output, caps):
    tables = [("L", 50, 8)] + ([("E_caps", 4, 3)] if caps else [])
    K = 1 if output == "sigmoid" else 5
    net = WindowNetwork(tables, 3, 30, K, activation=activation, output=output, dtype=dtype, seed=1)
    net.params["W1"] *= 3  # both sides of relu's and hardtanh's kinks
    net.params["b1"][:] = np.linspace(-1, 1, 30)
    net.params["b2"][:] = 0.5
    return net


def _windows(net, n, seed=0):
    rng = np.random.default_rng(seed)
    ids = (rng.integers(0, 50, size=(n, 3)),)
    ids[0][:5] = 7  # the same word in every slot
    if len(net.table_names) > 1:
        ids += (rng.integers(0, 4, size=(n, 3)),)
    return ids


def _reference(net, ids, chunk):
    return np.concatenate([net.scores(tuple(i[s : s + chunk] for i in ids)) for s in range(0, len(ids[0]), chunk)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "hardtanh"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
@pytest.mark.parametrize("caps", [False, True])
def test_chunked_scores_equal_network_scores_chunk_by_chunk(dtype, activation, output, caps):
    net = _network(dtype, activation, output, caps)
    ids = _windows(net, 1000)
    for chunk, threads in [(256, 1), (256, 2), (300, 3), (1000, 2), (4096, 2), (7, 2)]:
        got = chunked_scores(net, ids, chunk, threads)
        assert got.dtype == dtype
        assert got.tobytes() == _reference(net, ids, chunk).tobytes(), (chunk, threads)


def test_last_short_chunk_and_empty_input():
    net = _network(np.float32, "tanh", "softmax", False)
    ids = _windows(net, 2 * 2048 + 1)  # a last chunk of one window: BLAS takes another route there
    assert chunked_scores(net, ids, 2048, 2).tobytes() == _reference(net, ids, 2048).tobytes()
    empty = (np.zeros((0, 3), dtype=np.int64),)
    assert chunked_scores(net, empty, 2048, 2).shape == (0, 5)


def test_out_of_range_ids_raise_as_in_network_scores():
    net = _network(np.float32, "tanh", "softmax", False)
    ids = _windows(net, 10)
    ids[0][3, 1] = 50
    with pytest.raises(IndexError):
        net.scores(ids)
    with pytest.raises(IndexError):
        chunked_scores(net, ids, 4, 2)


def test_tagger_predictions_do_not_depend_on_the_threads(monkeypatch):
    import windowclf.inference.prediction as tagger_module
    from windowclf import WindowTagger

    sents = [["Anna", "lives", "in", "Oslo", "."], ["Oslo", "is", "cold", "."]] * 800
    tags = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"]] * 800
    tagger = WindowTagger(epochs=1, seed=0).fit(sents[:40], tags[:40])
    monkeypatch.setattr(tagger_module, "_SCORE_THREADS", 2)
    two = tagger.scores(sents)
    monkeypatch.setattr(tagger_module, "_SCORE_THREADS", 1)
    one = tagger.scores(sents)
    assert one.tobytes() == two.tobytes()
    inputs = tagger.encode(sents)
    assert one.tobytes() == _reference(tagger.network, inputs, tagger_module._PREDICT_CHUNK).tobytes()


def test_a_subclass_of_the_network_keeps_its_own_scores():
    class Doubled(WindowNetwork):
        def scores(self, ids):
            return 2 * super().scores(ids)

    net = Doubled([("L", 50, 8)], 3, 30, 5, seed=1)
    ids = _windows(net, 100)
    assert chunked_scores(net, ids, 32, 2).tobytes() == _reference(net, ids, 32).tobytes()
