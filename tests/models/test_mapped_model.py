"""A model file's large arrays are mapped from the file (models.container), not read: the same model,
the same checks (CRC, NaN), the file never written, and only the rows read in memory."""

from __future__ import annotations

import struct
import zipfile

import numpy as np
import pytest
from support import SAMPLE

from windowclf.errors import ModelFileError
from windowclf.formats.conll import read_conll
from windowclf.models.ensemble import load_any
from windowclf.models.tagger import WindowTagger


@pytest.fixture(scope="module")
def big_model(tmp_path_factory):
    """A model whose L (120,000 rows of 40) is over the size that is mapped."""
    train = list(read_conll(SAMPLE / "train.conll"))
    tagger = WindowTagger(dim=40, hidden=10, epochs=1, seed=0, max_vocab=None).fit(
        [s.tokens for s in train], [s.tags for s in train]
    )
    old = tagger.network.params
    vocab = tagger.vocab
    from windowclf.features.vocab import Vocabulary

    tagger.vocab = Vocabulary(vocab.index_to_key + [f"w{i}" for i in range(120_000 - len(vocab))])
    tagger.network = tagger.make_network()
    for name, arr in old.items():
        if name != "L":
            tagger.network.params[name][...] = arr
    tagger.network.params["L"][: len(old["L"])] = old["L"]
    tagger.training_state = None
    path = tmp_path_factory.mktemp("model") / "big.npz"
    tagger.save(path, include_state=False)
    return path


def _data_start(path, entry):
    with zipfile.ZipFile(path) as z:
        info = z.getinfo(entry)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(30)
    return info.header_offset + 30 + sum(struct.unpack("<HH", head[26:30]))


def test_a_mapped_model_is_the_model_read_from_its_bytes(big_model):
    mapped = load_any(big_model, training_state=False)
    assert isinstance(mapped.network.params["L"].base, np.ndarray) or mapped.network.params["L"].base is not None
    read = load_any(big_model.read_bytes(), training_state=False)
    for name, arr in read.network.params.items():
        assert np.array_equal(arr, mapped.network.params[name]), name
    sentences = [s.tokens for s in read_conll(SAMPLE / "dev.conll")][:50]
    assert mapped.predict(sentences) == read.predict(sentences)
    before = big_model.read_bytes()
    mapped.network.params["L"][0] = 7.0  # its own copy of the page: the file stays as it was
    assert big_model.read_bytes() == before


@pytest.mark.parametrize("damage", ["flip", "nan"])
def test_a_damaged_mapped_array_is_one_model_file_error(big_model, tmp_path, damage):
    data = bytearray(big_model.read_bytes())
    at = _data_start(big_model, "param/L.npy") + 128 + 4 * 1_000_003
    if damage == "flip":
        data[at] ^= 0x40
    else:
        data[at : at + 4] = np.float32(np.nan).tobytes()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"bad\.npz"):
        load_any(bad, training_state=False)
