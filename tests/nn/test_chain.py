"""The rescaled forward-backward against the sequential log-space recursion, and its fallback."""

from __future__ import annotations

import numpy as np
import pytest

# The reference runs in extended precision where the platform has it (x86: 64-bit mantissa), so
from windowclf.nn import chain, chain_batches, sll

# The reference runs in extended precision where the platform has it (x86: 64-bit mantissa), so
# that the comparison measures the rescaled recursion's error, not the reference's own.
EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps
TOLERANCE = 1e-12 if EXTENDED else 1e-11


def _lse(z, axis):
    m = np.max(z, axis=axis, keepdims=True)
    return np.squeeze(np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m, axis=axis)


def _sequential(scores, lengths, A, A0):
    """log Z, p_t(j) and sum_t p_t(i, j) one sentence and one word at a time, in log space."""
    A, A0 = A.astype(np.longdouble), A0.astype(np.longdouble)
    K = A.shape[0]
    log_Z, p, pair, start = [], [], np.zeros((K, K), dtype=np.longdouble), 0
    for n in lengths:
        E = scores[start : start + n].astype(np.longdouble)
        start += n
        alpha, beta = np.empty((n, K), dtype=np.longdouble), np.zeros((n, K), dtype=np.longdouble)
        alpha[0] = A0 + E[0]
        for t in range(1, n):
            alpha[t] = _lse(alpha[t - 1][:, None] + A, 0) + E[t]
        for t in range(n - 2, -1, -1):
            beta[t] = _lse(A + (E[t + 1] + beta[t + 1])[None, :], 1)
        z = _lse(alpha[-1], 0)
        log_Z.append(z)
        p.append(np.exp(alpha + beta - z))
        for t in range(1, n):
            pair += np.exp(alpha[t - 1][:, None] + A + (E[t] + beta[t])[None, :] - z)
    return np.array(log_Z), np.concatenate(p), pair


def _time_major(scores, lengths):
    lengths = np.asarray(lengths)
    starts = np.cumsum(lengths) - lengths
    t_of = np.arange(len(scores)) - np.repeat(starts, lengths)
    b_of = np.repeat(np.arange(len(lengths)), lengths)
    E = np.zeros((lengths.max(), len(lengths), scores.shape[1]))
    E[t_of, b_of] = scores
    return E, t_of, b_of


def _problem(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.choice([3, 5, 17]))
    lengths = rng.integers(1, 50, size=int(rng.integers(1, 7)))
    scores = rng.normal(0, rng.choice([1.0, 5.0, 20.0]), size=(int(lengths.sum()), K))
    A = rng.normal(0, rng.choice([1.0, 3.0, 10.0]), size=(K, K))
    A0 = rng.normal(0, 3.0, size=K)
    return scores, lengths, A, A0, rng


@pytest.mark.parametrize("seed", range(12))
def test_rescaled_recursion_equals_the_sequential_log_space_recursion(seed):
    scores, lengths, A, A0, _ = _problem(seed)
    E, t_of, b_of = _time_major(scores, lengths)
    log_Z, p, pair = chain.scaled_expectations(E, lengths, A, A0)
    ref_Z, ref_p, ref_pair = _sequential(scores, lengths, A, A0)
    assert np.max(np.abs(log_Z - ref_Z) / np.maximum(np.abs(ref_Z), 1.0)) <= TOLERANCE
    # every posterior, relative to the largest (1 at most): a tag's probability is right to 1e-12
    assert np.max(np.abs(p[t_of, b_of] - ref_p)) <= TOLERANCE
    assert np.max(np.abs(pair - ref_pair)) <= TOLERANCE * np.max(ref_pair)
    assert np.all(p[~(np.arange(E.shape[0])[:, None] < lengths[None, :])] == 0)  # nothing at padding


@pytest.mark.parametrize("seed", range(4))
def test_sentence_loss_and_gradients_equal_the_log_space_ones(seed):
    scores, lengths, A, A0, rng = _problem(seed)
    y = rng.integers(0, A.shape[0], size=len(scores))
    J, grad_E, _, grad_A0 = sll.nll_and_grads(scores, lengths, y, A, A0)
    ref_Z, ref_p, _ = _sequential(scores, lengths, A, A0)
    Eb, mask = chain_batches.pad(scores, lengths)
    Y, _ = chain_batches.pad(y, lengths)
    gold = chain.path_scores(Eb, mask, Y, A, A0).sum()
    assert pytest.approx(float(ref_Z.sum() - gold), rel=TOLERANCE) == J
    onehot = np.eye(A.shape[0])[y]
    assert np.max(np.abs(grad_E - (ref_p - onehot))) <= TOLERANCE
    assert np.max(
        np.abs(grad_A0 - (ref_p[np.cumsum(lengths) - lengths] - onehot[np.cumsum(lengths) - lengths]).sum(0))
    ) <= TOLERANCE * len(lengths)


def test_scores_that_underflow_the_rescaled_recursion_take_the_log_space_path():
    rng = np.random.default_rng(0)
    K, lengths = 4, np.array([6, 3])
    scores = rng.normal(0, 1, size=(9, K))
    A = rng.normal(0, 1, size=(K, K))
    A[:, 0] -= 2000.0  # tag 0 after anything: exp underflows to 0 ...
    scores[:, 0] += 2000.0  # ... while its emissions are the largest: every step's sum underflows
    A0 = rng.normal(size=K)
    E, _, _ = _time_major(scores, lengths)
    assert chain.scaled_expectations(E, lengths, A, A0) is None
    y = rng.integers(0, K, size=9)
    J, grad_E, _, _ = sll.nll_and_grads(scores, lengths, y, A, A0)
    _, ref_p, _ = _sequential(scores, lengths, A, A0)
    assert np.isfinite(J) and np.all(np.isfinite(grad_E))
    np.testing.assert_allclose(grad_E + np.eye(K)[y], ref_p.astype(np.float64), atol=1e-9)


def test_non_finite_scores_give_a_non_finite_loss_not_an_error():
    scores = np.array([[0.0, np.inf], [1.0, 2.0]])
    J, _, _, _ = sll.nll_and_grads(scores, [2], np.array([0, 1]), np.zeros((2, 2)), np.zeros(2))
    assert not np.isfinite(J)
