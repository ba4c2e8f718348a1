"""Sentence-level log-likelihood (Collobert et al. 2011, section 3.3.2): tag transitions + Viterbi.

The window network gives every word t of a sentence a score ``E[t, j] = z2[t, j]`` for each tag
j (the "emission" scores; no softmax). A tag path y = (y_0 ... y_{T-1}) scores

    s(y) = A0[y_0] + E[0, y_0] + sum_{t>=1} (A[y_{t-1}, y_t] + E[t, y_t])

with ``A`` (K x K; ``A[i, j]`` = score of tag j following tag i) and ``A0`` (K, the scores of the
first tag), both learned. The sentence's loss is its negative log-likelihood

    J = log Z - s(y),    log Z = logsumexp over all K^T paths of s(path),

computed by the forward algorithm in log space:

    alpha_0 = A0 + E[0];   alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E[t, j]
    log Z   = logsumexp_j alpha_{T-1}[j]

and differentiated with the backward recursion

    beta_{T-1} = 0;        beta_t[i] = logsumexp_j(A[i, j] + E[t+1, j] + beta_{t+1}[j])

which gives the marginals p_t(j) = exp(alpha_t[j] + beta_t[j] - log Z) and
p_t(i, j) = exp(alpha_{t-1}[i] + A[i, j] + E[t, j] + beta_t[j] - log Z). The exact gradients are
"expected minus observed" counts:

    dJ/dE[t, j] = p_t(j) - 1[y_t = j]                           (delta2 for the window network)
    dJ/dA[i, j] = sum_{t>=1} (p_t(i, j) - 1[y_{t-1} = i, y_t = j])
    dJ/dA0[j]   = p_0(j) - 1[y_0 = j]

A batch holds whole sentences; its objective is the sum of the sentences' J divided by the
number of words in the batch, so its gradients have the same scale as the window (softmax)
loss, which is a mean over words, and the same learning rates work for both.

Decoding is Viterbi: the highest-scoring path, by max-product in place of sum-product.
Sentences of a batch are padded to the longest one; ``mask`` marks the real words. At padded
positions alpha is carried over unchanged and beta is 0, so they change nothing.
"""

from __future__ import annotations

import numpy as np

from windowclf._util.limits import require_memory
from windowclf.nn import chain, chain_batches
from windowclf.nn.network import row_penalty, weight_penalty

__all__ = [
    "TRANSITION_PARAMS",
    "init_transitions",
    "nll_and_grads",
    "sentence_batches",
    "sentence_loss_and_grads",
    "sll_loss_and_grads",
    "transition_shapes",
]

# Names of the transition parameters in the network's parameter dict.
TRANSITION_PARAMS = ("A", "A0")


def transition_shapes(n_tags: int) -> dict:
    """The shape of every transition parameter, by name: ``A`` (K, K) and ``A0`` (K,)."""
    return {"A": (n_tags, n_tags), "A0": (n_tags,)}


def init_transitions(params: dict, n_tags: int, dtype) -> None:
    """Add zero transition scores ``A`` and ``A0`` to ``params`` (a network's parameter dict)."""
    require_memory(4 * (n_tags + 1) * n_tags * np.dtype(dtype).itemsize, f"the transitions of {n_tags:,} tags")
    for name, shape in transition_shapes(n_tags).items():
        params[name] = np.zeros(shape, dtype=dtype)


# Sentences are sorted by length within pools of about this many batches' words: batches then
# hold sentences of similar lengths (so the recursions, one step per word of the longest, pad
# little) while which sentences meet in a batch stays random.
POOL_BATCHES = 50


def sentence_batches(lengths, batch_words: int, rng: np.random.Generator) -> list:
    """Whole sentences in batches of at least ``batch_words`` words, similar lengths together.

    The sentences are shuffled and taken a pool at a time (:data:`POOL_BATCHES` batches' worth of
    words); each pool is sorted by length (ties in shuffled order) and cut into batches, each
    taking sentences until it holds ``batch_words`` words or more. The sentences a pool leaves over
    join the next pool, so only the last batch may hold fewer. ``batch_size`` so means about the
    same number of words per update for the sentence-level objective as for the window objective.
    (The caller visits the batches in a random order.)

    Returns
    -------
    list of ndarray
        Sentence indices of each batch.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    out, pending, words = [], np.empty(0, dtype=np.int64), 0

    def cut(pool):
        """The pool's full batches into ``out``; returns the sentences left over."""
        pool = pool[np.argsort(lengths[pool], kind="stable")]
        ends = np.cumsum(lengths[pool])
        start, taken = 0, 0
        for i, total in enumerate(ends.tolist()):
            if total - taken >= batch_words:
                out.append(pool[start : i + 1])
                start, taken = i + 1, total
        return pool[start:]

    order = rng.permutation(len(lengths))
    bounds = np.cumsum(lengths[order])
    pool_words, start = POOL_BATCHES * batch_words, 0
    while start < len(order):
        # the next pool: sentences until the leftovers and they hold pool_words words
        stop = int(np.searchsorted(bounds, bounds[start] - lengths[order[start]] + pool_words - words)) + 1
        pending = cut(np.concatenate((pending, order[start:stop])))
        words, start = int(lengths[pending].sum()), stop
    if len(pending):
        out.append(pending)
    return out


def sll_loss_and_grads(E: np.ndarray, mask: np.ndarray, y: np.ndarray, A: np.ndarray, A0: np.ndarray):
    """Summed negative log-likelihood of the gold paths and its exact gradients (padded batch).

    Parameters
    ----------
    E : ndarray of shape (B, T, K)
    mask : ndarray of shape (B, T), bool
    y : ndarray of shape (B, T), int
        Gold tag indices (ignored at padding).
    A, A0 : transition scores (K, K) and start scores (K,)

    Returns
    -------
    J : float
        sum over sentences of log Z - s(y).
    grad_E : ndarray of shape (B, T, K)
        Zero at padding.
    grad_A : ndarray of shape (K, K)
    grad_A0 : ndarray of shape (K,)
    """
    J, grad_rows, grad_A, grad_A0 = nll_and_grads(E[mask], mask.sum(axis=1), y[mask], A, A0)
    return J, chain_batches.pad(grad_rows, mask.sum(axis=1))[0], grad_A, grad_A0


def nll_and_grads(scores: np.ndarray, lengths, y: np.ndarray, A: np.ndarray, A0: np.ndarray):
    """sum over sentences of log Z - s(y), and its gradients, for sentences given back to back.

    Computed in float64 by the rescaled recursion (:func:`chain.scaled_expectations`), or in log
    space where that underflows.

    Parameters
    ----------
    scores : ndarray of shape (N, K)
        Emission scores E of every word, sentence after sentence.
    lengths : ndarray of shape (B,)
    y : ndarray of shape (N,), int
        Gold tag indices.
    A, A0 : transition scores (K, K) and start scores (K,)

    Returns
    -------
    (J, grad_E (N, K), grad_A (K, K), grad_A0 (K,)), all float64.
    """
    N, K = scores.shape
    lengths = np.asarray(lengths, dtype=np.int64)
    B, T = len(lengths), int(lengths.max())
    starts = np.cumsum(lengths) - lengths
    t_of, b_of = np.arange(N) - np.repeat(starts, lengths), np.repeat(np.arange(B), lengths)
    A, A0 = np.asarray(A, dtype=np.float64), np.asarray(A0, dtype=np.float64)
    E = np.zeros((T, B, K))  # time-major: each step of the recursions reads one contiguous (B, K)
    E[t_of, b_of] = scores
    found = chain.scaled_expectations(E, lengths, A, A0)
    if found is None:
        found = _log_space_expectations(E, lengths, A, A0)
    log_Z, p, pair = found
    inner = np.ones(N, dtype=bool)
    inner[starts] = False  # words with a previous word in their sentence
    prev, nxt = y[np.flatnonzero(inner) - 1], y[inner]
    gold = float(E[t_of, b_of, y].sum() + A0[y[starts]].sum() + A[prev, nxt].sum())  # sum of s(y)
    J = float(log_Z.sum()) - gold
    grad_E = p[t_of, b_of]
    grad_E[np.arange(N), y] -= 1.0  # dJ/dE[t, j] = p_t(j) - 1[y_t = j]
    grad_A0 = p[0].sum(axis=0) - np.bincount(y[starts], minlength=K)  # dJ/dA0 = p_0 - 1[y_0]
    # dJ/dA = sum_t p_t(i, j) - the gold path's counts of (i, j)
    grad_A = pair - np.bincount(prev * K + nxt, minlength=K * K).reshape(K, K)
    return J, grad_E, grad_A, grad_A0


def _log_space_expectations(E: np.ndarray, lengths, A, A0):
    """What :func:`chain.scaled_expectations` returns, by the log-space recursion: exact for any
    scores, at a (B, T, K, K) array's cost. ``E`` is time-major (T, B, K)."""
    Eb = E.transpose(1, 0, 2)
    mask = np.arange(E.shape[0])[None, :] < np.asarray(lengths)[:, None]
    alpha, beta, log_Z = chain.forward_backward(Eb, mask, A, A0)
    p = np.exp(alpha + beta - log_Z[:, None, None]) * mask[:, :, None]  # p_t(j)
    # p_t(i, j) = exp(alpha_{t-1}[i] + A[i, j] + E[t, j] + beta_t[j] - log Z), for t >= 1
    pair = np.exp(
        alpha[:, :-1, :, None] + A[None, None] + (Eb[:, 1:] + beta[:, 1:])[:, :, None, :] - log_Z[:, None, None, None]
    )
    pair *= mask[:, 1:, None, None]
    return log_Z, p.transpose(1, 0, 2), pair.sum(axis=(0, 1))


def sentence_loss_and_grads(
    network, ids, y, lengths, *, l2=0.0, train_tables=None, l2_tables=None, anchors=None, dropout=None
):
    """SLL objective of a batch of whole sentences through the window network, and all gradients.

    Parameters
    ----------
    network : WindowNetwork
        Its ``params`` also hold ``A`` and ``A0`` (see :func:`init_transitions`).
    ids : tuple of ndarray of shape (N, C)
        The windows of the batch's words, sentence after sentence (N = sum(lengths)).
    y : ndarray of shape (N,)
        Gold tag indices.
    lengths : ndarray of shape (B,)
        Words per sentence.
    l2, train_tables, l2_tables, anchors, dropout
        As in :meth:`WindowNetwork.loss_and_grads`.

    Returns
    -------
    (J, grads)
        J = (sum of the sentences' log Z - s(y)) / N + (l2/2)(||W1||^2 + ||W2||^2) [+ table terms];
        grads has the network's gradients plus dense ``A`` and ``A0``.
    """
    p = network.params
    N = len(y)
    fw = network.forward(ids, dropout)
    J, grad_E, grad_A, grad_A0 = nll_and_grads(fw.z2, lengths, y, p["A"], p["A0"])
    J /= N  # the batch objective is a mean over words
    delta2 = (grad_E / N).astype(fw.z2.dtype)  # dJ/dz2, the window network's delta2
    if l2:
        J += weight_penalty(p, l2)
    grads = network.backward(fw, delta2, l2=l2, train_tables=train_tables)
    grads["A"] = (grad_A / N).astype(p["A"].dtype)
    grads["A0"] = (grad_A0 / N).astype(p["A0"].dtype)
    return row_penalty(J, p, grads, l2_tables, anchors), grads
