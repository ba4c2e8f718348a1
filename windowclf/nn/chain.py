"""Linear-chain recursions over padded batches of sentences: forward-backward, Viterbi, spans.

A batch of B sentences is padded to the longest, T words: emission scores ``E`` (B, T, K), a
boolean ``mask`` (B, T) of the real words, transition scores ``A`` (K, K; ``A[i, j]`` = tag j
after tag i), start scores ``A0`` (K,) and optional end scores ``end`` (K,; decoding's
constraints, 0 or -inf). A tag path y scores

    s(y) = A0[y_0] + E[0, y_0] + sum_{t>=1} (A[y_{t-1}, y_t] + E[t, y_t]) [+ end[y_{T-1}]]

and log Z is the log of the sum of exp s over all K^T paths. Two forward-backward recursions
compute it and the posteriors of tags and tag pairs:

* :func:`forward_backward`, in log space (a logsumexp over K x K terms per word): the reference,
  exact for any scores, used by decoding and span probabilities;
* :func:`scaled_expectations`, in probability space with every step rescaled to sum 1 (Rabiner
  1989): one (B, K) @ (K, K) product per word instead of a (B, K, K) logsumexp, in float64. It
  gives up (returns None) when a step's sum underflows, and the caller takes the log-space path;
  ``tests/test_chain.py`` holds it to the log-space recursion within 1e-12 (relative).
"""

from __future__ import annotations

import numpy as np

from windowclf.nn.functions import logsumexp

__all__ = ["forward_backward", "path_scores", "scaled_expectations", "span_log_probabilities", "viterbi"]

# A rescaled step whose sum falls below this has lost digits to underflow (float64's normal range
# ends near 1e-308): the log-space recursion takes over.
_SMALLEST_SCALE = 1e-250


def forward_backward(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end=None):
    """Forward and backward recursions in log space.

        alpha_0 = A0 + E[0];   alpha_t[j] = logsumexp_i(alpha_{t-1}[i] + A[i, j]) + E[t, j]
        beta_{T-1} = end (or 0); beta_t[i] = logsumexp_j(A[i, j] + E[t+1, j] + beta_{t+1}[j])
        log Z = logsumexp_j(alpha_{T-1}[j] + beta_{T-1}[j])

    At padded positions alpha is carried over unchanged and beta is the end score, so they change
    nothing.

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
    T = E.shape[1]
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


def scaled_expectations(E: np.ndarray, lengths: np.ndarray, A: np.ndarray, A0: np.ndarray):
    """log Z, the tag posteriors and the summed pair posteriors, by the rescaled recursion.

    With every score shifted by its maximum (so no exponential overflows), G[t, j] =
    exp(E[t, j] - max_k E[t, k]), P = exp(A - max A), P0 = exp(A0 - max A0):

        a_0 = P0 * G[0];                  c_0 = sum a_0;   alpha^_0 = a_0 / c_0
        a_t = (alpha^_{t-1} @ P) * G[t];  c_t = sum a_t;   alpha^_t = a_t / c_t
        beta^_{T-1} = 1;                  beta^_t = P @ (G[t+1] * beta^_{t+1}) / c_{t+1}

        log Z    = sum_t (log c_t + max_k E[t, k]) + max A0 + (T - 1) max A
        p_t(j)   = alpha^_t[j] beta^_t[j]
        sum_t p_t(i, j) = P[i, j] sum_{t>=1} alpha^_{t-1}[i] G[t, j] beta^_t[j] / c_t

    Parameters
    ----------
    E : ndarray of shape (T, B, K), float64
        Emission scores, time-major and padded (any finite value at padding).
    lengths : ndarray of shape (B,)
        Words per sentence (>= 1).
    A, A0 : finite float64 transition (K, K) and start (K,) scores

    Returns
    -------
    (log_Z (B,), p (T, B, K) zero at padding, pair (K, K)), or None when a step underflowed.
    """
    T, B, K = E.shape
    lengths = np.asarray(lengths)
    live = np.arange(T)[:, None] < lengths[None, :]  # (T, B): real words
    alpha, c = np.empty_like(E), np.empty((T, B))
    with np.errstate(all="ignore"):  # an underflow, or scores not finite, shows in c, checked below
        top = E.max(axis=2)  # (T, B)
        G = np.exp(E - top[:, :, None])
        A_max, A0_max = A.max(), A0.max()
        P, P0 = np.exp(A - A_max), np.exp(A0 - A0_max)
        # one view per word, taken once: the loops below are a few small BLAS and ufunc calls a word
        al, gs, cs = list(alpha), list(G), list(c[:, :, None])
        reduce = np.add.reduce
        np.multiply(P0, gs[0], out=al[0])  # a_0 = P0 * G[0]
        reduce(al[0], 1, out=c[0])  # c_0
        np.divide(al[0], cs[0], out=al[0])
        for t in range(1, T):
            np.dot(al[t - 1], P, out=al[t])  # a_t = (alpha^_{t-1} @ P) * G[t]
            np.multiply(al[t], gs[t], out=al[t])
            reduce(al[t], 1, out=c[t])  # c_t
            np.divide(al[t], cs[t], out=al[t])
    # the padding too: a sum that underflowed there would turn its zeros into NaN
    if not np.all(c >= _SMALLEST_SCALE):  # NaN fails too
        return None
    log_Z = np.where(live, np.log(c) + top, 0.0).sum(axis=0) + A0_max + (lengths - 1) * A_max
    # beta^ is 1 at a sentence's last word and 0 past it, so the padding adds nothing
    G /= c[:, :, None]  # G[t] / c_t from here on
    beta, Y = np.empty_like(G), np.empty_like(G)  # Y[t] = G[t] beta^_t / c_t
    be, ys, PT = list(beta), list(Y), np.ascontiguousarray(P.T)
    last = list((np.arange(T)[:, None] == lengths[None, :] - 1)[:, :, None])
    be[T - 1][...] = live[T - 1, :, None]
    for t in range(T - 1, 0, -1):
        np.multiply(gs[t], be[t], out=ys[t])
        np.dot(ys[t], PT, out=be[t - 1])  # beta^_{t-1} = P @ (G[t] beta^_t) / c_t
        np.copyto(be[t - 1], 1.0, where=last[t - 1])
    p = alpha * beta  # zero at padding, where beta^ is
    # sum_j p_t(j) is 1 at every word unless a tag's forward value underflowed where it mattered
    if not np.all(np.abs(p.sum(axis=2)[live] - 1.0) <= 1e-9):
        return None
    pair = P * (alpha[:-1].reshape(-1, K).T @ Y[1:].reshape(-1, K))  # Y is zero at padding
    return log_Z, p, pair


def scaled_posteriors(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end=None):
    """The tag posteriors p_t(j) by the rescaled recursion of :func:`scaled_expectations`, for
    decoding: scores may be -inf where the scheme forbids a start, pair or end (``end``: as in
    :func:`forward_backward`). With F = exp(end - max end) (1 without ``end``),

        beta^_{T-1}[j] = F[j] / sum_k alpha^_{T-1}[k] F[k];   beta^_t, p_t as in scaled_expectations

    Parameters
    ----------
    E : ndarray of shape (B, T, K), float64
        Emission scores, padded (finite everywhere).
    mask : ndarray of shape (B, T), bool
        True at real words; every sentence has at least one.
    A, A0, end : transition (K, K), start (K,) and optional end (K,) scores, float64

    Returns
    -------
    ndarray of shape (B, T, K), zero at padding, or None when a step underflowed or the
    posteriors do not sum to 1 within 1e-9 (the caller then takes :func:`forward_backward`).
    """
    B, T, K = E.shape
    lengths = mask.sum(axis=1)
    # tag-major, time first: each step's (K, B) is contiguous and its sum over the tags a reduction
    # of whole rows, which numpy does many times faster than one over a short last axis
    Et = np.ascontiguousarray(E.transpose(1, 2, 0))  # (T, K, B)
    live = mask.T  # (T, B)
    alpha, inverse = np.empty_like(Et), np.empty((T, 1, B))
    with np.errstate(all="ignore"):  # underflow or -inf everywhere shows in c and s, checked below
        G = np.exp(Et - Et.max(axis=1, keepdims=True))
        P, P0 = np.exp(A - A.max()), np.exp(A0 - A0.max())
        PT = np.ascontiguousarray(P.T)
        al, gs, inv = list(alpha), list(G), list(inverse)
        c = np.empty((T, B))
        reduce = np.add.reduce
        np.multiply(P0[:, None], gs[0], out=al[0])  # a_0 = P0 * G[0]
        for t in range(T):
            if t:
                np.dot(PT, al[t - 1], out=al[t])  # a_t = (alpha^_{t-1} @ P) * G[t], tag-major
                np.multiply(al[t], gs[t], out=al[t])
            reduce(al[t], 0, out=c[t])  # c_t
            np.divide(1.0, c[t], out=inv[t][0])
            np.multiply(al[t], inv[t], out=al[t])
        rows = np.arange(B)
        final = alpha[lengths - 1, :, rows]  # alpha^ at each sentence's last word (B, K)
        F = np.ones(K) if end is None else np.exp(end - np.max(end))
        s = final @ F
        if not (np.all(c[live] >= _SMALLEST_SCALE) and np.all(s >= _SMALLEST_SCALE)):
            return None
        inverse[~live[:, None, :]] = 1.0  # past a sentence's end beta^ is 0: its steps only must stay finite
        G *= inverse  # G[t] / c_t from here on
        beta = np.zeros_like(G)
        be, Y = list(beta), np.empty((K, B))
        ends = (F[:, None] / s[None, :]).T  # beta^ at each sentence's last word (B, K)
        is_last = list((np.arange(T)[:, None] == lengths[None, :] - 1)[:, None, :])
        beta[lengths - 1, :, rows] = ends
        ends = np.ascontiguousarray(ends.T)  # (K, B)
        for t in range(T - 1, 0, -1):
            np.multiply(gs[t], be[t], out=Y)
            np.dot(P, Y, out=be[t - 1])  # beta^_{t-1} = P @ (G[t] beta^_t) / c_t
            np.copyto(be[t - 1], ends, where=is_last[t - 1])
        p = alpha * beta  # zero at padding, where beta^ is
    if not np.all(np.abs(p.sum(axis=1).T[mask] - 1.0) <= 1e-9):  # NaN fails too
        return None
    return p.transpose(2, 0, 1)


def path_scores(E: np.ndarray, mask: np.ndarray, y: np.ndarray, A: np.ndarray, A0: np.ndarray) -> np.ndarray:
    """s(y) for each sentence of the batch; ``y`` of shape (B, T) (any value at padding)."""
    B, T, _ = E.shape
    rows = np.arange(B)[:, None]
    emit = np.where(mask, E[rows, np.arange(T)[None, :], y], 0.0).sum(axis=1)
    trans = np.where(mask[:, 1:], A[y[:, :-1], y[:, 1:]], 0.0).sum(axis=1)
    return A0[y[:, 0]] + emit + trans


def viterbi(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end=None) -> np.ndarray:
    """The highest-scoring tag path of each sentence, shape (B, T) (0 at padding).

    delta_0 = A0 + E[0];  delta_t[j] = max_i(delta_{t-1}[i] + A[i, j]) + E[t, j]; then follow
    the argmax back-pointers (the first best i) from the best last tag (by delta + ``end`` when
    given). The max runs over the tags i allowed before j (A[i, j] > -inf), the tags j that allow
    the same ones taken together (IOBES: 9 + 4 x 2 pairs of 17 x 17), tag-major so that each
    step is a few operations on whole (tags, B) rows.
    """
    B, T, K = E.shape
    Et = np.ascontiguousarray(E.transpose(1, 2, 0))  # (T, K, B)
    live = mask.T
    tags = np.arange(K)[:, None]
    back = np.empty((T, K, B), dtype=np.int8 if K <= 127 else np.int64)
    back[0] = tags
    delta = A0[:, None] + Et[0]  # (K, B)
    step, best = np.empty_like(delta), np.empty((K, B), dtype=back.dtype)
    groups = _predecessor_groups(A)
    for t in range(1, T):
        for targets, before in groups:  # delta_t[j] = max_{i before j}(delta_{t-1}[i] + A[i, j]) + E[t, j]
            A_to = A[:, targets][:, :, None]  # (K, |targets|, 1)
            top = delta[before[0]] + A_to[before[0]]  # (|targets|, B)
            arg = np.full(top.shape, before[0], dtype=back.dtype)
            for i in before[1:]:
                cand = delta[i] + A_to[i]
                np.copyto(arg, i, where=cand > top)  # the first best i
                np.maximum(top, cand, out=top)
            step[targets] = top
            best[targets] = arg
        step += Et[t]
        if live[t].all():
            delta, step = step, delta
            back[t] = best
        else:  # at padding delta stays and each tag points to itself: the path walks back to the last word
            delta = np.where(live[t], step, delta)
            back[t] = np.where(live[t], best, tags)
    path = np.empty((T, B), dtype=np.int64)
    path[T - 1] = np.argmax(delta if end is None else delta + end[:, None], axis=0)
    rows = np.arange(B)
    for t in range(T - 1, 0, -1):
        path[t - 1] = back[t, path[t], rows]
    return np.where(mask, path.T, 0)


def _predecessor_groups(A: np.ndarray) -> list:
    """(targets, tags allowed before them) for the tags j whose allowed predecessors (A[i, j] > -inf)
    are the same, in order of first target; a tag none may follow keeps every tag as one."""
    allowed = np.isfinite(A) | (A > 0)  # A[i, j] > -inf
    groups: dict = {}
    for j in range(A.shape[1]):
        before = tuple(np.flatnonzero(allowed[:, j]).tolist()) or tuple(range(A.shape[0]))
        groups.setdefault(before, []).append(j)
    return [(np.array(targets), list(before)) for before, targets in groups.items()]


def span_log_probabilities(E: np.ndarray, mask: np.ndarray, A: np.ndarray, A0: np.ndarray, end, spans) -> list:
    """log P(the words s .. e - 1 form one entity) under the chain, for each span of each sentence.

    ``spans[b]`` lists sentence b's spans as ``(s, e, rules)``, s < e (``e`` exclusive), with ``rules``
    the boolean arrays ``(first, first_at_start, inner, after, at_end)`` of the entity's type:
    ``first[i, j]`` (tag j may open the entity after tag i), ``first_at_start[j]`` (at a
    sentence's start), ``inner[i, j]`` (j continues an entity whose previous word has tag i),
    ``after[j, k]`` (tag k after j closes it) and ``at_end[j]`` (a sentence's end closes it).
    The sum over every tag path with that entity is a forward recursion restricted to the span,
    started from alpha_{s-1} and closed with beta_e (``end`` as in :func:`forward_backward`):

        f_s[j] = LSE_{i: first[i, j]}(alpha_{s-1}[i] + A[i, j]) + E[s, j]   (A0[j] + E[0, j] at s = 0)
        f_t[j] = LSE_{i: inner[i, j]}(f_{t-1}[i] + A[i, j]) + E[t, j]
        log P  = LSE_{j, k: after[j, k]}(f_{e-1}[j] + A[j, k] + E[e, k] + beta_e[k]) - log Z
                 (LSE_{j: at_end[j]}(f_{e-1}[j] + end[j]) - log Z at the sentence's end)

    Every span of the batch runs the recursion at once (one step a word of the longest span, each
    span's own rules as masks), so the cost is a few array operations a word, not a Python loop a span.

    Returns a list (one per sentence of the batch) of float arrays, one log-probability per span.
    """
    K = A.shape[0]
    last = np.zeros(K) if end is None else np.asarray(end, dtype=np.float64)
    alpha, beta, log_Z = forward_backward(E, mask, A, A0, end)
    counts = [len(row) for row in spans]
    if not sum(counts):
        return [np.zeros(0) for _ in spans]
    b = np.repeat(np.arange(len(spans)), counts)
    s = np.array([span[0] for row in spans for span in row], dtype=np.int64)
    e = np.array([span[1] for row in spans for span in row], dtype=np.int64) - 1  # each entity's last word
    first, first_at_start, inner, after, at_end = (
        np.stack([span[2][k] for row in spans for span in row]) for k in range(5)
    )
    n = mask.sum(axis=1)[b]
    T = E.shape[1]
    NEG = -np.inf
    # f_s: the entity's first word, from alpha_{s-1} (or the start scores A0 at a sentence's start)
    opened = _lse(np.where(first, alpha[b, np.maximum(s - 1, 0)][:, :, None] + A, NEG), axis=1) + E[b, s]
    f = np.where((s == 0)[:, None], np.where(first_at_start, A0 + E[b, 0], NEG), opened)
    # f_t for its inner words: every span moves one word a step while it has words left
    for step in range(1, int((e - s).max()) + 1):
        going = s + step <= e
        t = np.minimum(s + step, T - 1)
        f = np.where(going[:, None], _lse(np.where(inner, f[:, :, None] + A, NEG), axis=1) + E[b, t], f)
    # closed by the sentence's end, or by the tag of the word after it
    at_sentence_end = e == n - 1
    nxt = np.minimum(e + 1, T - 1)
    closed_at_end = _lse(np.where(at_end, f + last, NEG), axis=1)
    closing = (E[b, nxt] + beta[b, nxt])[:, None, :]
    closed_inside = _lse(np.where(after, f[:, :, None] + A + closing, NEG).reshape(len(b), K * K), axis=1)
    logs = np.where(at_sentence_end, closed_at_end, closed_inside) - log_Z[b]
    return np.split(logs, np.cumsum(counts)[:-1])


def _lse(z: np.ndarray, axis):
    """logsumexp that gives -inf, not NaN, where every term is -inf (disallowed paths)."""
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.squeeze(np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m, axis=axis)
