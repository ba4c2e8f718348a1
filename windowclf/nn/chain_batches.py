"""The linear chain over sentences back to back: padding them into batches of similar length, and
Viterbi decoding, posteriors and entity-span probabilities for a whole corpus's scores (what
decoding runs, for softmax and SLL models alike), on :mod:`windowclf.nn.chain`'s recursions.
"""

from __future__ import annotations

import numpy as np

from windowclf.nn import chain

__all__ = ["decode", "fitting_batch", "marginals", "pad", "posteriors", "span_log_probabilities", "unpad"]

# The (B, K, K) float64 arrays of one step of the recursions, a few at a time, stay within this: a
# batch of 512 sentences for up to about 100 tags, fewer sentences a batch for more tags.
_STEP_BUDGET = 256 * 2**20
_STEP_ARRAYS = 3


def fitting_batch(n_tags: int, batch: int = 512) -> int:
    """How many sentences a batch of the recursions holds for ``n_tags`` tags: ``batch``, or fewer
    so that one step's (B, K, K) arrays fit in the step budget (at least one sentence).

    >>> fitting_batch(9), fitting_batch(1000), fitting_batch(7501)
    (512, 11, 1)
    """
    per_sentence = _STEP_ARRAYS * 8 * int(n_tags) ** 2
    return max(1, min(int(batch), _STEP_BUDGET // max(per_sentence, 1)))


def pad(scores: np.ndarray, lengths: np.ndarray):
    """Stack sentences' rows into a padded (B, T, K) array; returns (padded, mask (B, T) bool).

    ``scores`` holds the rows of the B sentences back to back, shape (sum(lengths), K).
    """
    B, T = len(lengths), int(np.max(lengths))
    mask = np.arange(T)[None, :] < lengths[:, None]
    out = np.zeros((B, T) + scores.shape[1:], dtype=scores.dtype)
    out[mask] = scores
    return out, mask


def unpad(padded: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pad`: the real rows back to back."""
    return padded[mask]


def marginals(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """Posterior tag probabilities p_t(j) of shape (B, T, K) (zero at padding)."""
    alpha, beta, log_Z = chain.forward_backward(E, mask, A, A0)
    return np.exp(alpha + beta - log_Z[:, None, None]) * mask[:, :, None]


# Padded words a batch holds at most (but a single longer sentence): a few long sentences together
# would otherwise make (B, T, K) arrays of hundreds of megabytes (at this size, a few megabytes).
_CELLS = 1 << 13


def _by_length(lengths, batch: int, which=None):
    """Batches of sentences of similar length (so padding stays small): each batch's sentence
    indices, their lengths and their rows in the back-to-back layout. ``which`` limits the
    batches to those sentences (default: all). A batch holds at most ``batch`` sentences and, but
    for a single sentence, _CELLS words once padded; a sentence's results do not depend on the
    others of its batch."""
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.cumsum(lengths) - lengths
    which = np.arange(len(lengths)) if which is None else np.asarray(which, dtype=np.int64)
    order = which[np.argsort(lengths[which], kind="stable")]
    b = 0
    while b < len(order):
        k = min(batch, len(order) - b)
        while k > 1 and k * lengths[order[b + k - 1]] > _CELLS:  # sorted: the last is the longest
            k = max(1, min(k - 1, _CELLS // int(lengths[order[b + k - 1]])))
        idx = order[b : b + k]
        sizes = lengths[idx]
        rows = np.repeat(starts[idx] - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
        yield idx, sizes, rows
        b += k


def decode(scores: np.ndarray, lengths, A: np.ndarray, A0: np.ndarray, *, end=None, batch: int = 2048) -> np.ndarray:
    """Viterbi tag indices for sentences whose emission rows are back to back in ``scores``.

    Returns
    -------
    ndarray of shape (sum(lengths),), int
    """
    out = np.empty(scores.shape[0], dtype=np.int64)
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    for _, batch_lengths, rows in _by_length(lengths, fitting_batch(A.shape[0], batch)):
        E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
        out[rows] = chain.viterbi(E, mask, A, A0, end)[mask]
    return out


def posteriors(
    scores: np.ndarray,
    lengths,
    A: np.ndarray,
    A0: np.ndarray,
    *,
    end=None,
    batch: int = 2048,
    rescaled: bool = True,
    project: np.ndarray | None = None,
) -> np.ndarray:
    """Posterior tag probabilities p_t(j) of every word, rows back to back, shape (sum(lengths), K),
    or with ``project`` (K, M) their product with it, shape (sum(lengths), M), batch by batch.

    By the rescaled recursion (:func:`chain.scaled_posteriors`, one (K, K) @ (K, B) product a
    word), or where it underflows, and always without ``rescaled``, the log-space one
    (:func:`chain.forward_backward`); they agree within 1e-12 (tests/test_chain.py).
    """
    width = scores.shape[1] if project is None else project.shape[1]
    out = np.empty((scores.shape[0], width), dtype=np.float64)
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    for _, batch_lengths, rows in _by_length(lengths, fitting_batch(A.shape[0], batch)):
        E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
        p = chain.scaled_posteriors(E, mask, A, A0, end) if rescaled else None
        if p is None:
            alpha, beta, log_Z = chain.forward_backward(E, mask, A, A0, end)
            p = np.exp(alpha + beta - log_Z[:, None, None])
        out[rows] = p[mask] if project is None else p[mask] @ project
    return out


def span_log_probabilities(scores: np.ndarray, lengths, A: np.ndarray, A0: np.ndarray, end, spans) -> list:
    """log P(the words s .. e - 1 form one entity) for each span of each sentence, sentences back to back
    in ``scores``: :func:`windowclf.nn.chain.span_log_probabilities` (which says what ``spans`` holds) over
    batches of sentences of similar length.

    Returns a list (one per sentence) of float arrays, one log-probability per span.
    """
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = [np.zeros(0) for _ in lengths]
    # the sentences that have spans, by length, 512 at a time (fewer when long): one forward-backward a batch
    wanted = [i for i in range(len(lengths)) if spans[i]]
    with np.errstate(divide="ignore", invalid="ignore"):
        for batch, batch_lengths, rows in _by_length(lengths, fitting_batch(A.shape[0]), wanted):
            E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
            found = chain.span_log_probabilities(E, mask, A, A0, end, [spans[i] for i in batch])
            for i, logs in zip(batch.tolist(), found):
                out[i] = logs
    return out
