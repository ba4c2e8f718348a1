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

from .functions import logsumexp
from .limits import require_memory
from .network import row_penalty, weight_penalty

__all__ = ["TRANSITION_PARAMS", "init_transitions", "sentence_batches", "transition_shapes", "pad", "unpad",
           "forward_backward", "sll_loss_and_grads", "viterbi", "decode", "marginals", "posteriors",
           "span_log_probabilities", "sentence_loss_and_grads"]

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


def sentence_batches(lengths, batch_words: int, rng: np.random.Generator) -> list:
    """Whole sentences in a random order, cut into batches of at least ``batch_words`` words.

    Each batch takes sentences until it holds ``batch_words`` words or more (the last batch may
    hold fewer), so ``batch_size`` means about the same number of words per update for the
    sentence-level objective as for the window objective.

    Returns
    -------
    list of ndarray
        Sentence indices of each batch.
    """
    lengths = np.asarray(lengths)
    order = rng.permutation(len(lengths))
    out, start, total = [], 0, 0
    for i, n in enumerate(lengths[order]):
        total += n
        if total >= batch_words:
            out.append(order[start:i + 1])
            start, total = i + 1, 0
    if start < len(order):
        out.append(order[start:])
    return out


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


def forward_backward(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end=None):
    """Forward and backward recursions in log space.

    Parameters
    ----------
    E : ndarray of shape (B, T, K)
        Emission scores, padded.
    mask : ndarray of shape (B, T), bool
        True at real words; every sentence has at least one word.
    A : ndarray of shape (K, K)
    A0 : ndarray of shape (K,)
    end : ndarray of shape (K,), optional
        Scores of the last tag (decoding's constraints: 0 or -inf); none when training.

    Returns
    -------
    alpha, beta : ndarray of shape (B, T, K)
    log_Z : ndarray of shape (B,)
    """
    B, T, K = E.shape
    alpha = np.empty_like(E)
    beta = np.zeros_like(E)
    last = 0.0 if end is None else end  # beta at a sentence's last word
    if end is not None:
        beta[:, T - 1] = end
    alpha[:, 0] = A0 + E[:, 0]  # alpha_0 = A0 + E[0]
    for t in range(1, T):
        # alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E[t, j]
        step = logsumexp(alpha[:, t - 1, :, None] + A[None], axis=1) + E[:, t]
        alpha[:, t] = np.where(mask[:, t, None], step, alpha[:, t - 1])
    log_Z = logsumexp(alpha[:, T - 1] + last, axis=-1)  # alpha is carried through the padding
    for t in range(T - 2, -1, -1):
        # beta_t[i] = logsumexp_j(A[i, j] + E[t+1, j] + beta_{t+1}[j]); 0 at a sentence's last word
        step = logsumexp(A[None] + (E[:, t + 1] + beta[:, t + 1])[:, None, :], axis=2)
        beta[:, t] = np.where(mask[:, t + 1, None], step, last)
    return alpha, beta, log_Z


def path_scores(E: np.ndarray, mask: np.ndarray, y: np.ndarray, A: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """s(y) for each sentence of the batch; ``y`` of shape (B, T) (any value at padding)."""
    B, T, _ = E.shape
    rows = np.arange(B)[:, None]
    emit = np.where(mask, E[rows, np.arange(T)[None, :], y], 0.0).sum(axis=1)
    trans = np.where(mask[:, 1:], A[y[:, :-1], y[:, 1:]], 0.0).sum(axis=1)
    return A0[y[:, 0]] + emit + trans


def sll_loss_and_grads(E: np.ndarray, mask: np.ndarray, y: np.ndarray, A: np.ndarray, A0: np.ndarray):
    """Summed negative log-likelihood of the gold paths and its exact gradients.

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
    B, T, K = E.shape
    alpha, beta, log_Z = forward_backward(E, mask, A, A0)
    J = float(np.sum(log_Z - path_scores(E, mask, y, A, A0)))
    onehot = np.zeros_like(E)
    np.put_along_axis(onehot, np.where(mask, y, 0)[:, :, None], 1.0, axis=2)
    onehot *= mask[:, :, None]
    p = np.exp(alpha + beta - log_Z[:, None, None]) * mask[:, :, None]  # p_t(j)
    grad_E = p - onehot  # dJ/dE[t, j] = p_t(j) - 1[y_t = j]
    grad_A0 = p[:, 0].sum(axis=0) - onehot[:, 0].sum(axis=0)  # dJ/dA0 = p_0 - 1[y_0]
    grad_A = np.zeros_like(A)
    if T > 1:
        # p_t(i, j) = exp(alpha_{t-1}[i] + A[i, j] + E[t, j] + beta_t[j] - log Z), for t >= 1
        pair = np.exp(alpha[:, :-1, :, None] + A[None, None] + (E[:, 1:] + beta[:, 1:])[:, :, None, :]
                      - log_Z[:, None, None, None])
        pair *= mask[:, 1:, None, None]
        observed = np.einsum("bti,btj->ij", onehot[:, :-1], onehot[:, 1:])  # zero past the end
        grad_A = pair.sum(axis=(0, 1)) - observed  # dJ/dA = sum_t p_t(i, j) - counts
    return J, grad_E, grad_A, grad_A0


def marginals(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """Posterior tag probabilities p_t(j) of shape (B, T, K) (zero at padding)."""
    alpha, beta, log_Z = forward_backward(E, mask, A, A0)
    return np.exp(alpha + beta - log_Z[:, None, None]) * mask[:, :, None]


def viterbi(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end=None) -> np.ndarray:
    """The highest-scoring tag path of each sentence, shape (B, T) (0 at padding).

    delta_0 = A0 + E[0];  delta_t[j] = max_i(delta_{t-1}[i] + A[i, j]) + E[t, j]; then follow
    the argmax back-pointers from the best last tag (by delta + ``end`` when given).
    """
    B, T, K = E.shape
    delta = A0 + E[:, 0]
    back = np.zeros((B, T, K), dtype=np.int64)
    back[:, 0] = np.arange(K)
    for t in range(1, T):
        cand = delta[:, :, None] + A[None]  # (B, i, j)
        best_prev = np.argmax(cand, axis=1)
        step = np.take_along_axis(cand, best_prev[:, None, :], axis=1)[:, 0] + E[:, t]
        live = mask[:, t]
        delta = np.where(live[:, None], step, delta)
        # at padding each tag points to itself, so the path walks back to the last real word
        back[:, t] = np.where(live[:, None], best_prev, np.arange(K)[None, :])
    path = np.zeros((B, T), dtype=np.int64)
    path[:, T - 1] = np.argmax(delta if end is None else delta + end, axis=1)
    rows = np.arange(B)
    for t in range(T - 1, 0, -1):
        path[:, t - 1] = back[rows, t, path[:, t]]
    return np.where(mask, path, 0)


def _by_length(lengths, batch: int, which=None):
    """Batches of sentences of similar length (so padding stays small): each batch's sentence
    indices, their lengths and their rows in the back-to-back layout. ``which`` limits the
    batches to those sentences (default: all)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    which = np.arange(len(lengths)) if which is None else np.asarray(which, dtype=np.int64)
    order = which[np.argsort(lengths[which], kind="stable")]
    for b in range(0, len(order), batch):
        idx = order[b:b + batch]
        rows = np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in idx])
        yield idx, lengths[idx], rows


def decode(scores: np.ndarray, lengths, A: np.ndarray, A0: np.ndarray, *, end=None, batch: int = 512) -> np.ndarray:
    """Viterbi tag indices for sentences whose emission rows are back to back in ``scores``.

    Returns
    -------
    ndarray of shape (sum(lengths),), int
    """
    out = np.empty(scores.shape[0], dtype=np.int64)
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    for _, batch_lengths, rows in _by_length(lengths, batch):
        E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
        out[rows] = viterbi(E, mask, A, A0, end)[mask]
    return out


def posteriors(scores: np.ndarray, lengths, A: np.ndarray, A0: np.ndarray, *, end=None,
               batch: int = 512) -> np.ndarray:
    """Posterior tag probabilities p_t(j) of every word, rows back to back, shape (sum(lengths), K)."""
    out = np.empty(scores.shape, dtype=np.float64)
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    for _, batch_lengths, rows in _by_length(lengths, batch):
        E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
        alpha, beta, log_Z = forward_backward(E, mask, A, A0, end)
        out[rows] = np.exp(alpha + beta - log_Z[:, None, None])[mask]
    return out


def span_log_probabilities(scores: np.ndarray, lengths, A: np.ndarray, A0: np.ndarray, end, spans) -> list:
    """log P(the words s..e form one entity) under the chain, for each span of each sentence.

    ``spans[b]`` lists sentence b's spans as ``(s, e, rules)``, s <= e inclusive, with ``rules``
    the boolean arrays ``(first, first_at_start, inner, after, at_end)`` of the entity's type:
    ``first[i, j]`` (tag j may open the entity after tag i), ``first_at_start[j]`` (at a
    sentence's start), ``inner[i, j]`` (j continues an entity whose previous word has tag i),
    ``after[j, k]`` (tag k after j closes it) and ``at_end[j]`` (a sentence's end closes it).
    The sum over every tag path with that entity is a forward recursion restricted to the span,
    started from alpha_{s-1} and closed with beta_{e+1} (``end`` as in :func:`forward_backward`):

        f_s[j] = LSE_{i: first[i, j]}(alpha_{s-1}[i] + A[i, j]) + E[s, j]   (A0[j] + E[0, j] at s = 0)
        f_t[j] = LSE_{i: inner[i, j]}(f_{t-1}[i] + A[i, j]) + E[t, j]
        log P  = LSE_{j, k: after[j, k]}(f_e[j] + A[j, k] + E[e+1, k] + beta_{e+1}[k]) - log Z
                 (LSE_{j: at_end[j]}(f_e[j] + end[j]) - log Z at the sentence's end)

    Returns a list (one per sentence) of float arrays, one log-probability per span.
    """
    A, A0 = A.astype(np.float64), A0.astype(np.float64)
    last = np.zeros(A.shape[0]) if end is None else np.asarray(end, dtype=np.float64)
    lengths = np.asarray(lengths, dtype=np.int64)
    out = [np.zeros(0) for _ in lengths]
    # the sentences that have spans, by length, 512 at a time: one forward-backward per batch
    wanted = [i for i in range(len(lengths)) if spans[i]]
    with np.errstate(divide="ignore", invalid="ignore"):
        for batch, batch_lengths, rows in _by_length(lengths, 512, wanted):
            E, mask = pad(scores[rows].astype(np.float64), batch_lengths)
            alpha, beta, log_Z = forward_backward(E, mask, A, A0, end)
            for j, i in enumerate(batch):
                n = lengths[i]
                out[i] = np.array([_span(span, E[j, :n], alpha[j, :n], beta[j, :n], A, A0, last) - log_Z[j]
                                   for span in spans[i]])
    return out


def _span(span, E, alpha, beta, A, A0, last) -> float:
    """log of the total score of the paths in which words s..e form the entity (before - log Z)."""
    s, e, (first, first_at_start, inner, after, at_end) = span
    if s == 0:
        f = np.where(first_at_start, A0 + E[0], -np.inf)
    else:
        f = _lse(np.where(first, alpha[s - 1][:, None] + A, -np.inf), axis=0) + E[s]
    for t in range(s + 1, e + 1):
        f = _lse(np.where(inner, f[:, None] + A, -np.inf), axis=0) + E[t]
    if e == len(E) - 1:
        return float(_lse(np.where(at_end, f + last, -np.inf), axis=0))
    return float(_lse(np.where(after, f[:, None] + A + (E[e + 1] + beta[e + 1])[None, :], -np.inf), axis=None))


def _lse(z: np.ndarray, axis):
    """logsumexp that gives -inf, not NaN, where every term is -inf (disallowed paths)."""
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m, axis=axis)


def sentence_loss_and_grads(network, ids, y, lengths, *, l2=0.0, train_tables=None, l2_tables=None,
                            anchors=None, dropout=None):
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
    E, mask = pad(fw.z2, lengths)
    Y, _ = pad(y, lengths)
    J, grad_E, grad_A, grad_A0 = sll_loss_and_grads(E, mask, Y, p["A"], p["A0"])
    J /= N  # the batch objective is a mean over words
    delta2 = (unpad(grad_E, mask) / N).astype(fw.z2.dtype)  # dJ/dz2, the window network's delta2
    if l2:
        J += weight_penalty(p, l2)
    grads = network.backward(fw, delta2, l2=l2, train_tables=train_tables)
    grads["A"] = (grad_A / N).astype(p["A"].dtype)
    grads["A0"] = (grad_A0 / N).astype(p["A0"].dtype)
    return row_penalty(J, p, grads, l2_tables, anchors), grads
