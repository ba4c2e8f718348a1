"""What fine-tuning did to the word vectors: changed rows, nearest neighbours, export.

For users who train a tagger to tune pretrained embeddings and take the vectors elsewhere:

>>> import numpy as np
>>> vecs = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
>>> nearest_neighbours(vecs, ["king", "queen", "apple"], "king", k=1)
[('queen', 0.9939)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from windowclf._util.arguments import check_bool, check_int, check_path, check_str, check_strings, kind_of
from windowclf.errors import ConfigError
from windowclf.formats.vectors import WordVectors, cosine_top, save_word2vec_format
from windowclf.models.tagger import WindowTagger

__all__ = [
    "FineTuneReport",
    "export_vectors",
    "finetune_report",
    "nearest_neighbours",
    "tuned_vectors",
    "vector_changes",
]


def tuned_vectors(tagger) -> WordVectors:
    """The tagger's word embedding matrix L as :class:`WordVectors` (a copy), rows in vocabulary order."""
    tagger = _trained(tagger)
    return WordVectors(list(tagger.index_to_key), tagger.vectors.copy())


def _trained(tagger) -> WindowTagger:
    """``tagger`` when it is a trained WindowTagger; TypeError or ConfigError naming it otherwise."""
    if not isinstance(tagger, WindowTagger):
        raise TypeError(f"tagger must be a trained WindowTagger, got {kind_of(tagger)}")
    try:
        return tagger.fitted()
    except ConfigError:
        raise ConfigError("tagger is not trained yet; call fit() or WindowTagger.load()") from None


def _initial(tagger) -> np.ndarray:
    tagger = _trained(tagger)
    if not tagger.pretrained:
        raise ConfigError(
            "this model was not started from pretrained vectors, so there is nothing to "
            "compare the tuned vectors with; train it with embeddings=..."
        )
    return tagger.initial_vectors


def vector_changes(tagger) -> list:
    """Words whose vector moved during training, largest change first.

    Returns
    -------
    list of (word, float)
        ``(word, ||L_word - L0_word||)`` for every row that differs from its pretrained value.
    """
    initial = _initial(tagger)
    diff = np.linalg.norm((tagger.vectors - initial).astype(np.float64), axis=1)
    changed = np.flatnonzero(diff > 0)
    order = changed[np.argsort(-diff[changed], kind="stable")]
    keys = tagger.index_to_key
    return [(keys[i], float(diff[i])) for i in order]


def nearest_neighbours(
    vectors: np.ndarray, index_to_key, word: str, k: int = 10, key_to_index: dict | None = None
) -> list:
    """The ``k`` words closest to ``word`` by cosine similarity (rounded to 4 places).

    Parameters
    ----------
    vectors : ndarray of shape (n_words, dim)
    index_to_key : list of str, length n_words
    word : str
        Must be one of ``index_to_key``.
    """
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2 or vectors.dtype.kind not in "fiu":
        raise TypeError(f"vectors must be a 2-d array of shape (n_words, dim), got {kind_of(vectors)}")
    index_to_key = check_strings("index_to_key", index_to_key, what="a list of words (str)")
    if len(index_to_key) != len(vectors):
        raise ConfigError(f"index_to_key names {len(index_to_key)} words but vectors has {len(vectors)} rows")
    word = check_str("word", word)
    k = check_int("k", k, low=1)
    if key_to_index is None:
        key_to_index = {w: i for i, w in enumerate(index_to_key)}
    elif not isinstance(key_to_index, dict):
        raise TypeError(f"key_to_index must be a dict or None, got {kind_of(key_to_index)}")
    if word not in key_to_index:
        raise KeyError(f"{word!r} is not in the vocabulary")
    i = key_to_index[word]
    return [(index_to_key[j], round(c, 4)) for j, c in cosine_top(vectors, vectors[i], k, exclude=i)]


@dataclass
class FineTuneReport:
    """Changed words (largest first) and, for chosen words, neighbours before and after tuning."""

    n_words: int
    changed: list
    neighbours: dict = field(default_factory=dict)  # word -> (before, after)

    def __str__(self) -> str:
        lines = [f"{len(self.changed)} of {self.n_words} word vectors changed"]
        for word, norm in self.changed[:20]:
            lines.append(f"  {word:<20} {norm:.4f}")
        for word, (before, after) in self.neighbours.items():
            lines.append(f"neighbours of {word!r}")
            lines.append("  before: " + ", ".join(f"{w} ({c:.3f})" for w, c in before))
            lines.append("  after:  " + ", ".join(f"{w} ({c:.3f})" for w, c in after))
        return "\n".join(lines)


def finetune_report(tagger, words=(), k: int = 5) -> FineTuneReport:
    """Which vectors changed and by how much, and the ``k`` nearest neighbours of ``words`` before
    and after fine-tuning (words are looked up as the vocabulary normalizes them)."""
    initial = _initial(tagger)
    words = check_strings("words", words, what="a list of words (str)")
    k = check_int("k", k, low=1)
    keys, index = tagger.index_to_key, tagger.key_to_index
    neighbours = {}
    for word in words:
        key = keys[tagger.vocab.lookup(word)]
        neighbours[word] = (
            nearest_neighbours(initial, keys, key, k, index),
            nearest_neighbours(tagger.vectors, keys, key, k, index),
        )
    return FineTuneReport(len(keys), vector_changes(tagger), neighbours)


def export_vectors(tagger, path, *, changed_only: bool = False, binary: bool = False) -> int:
    """Write the tuned vectors (all, or only the changed ones) in word2vec format; returns the count.

    The file loads with :func:`windowclf.formats.vectors.load_vectors` and can start another model:
    ``WindowTagger().fit(..., embeddings=load_vectors(path))``.
    """
    path = check_path("path", path)
    changed_only, binary = check_bool("changed_only", changed_only), check_bool("binary", binary)
    wv = tuned_vectors(tagger)
    if changed_only:
        rows = np.flatnonzero(np.any(tagger.vectors != _initial(tagger), axis=1))
        wv = WordVectors([wv.index_to_key[i] for i in rows], wv.vectors[rows])
    save_word2vec_format(path, wv, binary=binary)
    return len(wv)
