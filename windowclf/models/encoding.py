"""How a trained tagger reads its input: sentences into the window ids of every lookup table
(:func:`encode`), or into codes of a token table with the ids of the tables that read a word's
place (:func:`encode_tokens`: what tagging's per-token projections read).

Each function takes the model (a :class:`~windowclf.models.tagger.WindowTagger`): its lookup tables,
settings, character vocabulary, gazetteers and :meth:`documents_as_read
<windowclf.inference.prediction.Tagging.documents_as_read>`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from windowclf._util.arguments import kind_of
from windowclf.errors import ConfigError
from windowclf.features.documents import DOCUMENT_KEYS, document_case_indices
from windowclf.features.tables import DOCUMENT_FEATURES, GAZETTEER, USER_GAZETTEER
from windowclf.features.token_table import TokenTable, TokenWindows
from windowclf.features.tokens import FEATURE_EXTRACTORS
from windowclf.features.windows import encode_windows
from windowclf.text.inputs import token_lists

__all__ = ["DOCUMENT_FEATURE_INDICES", "encode", "encode_tokens", "per_token_tables", "reads_place", "token_table"]

# document features from numbers (features.documents): indices into DOCUMENT_KEYS
DOCUMENT_FEATURE_INDICES = {"doccase": document_case_indices}


def reads_place(feature: str) -> bool:
    """Whether a feature reads the word's place (its document, its neighbours), not the token alone."""
    return feature in DOCUMENT_FEATURES or feature in (GAZETTEER, USER_GAZETTEER)


def encode(model, sentences, documents=None, *, own_tags=None) -> tuple:
    """Window id matrices for ``sentences`` (lists of tokens) as ``model`` (a trained
    :class:`~windowclf.models.tagger.WindowTagger`) reads them: one (n_windows, C) per table
    (``documents`` and ``own_tags`` as :meth:`WindowTagger.encode
    <windowclf.models.tagger.WindowTagger.encode>` takes them)."""
    sentences = token_lists(sentences)
    if own_tags is not None:
        own_tags = token_lists(own_tags, "own_tags")
    lookups: list = []
    for feature, _, vocab, _ in model.lookup_tables():
        if feature == USER_GAZETTEER:
            if model.user_gazetteer is None:
                raise ConfigError("the user_gazetteer feature needs the model's user gazetteer (fit(gazetteer=...))")
            keys = model.user_gazetteer.keys(sentences)
            lookups.append((list(itertools.chain.from_iterable(keys)), vocab))
        elif feature in DOCUMENT_FEATURES or feature == GAZETTEER:
            docs = model.documents_as_read(documents, len(sentences))
            if feature == GAZETTEER:
                if model.gazetteer is None:
                    raise ConfigError("the gazetteer feature needs the model's gazetteer")
                keys = model.gazetteer.keys(sentences, docs, own_tags)
            else:
                keys = DOCUMENT_FEATURES[feature](sentences, docs)
            lookups.append((list(itertools.chain.from_iterable(keys)), vocab))
        else:
            lookups.append((None if feature == "word" else FEATURE_EXTRACTORS[feature], vocab))
    if model.settings.char_filters:  # and the word itself, for its characters
        lookups.append((None, model.char_vocab, model.settings.char_window // 2))
    return encode_windows(sentences, lookups, model.settings.window)


def per_token_tables(model) -> list:
    """The names of ``model``'s tables whose rows depend on the token alone, in the network's order
    (:meth:`WindowTagger.per_token_tables <windowclf.models.tagger.WindowTagger.per_token_tables>`)."""
    names = [name for feature, name, _, _ in model.lookup_tables() if not reads_place(feature)]
    return names + (["r"] if model.settings.char_filters else [])


def token_table(model) -> TokenTable:
    """A new, empty :class:`~windowclf.features.token_table.TokenTable` of ``model``'s per-token lookups."""
    lookups = [
        (None if feature == "word" else FEATURE_EXTRACTORS[feature], vocab)
        for feature, _, vocab, _ in model.lookup_tables()
        if not reads_place(feature)
    ]
    chars = (model.char_vocab, model.settings.char_window // 2) if model.settings.char_filters else None
    return TokenTable(lookups, chars)


def encode_tokens(model, sentences, documents=None, *, table: TokenTable | None = None) -> TokenWindows:
    """``sentences`` as codes of ``table`` with the ids of ``model``'s tables that read a word's
    place, one per word (:meth:`WindowTagger.encode_tokens
    <windowclf.models.tagger.WindowTagger.encode_tokens>`)."""
    sentences = token_lists(sentences)
    if table is not None and not isinstance(table, TokenTable):
        raise TypeError(f"table must be None or this model's token_table(), got {kind_of(table)}")
    table = model.token_table() if table is None else table
    table.start_call()
    flat = list(itertools.chain.from_iterable(sentences))
    codes = table.codes(flat)
    lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
    positional, vocabs = [], []
    for feature, _, vocab, _ in model.lookup_tables():
        if not reads_place(feature):
            continue
        if feature == USER_GAZETTEER:
            if model.user_gazetteer is None:
                raise ConfigError("the user_gazetteer feature needs the model's user gazetteer (fit(gazetteer=...))")
            user_keys = list(itertools.chain.from_iterable(model.user_gazetteer.keys(sentences)))
            positional.append(np.asarray(vocab.ids(user_keys)))
            vocabs.append(vocab)
            continue
        if feature == GAZETTEER:
            gazetteer = model.gazetteer
            if gazetteer is None:
                raise ConfigError("the gazetteer feature needs the model's gazetteer")
            starts = table.column(f"gazetteer-{id(gazetteer)}", gazetteer.starts)[codes]
            forms = (
                (table.column("vote")[codes], table.forms("vote"))
                if gazetteer.match == "capitals"
                else (codes, table.tokens)
            )
            keys: Sequence[str] = gazetteer.key_vocabulary().index_to_key
            index = gazetteer.key_indices(flat, starts, lengths, forms)
        else:
            first = np.zeros(len(codes), dtype=bool)
            first[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
            docs = model.documents_as_read(documents, len(sentences))  # block numbers from 0
            by_word = np.repeat(np.array(docs, dtype=np.int64), lengths)
            keys = DOCUMENT_KEYS
            lower, caps = table.column("lower")[codes], table.column("caps")[codes]
            index = DOCUMENT_FEATURE_INDICES[feature](lower, caps, first, by_word)
        positional.append(vocab.ids(list(keys))[index])
        vocabs.append(vocab)
    return TokenWindows(table, codes, lengths, tuple(positional), tuple(vocabs))
