"""A new model from its training data: vocabularies, the tag set, the network and the optimizer."""

from __future__ import annotations

import logging

import numpy as np

from .chars import build_char_vocab
from .features import GAZETTEER, build_feature_vocab
from .gazetteer import Gazetteer
from .schemes import get_entities, tag_set
from .snapshots import Patch
from .vectors import match_rows
from .vocab import Vocabulary

__all__ = ["setup"]

log = logging.getLogger("windowclf.tagger")

_COPY_ROWS = 1 << 16  # pretrained rows copied into L at a time


def setup(tagger, sentences, tags, embeddings):
    """Start ``tagger`` from its training data: vocabularies, tag set, network (L from the
    pretrained ``embeddings`` where they have a word), optimizer, and an empty history."""
    s = tagger.settings
    extra = embeddings.index_to_key if (embeddings is not None and s.keep_pretrained_vocab) else ()
    tagger.vocab = Vocabulary.build(sentences, min_count=s.min_count, max_size=s.max_vocab,
                                    lowercase=s.lowercase, digits=s.digits, extra=extra)
    tagger.gazetteer = Gazetteer.build(sentences, s.entity_tags(tags)) if GAZETTEER in s.features else None
    tagger.feature_vocabs = {f: tagger.gazetteer.key_vocabulary() if f == GAZETTEER
                             else build_feature_vocab(f, sentences, s.affix_min_count) for f in s.features}
    tagger.char_vocab = build_char_vocab(sentences) if s.char_filters else None
    if s.output == "sigmoid":
        labels = {t for ts in tags for t in ts}
        negative = "0" if labels <= {"0", "1"} else "O"
        tagger.tags = [negative, s.positive_tag]
        n_outputs = 1
    else:
        types = sorted({etype for ts in tags for etype, _, _ in get_entities(ts)})
        tagger.tags = tag_set(types, s.scheme)
        n_outputs = len(tagger.tags)
    if embeddings is not None and embeddings.vectors.shape[1] != s.dim:
        log.info("word vector size %d taken from the pretrained vectors", embeddings.vectors.shape[1])
        s.dim = int(embeddings.vectors.shape[1])
    tagger.network = tagger._make_network(n_outputs)
    tagger._initial = None
    if embeddings is not None:
        L = tagger.network.params["L"]
        # A lowercased vocabulary matches exactly (no "DG" -> "dg" accidents); a cased one falls
        # back to the lowercased word, as GloVe's words are.
        found, ids = match_rows(embeddings, tagger.vocab.index_to_key,
                                normalize=() if tagger.vocab.lowercase else None)
        for start in range(0, len(found), _COPY_ROWS):  # a block at a time: no copy of the whole matrix
            block = slice(start, start + _COPY_ROWS)
            L[found[block]] = s.pretrained_scale * embeddings.vectors[ids[block]]
        log.info("pretrained vectors for %d of %d vocabulary words", len(found), len(tagger.vocab))
        tagger._initial = Patch(np.zeros(0, dtype=np.int64), L[:0])  # L is its pretrained self everywhere
    tagger.optimizer = tagger._make_optimizer()
    tagger.history = []
    tagger.best = {"epoch": None, "f1": None}
    tagger._state = None
