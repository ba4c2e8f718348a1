"""A model's parts from its settings and training data: vocabularies, the tag set, the network and
the optimizer.

:func:`new_model` makes every part of a new model from its training data; :func:`lookup_tables`,
:func:`build_network`, :func:`network_shapes` and :func:`build_optimizer` make the network and
optimizer of a model whose vocabularies are known (a new one, or one read from its file).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from windowclf.config.settings import Settings
from windowclf.errors import ConfigError
from windowclf.features.gazetteer import Gazetteer
from windowclf.features.spellings import build_char_vocab
from windowclf.features.tables import GAZETTEER, USER_GAZETTEER, build_feature_vocab, table_name
from windowclf.features.vocab import Vocabulary
from windowclf.formats.vectors import match_rows
from windowclf.nn import sll
from windowclf.nn.network import WindowNetwork, parameter_shapes
from windowclf.nn.optim import make_optimizer
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import tag_set
from windowclf.training.snapshots import Patch

__all__ = ["NewModel", "build_network", "build_optimizer", "lookup_tables", "n_outputs", "network_shapes", "new_model"]

log = logging.getLogger("windowclf.models.tagger")

_COPY_ROWS = 1 << 16  # pretrained rows copied into L at a time


@dataclass
class NewModel:
    """Every part of a model made from its training data (see :func:`new_model`)."""

    vocab: Vocabulary
    feature_vocabs: dict
    char_vocab: Vocabulary | None
    gazetteer: Gazetteer | None
    tags: list
    network: WindowNetwork
    initial: Patch | None  # L's pretrained rows where they differ from L (None: no pretrained vectors)


def new_model(settings: Settings, sentences, tags, embeddings, user_gazetteer=None) -> NewModel:
    """A new model's parts from its training data: vocabularies, tag set, network (L from the
    pretrained ``embeddings`` where they have a word; the ``user_gazetteer`` feature's keys from
    the user's :class:`~windowclf.features.gazetteer.Gazetteer`).

    ``settings.dim`` is set to the pretrained vectors' size when they have another.
    """
    s = settings
    extra = embeddings.index_to_key if (embeddings is not None and s.keep_pretrained_vocab) else ()
    vocab = Vocabulary.build(
        sentences, min_count=s.min_count, max_size=s.max_vocab, lowercase=s.lowercase, digits=s.digits, extra=extra
    )
    gazetteer = Gazetteer.build(sentences, s.entity_tags(tags)) if GAZETTEER in s.features else None
    feature_vocabs = {}
    for f in s.features:
        if f == GAZETTEER and gazetteer is not None:
            feature_vocabs[f] = gazetteer.key_vocabulary()
        elif f == USER_GAZETTEER:
            if user_gazetteer is None:
                raise ConfigError("the user_gazetteer feature reads the user's lists: pass gazetteer= to fit")
            feature_vocabs[f] = user_gazetteer.key_vocabulary()
        else:
            feature_vocabs[f] = build_feature_vocab(f, sentences, s.affix_min_count)
    char_vocab = build_char_vocab(sentences) if s.char_filters else None
    if s.output == "sigmoid":
        labels = {t for ts in tags for t in ts}
        negative = "0" if labels <= {"0", "1"} else "O"
        model_tags: list[str] = [negative, str(s.positive_tag)]  # the rules make it a tag
    else:
        types = sorted({etype for ts in tags for etype, _, _ in entity_spans(ts)})
        model_tags = tag_set(types, s.scheme or "IOB2")  # WindowTagger.fit sets the scheme first
    if embeddings is not None and embeddings.vectors.shape[1] != s.dim:
        log.info("word vector size %d taken from the pretrained vectors", embeddings.vectors.shape[1])
        s.dim = int(embeddings.vectors.shape[1])
    tables = lookup_tables(s, vocab, feature_vocabs)
    network = build_network(s, tables, char_vocab, n_outputs(s, model_tags))
    initial = None
    if embeddings is not None:
        L = network.params["L"]
        # A lowercased vocabulary matches exactly (no "DG" -> "dg" accidents); a cased one falls
        # back to the lowercased word, as GloVe's words are.
        found, ids = match_rows(embeddings, vocab.index_to_key, normalize=() if vocab.lowercase else None)
        for start in range(0, len(found), _COPY_ROWS):  # a block at a time: no copy of the whole matrix
            block = slice(start, start + _COPY_ROWS)
            L[found[block]] = s.pretrained_scale * embeddings.vectors[ids[block]]
        log.info("pretrained vectors for %d of %d vocabulary words", len(found), len(vocab))
        initial = Patch(np.zeros(0, dtype=np.int64), L[:0])  # L is its pretrained self everywhere
    return NewModel(vocab, feature_vocabs, char_vocab, gazetteer, model_tags, network, initial)


def n_outputs(settings: Settings, tags) -> int:
    """The network's output units: 1 for one-vs-rest, else one per tag."""
    return 1 if settings.output == "sigmoid" else len(tags)


def lookup_tables(settings: Settings, vocab: Vocabulary, feature_vocabs: dict) -> list:
    """(feature, table name, vocabulary, dim) of every lookup table, L first."""
    s = settings
    tables = [("word", "L", vocab, s.dim)]
    tables += [(f, table_name(f), feature_vocabs[f], s.feature_dim) for f in s.features]
    return tables


def _sizes(tables) -> list:
    return [(name, len(vocab), dim) for _, name, vocab, dim in tables]


def _chars(settings: Settings, char_vocab) -> tuple | None:
    """(characters, char_dim, char_window, char_filters) of the character features, or None."""
    s = settings
    return (len(char_vocab), s.char_dim, s.char_window, s.char_filters) if s.char_filters else None


def build_network(settings: Settings, tables, char_vocab, n_out: int, *, initialize: bool = True) -> WindowNetwork:
    """The network of a model with these lookup ``tables`` (:func:`lookup_tables`) and ``n_out``
    output units; without ``initialize`` no random weights are drawn (a model file's replace them)."""
    s = settings
    network = WindowNetwork(
        _sizes(tables),
        s.window,
        s.hidden,
        n_out,
        activation=s.activation,
        output=s.output,
        dtype=np.dtype(s.dtype),
        seed=s.seed,
        initialize=initialize,
        chars=_chars(s, char_vocab),
    )
    if s.decoder == "sll":
        # tag transition scores live beside W1, W2: trained, saved and shape-checked like them
        sll.init_transitions(network.params, n_out, network.dtype)
    return network


def network_shapes(settings: Settings, tables, char_vocab, n_out: int) -> dict:
    """The shapes :func:`build_network` would allocate, without allocating (memory checked)."""
    s = settings
    shapes = parameter_shapes(_sizes(tables), s.window, s.hidden, n_out, np.dtype(s.dtype), _chars(s, char_vocab))
    return {**shapes, **(sll.transition_shapes(n_out) if s.decoder == "sll" else {})}


def build_optimizer(settings: Settings):
    """The optimizer of these settings (its learning rates as the settings give them)."""
    s = settings
    return make_optimizer(
        s.optimizer, s.lr, momentum=s.momentum, lr_overrides=None if s.lr_embeddings is None else {"L": s.lr_embeddings}
    )
