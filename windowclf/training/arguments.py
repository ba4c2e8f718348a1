"""The checks of what :meth:`WindowTagger.fit <windowclf.models.tagger.WindowTagger.fit>` is given
besides its settings: callbacks, pretrained vectors, and tokens and tags that a model file can hold
(each a single field of a column file). Each error names the argument."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from windowclf._util.arguments import kind_of
from windowclf.errors import InputError
from windowclf.formats.fields import check_field

__all__ = ["check_fields", "checked_callbacks", "checked_embeddings"]


def checked_callbacks(callbacks) -> list:
    """``callbacks`` as a list of objects with ``on_batch_end`` or ``on_epoch_end``; TypeError naming it."""
    if isinstance(callbacks, (str, bytes, dict)) or not isinstance(callbacks, Iterable):
        raise TypeError(f"callbacks must be a sequence of callbacks (a list), got {kind_of(callbacks)}")
    out = list(callbacks)
    for i, cb in enumerate(out):
        if not any(callable(getattr(cb, hook, None)) for hook in ("on_batch_end", "on_epoch_end")):
            raise TypeError(
                f"callbacks[{i}] must define on_batch_end(done, total) or on_epoch_end(result) "
                f"(subclass windowclf.Callback), got {kind_of(cb)}"
            )
    return out


def checked_embeddings(embeddings):
    """``embeddings`` as fit takes them: None, or word vectors (``index_to_key``, ``key_to_index``
    and a 2-d float ``vectors`` array), every value finite; TypeError or ValueError naming them (a
    NaN in the vectors is the vectors' fault, not the learning rate's)."""
    if embeddings is None:
        return None
    vectors = getattr(embeddings, "vectors", None)
    if not (
        isinstance(vectors, np.ndarray)
        and isinstance(getattr(embeddings, "index_to_key", None), list)
        and isinstance(getattr(embeddings, "key_to_index", None), dict)
    ):
        raise TypeError(
            "embeddings must be WordVectors (load_vectors(path), or WordVectors(words, vectors)), "
            f"got {kind_of(embeddings)}"
        )
    if vectors.ndim != 2 or vectors.dtype.kind != "f" or len(vectors) != len(embeddings.index_to_key):
        raise ValueError(
            f"embeddings.vectors must be a float array of shape (n_words, dim), one row a word, got "
            f"{vectors.dtype} of shape {vectors.shape} for {len(embeddings.index_to_key)} words"
        )
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    if len(bad):
        raise ValueError(
            f"embeddings.vectors holds NaN or inf in the row of {embeddings.index_to_key[bad[0]]!r} "
            f"(row {bad[0]}, and {len(bad) - 1} more rows); pretrained vectors must be finite"
        )
    return embeddings


def check_fields(sentences, tags) -> None:
    """Every distinct token and tag is one field of a column file (:func:`~windowclf.formats.fields.check_field`):
    what the model's vocabulary and tags hold must save, load and be written back out."""
    for what, lists in (("token", sentences), ("tag", tags)):
        seen: set = set()
        for i, sentence in enumerate(lists):
            for value in sentence:
                if value not in seen:
                    try:
                        check_field(value, what)
                    except InputError as err:
                        raise InputError(f"sentence {i}: {err.message}") from None
                    seen.add(value)
