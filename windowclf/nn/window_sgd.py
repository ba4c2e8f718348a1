"""Per-example SGD in few numpy calls, giving the general step's numbers to the last bit.

At batch size 1 a step of the window network is some 50,000 floating-point operations in about
forty numpy calls, so its cost is the calls. The general step (:meth:`WindowNetwork.loss_and_grads`,
then :meth:`SGD.update`) also builds a Forward record, a dict of gradients, a scipy word-by-slot
matrix and a RowGrad per table on every window, and runs its elementwise operations on (1, n)
arrays, which costs numpy a broadcasting pass each. :func:`one_window_sgd` allocates, once per
epoch, a buffer for every intermediate of one window and returns ``step(i)``, which runs window i
through the same equations, writing each result into its buffer (``out=``). Its forward pass is
:func:`windowclf.nn.network.layers`, the one every path shares, on 1-D buffers; its loss is the
output's one-window loss (``functions.ONE_WINDOW_LOSSES``); the backward pass and the update are
written out below for B = 1. ``WindowObjective.stepper`` alone decides where this step applies.

Every number it computes is the number the general step computes:

- The elementwise operations (+, -, *, and tanh, exp, log, expit, ... on contiguous arrays) give
  each element by itself, so running them on (n,) instead of (1, n) arrays, or into a buffer,
  changes no bit. Python floats in them (lr, l2) are cast to the parameters' dtype as numpy
  casts them (``lr * g`` with ``g`` float32 computes in float32); 0-d arrays of that dtype hold
  them here.
- ``np.dot`` in the backward pass makes the same BLAS call (``?gemv`` with the same order,
  transpose flag, sizes and leading dimension) as ``np.matmul`` on the general step's (1, n) rows.
- The outer products grad_W1 = delta1 x^T and grad_W2 = delta2 a1^T come from BLAS ``?gemm``
  with inner dimension 1, alpha = 1 and beta = 0 (scipy.linalg.blas; numpy's broadcasting
  spends most of a step on them): every entry is one product, rounded once, times 1, whatever
  the kernel, so it is the broadcast product's entry, up to the sign of a zero; and that sign
  changes no update (see the last point, which covers the + 0.0 the general step adds).
- Sums keep numpy's reductions; ``0 + g``, the sum over a batch of one, is ``g + 0.0``.
- ``delta2 /= B`` and ``J / B``: dividing by B = 1 is exact, so left out.
- The one-window softmax loss takes the max of z2 with Python's ``max``: it is the same value, and
  it can differ from numpy's only in the sign of a zero (max(-0.0, 0.0)) or for NaN. z2 - max then
  differs at most in the sign of a zero, whose exp is 1 either way, and J = 0 + (-log yhat_y)
  is +0.0 for either sign; a NaN makes J NaN either way, and training stops before the update.
- The sparse product ``S @ slices`` for a table's gradient: scipy starts every row at 0 and adds
  its slots' slices in slot order, so a word in one slot gets ``0 + s`` (= ``s + 0.0``), and a
  word in several slots ``(0 + s_a) + s_b + ...``; the step adds the same numbers in the same
  order. The running sum is never -0.0, so adding ``s_b + 0.0`` (computed for every slot) adds
  ``s_b``.
- ``theta.take(rows)`` in a table's row update: x holds those rows, gathered from the table at the
  start of the step, and nothing writes the table in between. The rows a step writes are
  distinct, so their order does not matter, except in the l2 term on them, whose sum runs over
  the rows in ascending order, as np.unique gives them; the step sorts them there.
- The ``+ 0.0`` of ``_batch_outer`` on grad_W1 and grad_W2, and the ``0 +`` of the batch sums
  grad_b1 and grad_b2: their update is ``theta - lr * (g + 0.0)``, where the + 0.0 only turns a
  -0.0 in g into +0.0; lr * g is then a zero either way, and ``w - 0.0`` and ``w - (-0.0)`` are
  both w unless w is -0.0. A subtraction gives -0.0 only as -0.0 - (+0.0) (rounding to nearest),
  so a weight never becomes -0.0 unless it was: for a dense parameter that holds no -0.0 at the
  start of the epoch (checked) the pass is skipped. The same holds with the l2 term added to g.
"""

from __future__ import annotations

from functools import partial
from math import isfinite
from typing import Any

import numpy as np

from windowclf.nn.functions import DERIVATIVES, ONE_WINDOW_LOSSES
from windowclf.nn.network import layers, row_penalty, weight_penalty
from windowclf.nn.rowgrad import RowGrad

__all__ = ["one_window_sgd"]


def _has_negative_zero(a: np.ndarray) -> bool:
    return bool(np.any((a == 0) & np.signbit(a)))


class _Rates:
    """The learning rate of every parameter as a 0-d array of the dtype, rebuilt when one changes.

    ``SGD.update`` computes ``lr * g``; a Python float or int lr is cast to g's dtype for that, as
    the 0-d array holds it. Any other lr (a numpy scalar may compute in its own precision) is
    kept as it is, and the update then runs the general expression.
    """

    def __init__(self, optimizer, names, dtype):
        self.optimizer, self.names, self.dtype = optimizer, names, dtype
        self.lr: object = object()
        self.key: Any = None
        self.rates: Any = None
        self.arrays = False  # whether the first four rates (W2, b2, W1, b1) are all 0-d arrays

    def get(self) -> list:
        lr, overrides = self.optimizer.lr, self.optimizer.lr_overrides
        if lr is self.lr and not overrides and not self.key[2]:
            return self.rates  # the same lr object as last time, and no overrides then or now
        key = (type(lr), lr, tuple((name, type(value), value) for name, value in overrides.items()))
        if key != self.key:
            self.rates = [self._rate(overrides.get(name, lr)) for name in self.names]
            self.arrays = all(type(rate) is np.ndarray for rate in self.rates[:4])
        self.lr, self.key = lr, key
        return self.rates

    def _rate(self, lr):
        return np.array(lr, dtype=self.dtype) if type(lr) in (float, int) else lr


def _update(theta, grad, lr):
    """theta <- theta - lr * grad, as SGD.update does it; lr * grad goes into grad's buffer."""
    if type(lr) is np.ndarray:
        np.multiply(grad, lr, grad)
        np.subtract(theta, grad, theta)
    else:
        theta -= lr * grad


def _outer_product_gemm(dtype, a_col, b_row, out_T):
    """scipy's BLAS ?gemm when it writes ``a_col @ b_row`` straight into ``out_T``; else None."""
    try:
        from scipy.linalg import blas
    except ImportError:  # pragma: no cover - scipy without its BLAS wrappers
        return None
    gemm = {np.dtype(np.float32): getattr(blas, "sgemm", None), np.dtype(np.float64): getattr(blas, "dgemm", None)}.get(
        np.dtype(dtype)
    )
    if gemm is None:
        return None
    a_col[...] = 1
    b_row[...] = 2
    out_T[...] = 0
    result = gemm(1.0, a_col, b_row, 0.0, out_T, 0, 0, 1)
    if result.shape != out_T.shape or not np.shares_memory(result, out_T) or not np.all(out_T == 2):
        return None  # the wrapper copied its output instead of writing into ours
    return gemm


def one_window_sgd(network, optimizer, inputs, y, *, l2=0.0, train_tables=None, l2_tables=None, anchors=None):
    """``step(i) -> J``: the per-example SGD step on window i.

    Parameters
    ----------
    network : WindowNetwork
    optimizer : SGD
        Its ``lr`` and ``lr_overrides`` are read at every step.
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids in range, one matrix per lookup table, in the order the steps will visit them.
    y : ndarray of shape (n_windows,)
    l2, train_tables, l2_tables, anchors
        As for :meth:`WindowNetwork.loss_and_grads`; ``l2`` a Python number.

    Returns
    -------
    callable
        ``step(i)`` computes J on window i as ``network.loss_and_grads`` does and, when J is
        finite, updates the parameters as ``optimizer.update`` does; it returns J (a non-finite
        J leaves every parameter as it was). Which networks, optimizers and settings it covers is
        decided by :meth:`WindowObjective.stepper <windowclf.training.objectives.WindowObjective.stepper>`
        alone; it is called only for those.
    """
    p = network.params
    dtype = network.dtype
    names = network.table_names
    C, H, K, D = network.window, network.hidden, network.n_outputs, network.input_dim
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    activation = network.activation
    derivative = DERIVATIVES[activation]
    window_loss = ONE_WINDOW_LOSSES[network.output](K, dtype)
    l2_tables = {name: lam for name, lam in (l2_tables or {}).items() if lam}
    trained = [name for name in names if train_tables is None or name in train_tables]
    # the + 0.0 passes matter only where a weight is -0.0 (module docstring)
    fix_W1, fix_b1, fix_W2, fix_b2 = (_has_negative_zero(a) for a in (W1, b1, W2, b2))

    empty = np.empty
    x, z1, a1, z2 = empty(D, dtype), empty(H, dtype), empty(H, dtype), empty(K, dtype)
    fprime, grad_h, delta1, b1_buffer = (empty(H, dtype) for _ in range(4))
    delta2, b2_buffer = empty(K, dtype), empty(K, dtype)
    grad_W1, grad_W2 = empty((H, D), dtype), empty((K, H), dtype)
    squares: Any = (empty((H, D), dtype), empty((K, H), dtype)) if l2 else (None, None)
    grad_x = empty(D, dtype)
    delta1_col, delta2_col = delta1[:, None], delta2[:, None]
    # grad_W1 = delta1 x^T and grad_W2 = delta2 a1^T from BLAS ?gemm: grad_W1 read column-major is
    # the (D, H) product x delta1^T
    x_col, delta1_row, grad_W1_T = x[:, None], delta1[None, :], grad_W1.T
    a1_col, delta2_row, grad_W2_T = a1[:, None], delta2[None, :], grad_W2.T
    outer = _outer_product_gemm(dtype, x_col, delta1_row, grad_W1_T)
    if outer is not None and _outer_product_gemm(dtype, a1_col, delta2_row, grad_W2_T) is None:
        outer = None
    zero = np.zeros((), dtype)
    l2_rate: Any = np.array(l2, dtype=dtype) if l2 else None
    rates = _Rates(optimizer, ["W2", "b2", "W1", "b1"] + trained, dtype)
    labels = np.asarray(y).tolist()  # ints: the loss indexes with them

    # Per table: the table, its ids in visiting order and its part of x as a (C, dim) view; for a
    # trained table also its part of grad_x, a buffer for its slots' gradients (flat and as one
    # view per slot) and whether each window's ids are distinct.
    lookups, row_grads = [], []
    offset = 0
    for name, dim, ids in zip(names, network.table_dims, inputs):
        table, width = p[name], C * dim
        ids = np.ascontiguousarray(ids)
        x_flat = x[offset : offset + width]
        # take(mode="clip") does not buffer its output as mode="raise" does; the ids are in range
        lookups.append((table, ids, x_flat.reshape(C, dim)))
        if name in trained:
            distinct = np.ones(len(ids), dtype=bool)
            for j in range(C):
                for k in range(j + 1, C):
                    distinct &= ids[:, j] != ids[:, k]
            values = empty(width, dtype)
            slot_values = list(values.reshape(C, dim))
            row_grads.append(
                (name, table, ids, x_flat, grad_x[offset : offset + width], values, slot_values, distinct.tolist())
            )
        offset += width
    single = lookups[0] if len(lookups) == 1 else None
    grad_b2 = b2_buffer if fix_b2 else delta2
    grad_b1 = b1_buffer if fix_b1 else delta1
    dense = ((W2, grad_W2), (b2, grad_b2), (W1, grad_W1), (b1, grad_b1))  # the update's order
    all_slots = list(range(C))
    dot, add, subtract, multiply = np.dot, np.add, np.subtract, np.multiply

    # out = delta a^T: BLAS ?gemm with k = 1 where it writes in place, else numpy's broadcast; one
    # bound call each
    if outer is not None:
        outer_W2 = partial(outer, 1.0, a1_col, delta2_row, 0.0, grad_W2_T, 0, 0, 1)
        outer_W1 = partial(outer, 1.0, x_col, delta1_row, 0.0, grad_W1_T, 0, 0, 1)
    else:
        outer_W2 = partial(multiply, delta2_col, a1, grad_W2)
        outer_W1 = partial(multiply, delta1_col, x, grad_W1)

    def step(i: int) -> float:
        # x = [L[w_1]; ...; L[w_C]; E[c_1]; ...]   (network.lookup: rows copied, as take copies them)
        if single is not None:
            single[0].take(single[1][i], 0, single[2], "clip")
        else:
            for table, ids, x_part in lookups:
                table.take(ids[i], 0, x_part, "clip")
        layers(p, activation, x, z1, a1, z2)  # z1, a1 = f(z1), z2: the one forward pass
        J = window_loss(z2, labels, i, delta2)  # -log yhat_y (or the logistic loss) and delta2
        if l2:
            J += weight_penalty(p, l2, squares)  # (lambda/2)(||W1||^2 + ||W2||^2)

        # backward, as network.backward with B = 1
        outer_W2()  # grad_W2 = delta2 a1^T
        if fix_W2:
            add(grad_W2, zero, grad_W2)  # the general step's + 0.0 (module docstring)
        dot(delta2, W2, grad_h)  # W2^T delta2
        derivative(z1, a1, fprime)
        multiply(fprime, grad_h, delta1)  # delta1 = f'(z1) * W2^T delta2
        outer_W1()  # grad_W1 = delta1 x^T
        if fix_W1:
            add(grad_W1, zero, grad_W1)
        if l2:
            l2_W1, l2_W2 = squares[0], squares[1]
            multiply(W1, l2_rate, l2_W1)
            add(grad_W1, l2_W1, grad_W1)  # + lambda W1
            multiply(W2, l2_rate, l2_W2)
            add(grad_W2, l2_W2, grad_W2)  # + lambda W2
        # grad_b2 = delta2, grad_b1 = delta1 (sums over one window: 0 + delta)
        if fix_b2:
            add(delta2, zero, grad_b2)
        if fix_b1:
            add(delta1, zero, grad_b1)
        if row_grads:
            dot(delta1, W1, grad_x)  # grad_x = W1^T delta1, one slice of n per slot
        if l2_tables:
            return _l2_rows_and_update(J, i, rates.get(), row_grads, p, l2_tables, anchors, dense, zero)
        if not isfinite(J):
            return J  # diverged: the caller stops, and no parameter has moved

        # SGD.update: theta <- theta - lr * grad
        rate = rates.get()
        if rates.arrays:  # _update written out: lr * grad into grad's buffer, then theta - it
            multiply(grad_W2, rate[0], grad_W2)
            subtract(W2, grad_W2, W2)
            multiply(grad_b2, rate[1], grad_b2)
            subtract(b2, grad_b2, b2)
            multiply(grad_W1, rate[2], grad_W1)
            subtract(W1, grad_W1, W1)
            multiply(grad_b1, rate[3], grad_b1)
            subtract(b1, grad_b1, b1)
        else:
            for (theta, grad), lr in zip(dense, rate):
                _update(theta, grad, lr)
        for (_, table, ids, x_flat, grad_part, values, slot_values, distinct), lr in zip(row_grads, rate[4:]):
            add(grad_part, zero, values)  # 0 + slice: each slot's term of S @ slices
            row_ids = ids[i].tolist()
            slots = all_slots if distinct[i] else _sum_repeated(row_ids, slot_values)
            # theta[rows] = theta.take(rows) - lr * values, the rows as x holds them
            if type(lr) is np.ndarray:
                multiply(values, lr, values)
                subtract(x_flat, values, values)
            else:
                slot_values = (x_flat - lr * values).reshape(len(row_ids), -1)
            for j in slots:
                table[row_ids[j]] = slot_values[j]
        return J

    return step


def _l2_rows_and_update(J, i, rate, row_grads, params, l2_tables, anchors, dense, zero):
    """The end of a step with an l2 term on the touched rows of some table (l2_tables).

    Each table's rows come in ascending order, as np.unique gives them, since the term sums over
    them; :func:`windowclf.nn.network.row_penalty` adds the terms. Returns J; the parameters move
    only when it is finite.
    """
    grads, updates = {}, []
    for (name, table, ids, x_flat, grad_part, values, slot_values, distinct), lr in zip(row_grads, rate[4:]):
        np.add(grad_part, zero, values)  # 0 + slice: each slot's term of S @ slices
        row_ids = ids[i].tolist()
        slots = list(range(len(row_ids))) if distinct[i] else _sum_repeated(row_ids, slot_values)
        slots = sorted(slots, key=row_ids.__getitem__)
        grads[name] = RowGrad(np.array([row_ids[j] for j in slots]), values.reshape(len(row_ids), -1)[slots])
        updates.append((table, grads[name], x_flat.reshape(len(row_ids), -1)[slots], lr))
    J = row_penalty(J, params, grads, l2_tables, anchors)
    if not isfinite(J):
        return J  # diverged: the caller stops, and no parameter has moved
    for (theta, grad), lr in zip(dense, rate):
        _update(theta, grad, lr)
    for table, g, row_x, lr in updates:
        table[g.rows] = row_x - lr * g.values  # theta[rows] = theta.take(rows) - lr * values
    return J


def _sum_repeated(row_ids, slot_values) -> list:
    """The first slot of each distinct id in a window, each holding the sum of its id's slots.

    ``slot_values[j]`` holds slot j's ``0 + slice``; an id's sum is added in slot order into its
    first slot, as the sparse product adds it.
    """
    first: dict[int, int] = {}
    keep: list = []
    for j, row in enumerate(row_ids):
        k = first.setdefault(row, j)
        if k == j:
            keep.append(j)
        else:
            np.add(slot_values[k], slot_values[j], slot_values[k])
    return keep
