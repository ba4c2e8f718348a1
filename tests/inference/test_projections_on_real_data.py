"""On eng.testa, a strong preset's network tags by its projections exactly as by the general pass, its
entities' confidences within 2e-6: float32 scores summed in another order. The general pass itself
moves them as far when its rows go through products of other sizes (1.07e-6 to 1.33e-6 on the
machine of these tests; the projections 1.23e-6), and where it moves them further the bound is
that (one epoch on eng.train: the network's shape, not its accuracy, is what counts)."""

from __future__ import annotations

import numpy as np
import pytest
from support import shared_data_dir

from windowclf.config.presets import preset
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger

CONLL = shared_data_dir() / "conll2003"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CONLL / "eng.train").exists(), reason=f"CoNLL-2003 not found under {CONLL}"),
]


def test_a_strong_network_tags_eng_testa_as_the_general_pass(monkeypatch):
    import windowclf.inference.prediction as prediction

    train, dev = list(read_conll(CONLL / "eng.train")), list(read_conll(CONLL / "eng.testa"))
    settings = {**preset("window-strong"), "epochs": 1}
    tagger = WindowTagger(**settings).fit(
        [s.tokens for s in train], [s.tags for s in train], documents=[s.document for s in train]
    )
    sentences, documents = [s.tokens for s in dev], [s.document for s in dev]
    _, general, general_found = tagger.decode_sentences(
        sentences, True, entities=True, windows=tagger.encode(sentences, documents), documents=documents
    )
    _, tags, found = tagger.decode_sentences(sentences, True, entities=True, documents=documents)
    assert tags == general
    mine = np.array([e[3] for ents in found for e in ents])
    theirs = np.array([e[3] for ents in general_found for e in ents])
    assert len(mine) == len(theirs) > 5000
    own = 0.0  # how far the general pass moves them itself, its rows in products of other sizes
    for chunk in (1000, 700, 4096):
        monkeypatch.setattr(prediction, "_PREDICT_CHUNK", chunk)
        _, again, again_found = tagger.decode_sentences(
            sentences, True, entities=True, windows=tagger.encode(sentences, documents), documents=documents
        )
        assert again == general
        own = max(own, np.abs(np.array([e[3] for ents in again_found for e in ents]) - theirs).max())
    assert np.abs(mine - theirs).max() <= max(2e-6, own)
