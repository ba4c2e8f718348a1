"""Activations, their derivatives and the output losses, as lookup tables.

Every function takes and returns float arrays of the parameters' dtype. The
derivatives are written from the activation's own output where the seeds do so
(tanh: 1 - a^2, sigmoid: a (1 - a)), and from z otherwise (relu, hardtanh).
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = [
    "ACTIVATIONS",
    "DERIVATIVES",
    "OUTPUTS",
    "softmax",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "softplus",
]


def _tanh(z):
    return np.tanh(z)


def _sigmoid(z):
    # expit never overflows: it evaluates exp(-|z|) internally.
    return expit(z)


def _relu(z):
    return np.maximum(z, 0)


def _hardtanh(z):
    return np.clip(z, -1, 1)


ACTIVATIONS = {
    "tanh": _tanh,
    "sigmoid": _sigmoid,
    "relu": _relu,
    "hardtanh": _hardtanh,
}

# f'(z1) given (z1, a1 = f(z1)).
DERIVATIVES = {
    "tanh": lambda z, a: 1 - a * a,  # d tanh = 1 - tanh^2   (seed 003, eq. 5)
    "sigmoid": lambda z, a: a * (1 - a),  # d sigma = sigma (1 - sigma)   (seed 003, eq. 6)
    "relu": lambda z, a: (z > 0).astype(z.dtype),  # 1[z1 > 0]   (seed 002)
    "hardtanh": lambda z, a: (np.abs(z) < 1).astype(z.dtype),
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
