"""On eng.testa, a strong preset's network tags by its projections exactly as by the general pass, its
entities' confidences within 1e-6 (one epoch on eng.train: the network's shape, not its accuracy,
is what the projections change)."""

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


def test_a_strong_network_tags_eng_testa_as_the_general_pass():
    train, dev = list(read_conll(CONLL / "eng.train")), list(read_conll(CONLL / "eng.testa"))
    settings = {**preset("best-train-only"), "epochs": 1}
    tagger = WindowTagger(**settings).fit(
        [s.tokens for s in train], [s.tags for s in train], documents=[s.document for s in train]
    )
    sentences, documents = [s.tokens for s in dev], [s.document for s in dev]
    _, general, general_found = tagger.decode_sentences(
        sentences, True, entities=True, windows=tagger.encode(sentences, documents), documents=documents
    )
    _, tags, found = tagger.decode_sentences(sentences, True, entities=True, documents=documents)
    assert tags == general
    mine = [e[3] for ents in found for e in ents]
    theirs = [e[3] for ents in general_found for e in ents]
    assert len(mine) == len(theirs) > 5000
    np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-6)
