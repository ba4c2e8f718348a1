"""The features a model can have, each with its own small embedding table: names, tables, vocabularies.

A feature maps a token to a string key; a :class:`~windowclf.features.vocab.Vocabulary` turns keys
into rows of the feature's table, and windows of feature ids are built exactly like windows of word
ids. The word itself is the feature ``"word"`` (table ``L``). The others read the token alone
(:mod:`windowclf.features.tokens`), its document (``doccase``: :mod:`windowclf.features.documents`),
the training data's entity strings (``gazetteer``: :mod:`windowclf.features.gazetteer`), or the
user's own lists of them (``user_gazetteer``, the same kind of table).
"""

from __future__ import annotations

from windowclf.errors import ConfigError
from windowclf.features.documents import DOCUMENT_KEYS, document_case_keys
from windowclf.features.tokens import CAPS_KEYS, FEATURE_EXTRACTORS
from windowclf.features.vocab import Vocabulary

__all__ = [
    "DOCUMENT_FEATURES",
    "GAZETTEER",
    "USER_GAZETTEER",
    "build_feature_vocab",
    "parse_feature_list",
    "table_name",
]

# the training data's own entity strings (windowclf.features.gazetteer): keys from the model's gazetteer
GAZETTEER = "gazetteer"
# the user's own lists of entity strings (fit(gazetteer=...), train --gazetteer FILE): the same keys
USER_GAZETTEER = "user_gazetteer"

# name -> (sentences, documents) -> keys of every token: features that read the whole document
DOCUMENT_FEATURES = {"doccase": document_case_keys}


def table_name(feature: str) -> str:
    """The parameter name of a feature's table: ``L`` for words, ``E_<feature>`` otherwise."""
    return "L" if feature == "word" else f"E_{feature}"


def parse_feature_list(features) -> list:
    """Validate a feature list (a comma string or a sequence); keep order, drop duplicates."""
    if isinstance(features, str):
        features = [f.strip() for f in features.split(",") if f.strip()]
    elif isinstance(features, (bytes, bytearray, dict)) or not isinstance(features, (list, tuple)):
        raise ConfigError(
            f"features must be a list of feature names (or one comma-separated str), got {features!r:.60}"
        )
    out = []
    for i, f in enumerate(features):
        if not isinstance(f, str):
            raise ConfigError(f"features[{i}] must be a feature name (a str), got {f!r:.60}")
        if f not in FEATURE_EXTRACTORS and f not in DOCUMENT_FEATURES and f not in (GAZETTEER, USER_GAZETTEER):
            raise ConfigError(
                f"features holds an unknown feature {f!r}; expected any of "
                f"{', '.join([*FEATURE_EXTRACTORS, *DOCUMENT_FEATURES, GAZETTEER, USER_GAZETTEER])}"
            )
        if f not in out:
            out.append(f)
    return out


def build_feature_vocab(feature: str, sentences, min_count: int = 2) -> Vocabulary:
    """The key vocabulary of a feature, from training sentences (lists of original tokens)."""
    if feature in DOCUMENT_FEATURES:
        return Vocabulary(list(DOCUMENT_KEYS), lowercase=False, digits=False)
    extract = FEATURE_EXTRACTORS[feature]
    if feature == "caps":
        return Vocabulary(list(CAPS_KEYS), lowercase=False, digits=False)
    return Vocabulary.build(
        ([extract(t) for t in tokens] for tokens in sentences), min_count=min_count, lowercase=False, digits=False
    )
