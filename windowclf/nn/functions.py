"""Activations, their derivatives and the output losses, as lookup tables.

Every function takes and returns float arrays of the parameters' dtype. The
derivatives are written from the activation's own output where the seeds do so
(tanh: 1 - a^2, sigmoid: a (1 - a)), and from z otherwise (relu, hardtanh).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "ONE_WINDOW_LOSSES",
    "OUTPUTS",
    "glorot_uniform",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "softmax",
    "softplus",
]


# Each activation writes into ``out`` when given one (buffers reused from step to step) and
# allocates otherwise; either way every element is the same ufunc of its z. ``out`` is passed
# by position: the per-example step calls these some 50,000 times a second.
def _relu(z, out=None):
    return np.maximum(z, 0, out=out)


def _hardtanh(z, out=None):
    return np.clip(z, -1, 1, out)


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": expit,  # never overflows: it evaluates exp(-|z|) internally
    "relu": _relu,
    "hardtanh": _hardtanh,
}


# f'(z1) given (z1, a1 = f(z1)), into ``out`` when given.
def _tanh_derivative(z, a, out=None):
    out = np.multiply(a, a, out)
    return np.subtract(1, out, out)  # d tanh = 1 - tanh^2   (seed 003, eq. 5)


def _sigmoid_derivative(z, a, out=None):
    out = np.subtract(1, a, out)
    return np.multiply(a, out, out)  # d sigma = sigma (1 - sigma)   (seed 003, eq. 6)


def _relu_derivative(z, a, out=None):
    return np.greater(z, 0, out=np.empty_like(z) if out is None else out)  # 1[z1 > 0]   (seed 002)


def _hardtanh_derivative(z, a, out=None):
    out = np.abs(z, out)
    return np.less(out, 1, out)  # 1[|z1| < 1]


DERIVATIVES = {
    "tanh": _tanh_derivative,
    "sigmoid": _sigmoid_derivative,
    "relu": _relu_derivative,
    "hardtanh": _hardtanh_derivative,
}


def logsumexp(z, axis=-1):
    """log sum_k exp(z_k) along ``axis``, computed after subtracting the max.

    >>> float(logsumexp(np.array([1000.0, 1000.0])))  # no overflow
    1000.6931471805599
    """
    m = np.max(z, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True)) + m
    return np.squeeze(out, axis=axis)


def log_softmax(z):
    """log softmax over the last axis, stable for any finite z (shape kept)."""
    z = np.asarray(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_norm = np.exp(shifted).sum(axis=-1, keepdims=True)
    np.log(log_norm, out=log_norm)  # log sum exp(z - max)
    shifted -= log_norm
    return shifted


def softmax(z):
    """softmax over the last axis: exp(z - max) / sum exp(z - max) (shape kept)."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def sigmoid(z):
    """The logistic function 1 / (1 + e^-z), without overflow at any |z|."""
    return expit(z)


def softplus(z):
    """log(1 + e^z), stable: max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _softmax_loss(z2, y):
    """Cross-entropy -log yhat_y per row and delta2 = yhat - y; z2 (B, K), y (B,) int."""
    logp = log_softmax(z2)
    rows = np.arange(len(y))
    losses = -logp[rows, y]
    delta2 = np.exp(logp)  # yhat
    delta2[rows, y] -= 1  # delta2 = yhat - y   (seed 000 eq. 3; seed 004 4.1)
    return losses, delta2


def _logistic_loss(z2, y):
    """Logistic loss -y log h - (1-y) log(1-h) per row and delta2 = h - y; z2 (B, 1), y (B,)."""
    z = z2[:, 0]
    yf = y.astype(z2.dtype)
    # -y log sigma(z) - (1-y) log(1 - sigma(z)) = y softplus(-z) + (1-y) softplus(z)
    losses = yf * softplus(-z) + (1 - yf) * softplus(z)
    delta2 = (sigmoid(z) - yf)[:, None]  # delta2 = h - y   (seed 003 eq. 12)
    return losses, delta2


def softmax_one_window(n_outputs: int, dtype):
    """:func:`_softmax_loss` of one window, into buffers allocated once (the per-example step).

    Returns ``loss(z2, labels, i, delta2)``: -log yhat_y for z2 of shape (K,) and label
    ``labels[i]`` (a list or an int array), with delta2 = yhat - y written into ``delta2``; every number equals
    ``_softmax_loss(z2[None], labels[i:i + 1])``'s to the last bit (tests/test_fastpath.py).
    The max is Python's: the same value as numpy's but for the sign of a zero, whose exp is 1
    either way. A closure over its buffers, as the step runs it some 50,000 times a second.
    """
    logp, expz = np.empty(n_outputs, dtype), np.empty(n_outputs, dtype)
    z_max, norm = np.empty((), dtype), np.empty((), dtype)
    subtract, exp, log = np.subtract, np.exp, np.log
    reduce: Any = np.add.reduce  # called by position: (array, axis, dtype, out)

    def loss(z2, labels, i, delta2) -> float:
        z_max[()] = max(z2.tolist())
        subtract(z2, z_max, logp)
        exp(logp, expz)
        reduce(expz, 0, None, norm)
        log(norm, norm)
        subtract(logp, norm, logp)  # log_softmax(z2)
        label = labels[i]
        exp(logp, delta2)
        delta2[label] -= 1  # delta2 = yhat - y   (seed 000 eq. 3; seed 004 4.1)
        return 0.0 + -logp.item(label)  # the batch sum over one window: 0 + (-log yhat_y)

    return loss


def logistic_one_window(n_outputs: int, dtype):
    """:func:`_logistic_loss` of one window (z2 of shape (1,)), delta2 = h - y written into ``delta2``."""

    def loss(z2, labels, i, delta2) -> float:
        losses, d2 = _logistic_loss(z2[None, :], np.asarray(labels[i : i + 1]))
        delta2[:] = d2[0]
        return float(losses.sum())

    return loss


def _softmax_predict(z2):
    return softmax(z2)


def _logistic_predict(z2):
    h = sigmoid(z2[:, 0])
    return np.stack([1 - h, h], axis=1)


# name -> (loss_and_delta(z2, y), probabilities(z2) of shape (B, K)); the logistic output has
# one output unit but reports probabilities for the two classes (negative, positive).
OUTPUTS = {
    "softmax": (_softmax_loss, _softmax_predict),
    "sigmoid": (_logistic_loss, _logistic_predict),
}

# name -> the output's loss for one window into buffers (per-example SGD), equal to OUTPUTS' loss.
ONE_WINDOW_LOSSES = {"softmax": softmax_one_window, "sigmoid": logistic_one_window}


def glorot_uniform(rng: np.random.Generator, fan_out: int, fan_in: int, dtype) -> np.ndarray:
    """Glorot & Bengio's uniform initialization: U(-eps, eps), eps = sqrt(6 / (fan_in + fan_out)).

    Returns an array of shape (fan_out, fan_in) in ``dtype``, drawn in float64 from ``rng``.
    """
    eps = np.sqrt(6.0) / np.sqrt(fan_in + fan_out)
    return rng.uniform(-eps, eps, size=(fan_out, fan_in)).astype(dtype)
