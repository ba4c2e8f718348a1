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

from windowclf.errors import ConfigError
from windowclf.formats.vectors import WordVectors, cosine_top, save_word2vec_format

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
    return WordVectors(list(tagger.index_to_key), tagger.vectors.copy())


def _initial(tagger) -> np.ndarray:
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
    diff = np.linalg.norm((tagger.vectors - _initial(tagger)).astype(np.float64), axis=1)
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
    if key_to_index is None:
        key_to_index = {w: i for i, w in enumerate(index_to_key)}
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
    wv = tuned_vectors(tagger)
    if changed_only:
        rows = np.flatnonzero(np.any(tagger.vectors != _initial(tagger), axis=1))
        wv = WordVectors([wv.index_to_key[i] for i in rows], wv.vectors[rows])
    save_word2vec_format(path, wv, binary=binary)
    return len(wv)
