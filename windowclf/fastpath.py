"""Fast paths that give the general path's numbers to the last bit: per-example SGD, and the
chunked forward pass of tagging (:func:`chunked_scores`, at the end).

At batch size 1 a step of the window network is some 50,000 floating-point operations in about
forty numpy calls, so its cost is the calls. The general step (:meth:`WindowNetwork.loss_and_grads`,
then :meth:`SGD.update`) also builds a Forward record, a dict of gradients, a scipy word-by-slot
matrix and a RowGrad per table on every window, and runs its elementwise operations on (1, n)
arrays, which costs numpy a broadcasting pass each. :func:`one_window_sgd` allocates, once per
epoch, a buffer for every intermediate of one window and returns ``step(i)``, which runs window i
through the same equations, writing each result into its buffer (``out=``).

Every number it computes is the number the general step computes:

- The elementwise operations (+, -, *, and tanh, exp, log, expit, ... on contiguous arrays) give
  each element by itself, so running them on (n,) instead of (1, n) arrays, or into a buffer,
  changes no bit. Python floats in them (lr, l2) are cast to the parameters' dtype as numpy
  casts them (``lr * g`` with ``g`` float32 computes in float32); 0-d arrays of that dtype hold
  them here.
- ``np.dot`` on the same operands makes the same BLAS call (``?gemv`` with the same order,
  transpose flag, sizes and leading dimension) as ``np.matmul`` on the general step's (1, n) rows.
- The outer products grad_W1 = delta1 x^T and grad_W2 = delta2 a1^T come from BLAS ``?gemm``
  with inner dimension 1, alpha = 1 and beta = 0 (scipy.linalg.blas; numpy's broadcasting
  spends most of a step on them): every entry is one product, rounded once, times 1, whatever
  the kernel, so it is the broadcast product's entry, up to the sign of a zero; and that sign
  changes no update (see the last point, which covers the + 0.0 the general step adds).
- Sums keep numpy's reductions; ``0 + g``, the sum over a batch of one, is ``g + 0.0``.
- ``delta2 /= B`` and ``J / B``: dividing by B = 1 is exact, so left out.
- The max of z2 in the log-softmax is Python's ``max`` of its entries: it is the same value, and
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

from math import isfinite

import numpy as np
from scipy.special import expit

from .functions import ACTIVATIONS, OUTPUTS
from .network import WindowNetwork
from .optim import SGD

__all__ = ["one_window_sgd", "chunked_scores"]


# a1 = f(z1) into a buffer: the ufuncs of functions.ACTIVATIONS; zero and one are 0 and 1 as 0-d
# arrays of the dtype (numpy casts Python numbers to it).
def _tanh(z, out, zero, one):
    np.tanh(z, out)


def _sigmoid(z, out, zero, one):
    expit(z, out=out)


def _relu(z, out, zero, one):
    np.maximum(z, zero, out=out)  # max(z, 0)


def _hardtanh(z, out, zero, one):
    np.clip(z, -one, one, out=out)  # clip(z, -1, 1)


# f'(z1) into a buffer: the operations of functions.DERIVATIVES, in their order.
def _tanh_derivative(z, a, out, zero, one):
    np.multiply(a, a, out)
    np.subtract(one, out, out)  # 1 - a^2   (seed 003, eq. 5)


def _sigmoid_derivative(z, a, out, zero, one):
    np.subtract(one, a, out)
    np.multiply(a, out, out)  # a (1 - a)   (seed 003, eq. 6)


def _relu_derivative(z, a, out, zero, one):
    np.greater(z, zero, out)  # 1[z1 > 0], as 1.0 / 0.0   (seed 002)


def _hardtanh_derivative(z, a, out, zero, one):
    np.abs(z, out)
    np.less(out, one, out)  # 1[|z1| < 1]


_ACTIVATIONS = {"tanh": (_tanh, _tanh_derivative), "sigmoid": (_sigmoid, _sigmoid_derivative),
                "relu": (_relu, _relu_derivative), "hardtanh": (_hardtanh, _hardtanh_derivative)}


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
        self.lr, self.key, self.rates = object(), None, None
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
    gemm = {np.dtype(np.float32): getattr(blas, "sgemm", None),
            np.dtype(np.float64): getattr(blas, "dgemm", None)}.get(np.dtype(dtype))
    if gemm is None:
        return None
    a_col[...] = 1
    b_row[...] = 2
    out_T[...] = 0
    result = gemm(1.0, a_col, b_row, 0.0, out_T, 0, 0, 1)
    if result.shape != out_T.shape or not np.shares_memory(result, out_T) or not np.all(out_T == 2):
        return None  # the wrapper copied its output instead of writing into ours
    return gemm


def one_window_sgd(network, optimizer, inputs, y, *, l2=0.0, train_tables=None, l2_tables=None,
                   anchors=None):
    """``step(i) -> J``: the per-example SGD step on window i, or None where it does not apply.

    Parameters
    ----------
    network : WindowNetwork
    optimizer : SGD
        Its ``lr`` and ``lr_overrides`` are read at every step.
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids, one matrix per lookup table, in the order the steps will visit them.
    y : ndarray of shape (n_windows,)
    l2, train_tables, l2_tables, anchors
        As for :meth:`WindowNetwork.loss_and_grads`.

    Returns
    -------
    callable or None
        ``step(i)`` computes J on window i as ``network.loss_and_grads`` does and, when J is
        finite, updates the parameters as ``optimizer.update`` does; it returns J (a non-finite
        J leaves every parameter as it was). None when the network or the optimizer is not
        exactly the one this step reproduces (a subclass, another optimizer, an activation or
        output it does not know), or a parameter is not of the network's dtype, or ``l2`` is not
        a Python number: the general step runs then.
    """
    if type(network) is not WindowNetwork or type(optimizer) is not SGD:
        return None
    if network.activation not in _ACTIVATIONS or network.output not in OUTPUTS:
        return None
    if l2 and type(l2) not in (float, int):
        return None
    p = network.params
    dtype = network.dtype
    names = network.table_names
    for name in names + ["W1", "b1", "W2", "b2"]:
        if type(p[name]) is not np.ndarray or p[name].dtype != dtype:
            return None
    C, H, K, D = network.window, network.hidden, network.n_outputs, network.input_dim
    W1, b1, W2, b2 = p["W1"], p["b1"], p["W2"], p["b2"]
    if W1.shape != (H, D) or W2.shape != (K, H) or b1.shape != (H,) or b2.shape != (K,):
        return None
    activation, derivative = _ACTIVATIONS[network.activation]
    softmax = network.output == "softmax"
    logistic_loss = OUTPUTS["sigmoid"][0]
    l2_tables = {name: lam for name, lam in (l2_tables or {}).items() if lam}
    trained = [name for name in names if train_tables is None or name in train_tables]
    # the + 0.0 passes matter only where a weight is -0.0 (module docstring)
    fix_W1, fix_b1, fix_W2, fix_b2 = (_has_negative_zero(a) for a in (W1, b1, W2, b2))

    empty = np.empty
    x = empty(D, dtype)
    z1, a1, fprime, grad_h, delta1, b1_buffer = (empty(H, dtype) for _ in range(6))
    z2, logp, expz, delta2, b2_buffer = (empty(K, dtype) for _ in range(5))
    norm, z_max = empty((), dtype), empty((), dtype)
    grad_W1, grad_W2 = empty((H, D), dtype), empty((K, H), dtype)
    l2_W1, l2_W2 = (empty((H, D), dtype), empty((K, H), dtype)) if l2 else (None, None)
    grad_x = empty(D, dtype)
    delta1_col, delta2_col = delta1[:, None], delta2[:, None]
    x_row = x[None, :]
    # grad_W1 = delta1 x^T and grad_W2 = delta2 a1^T from BLAS ?gemm: grad_W1 read column-major is
    # the (D, H) product x delta1^T
    x_col, delta1_row, grad_W1_T = x[:, None], delta1[None, :], grad_W1.T
    a1_col, delta2_row, grad_W2_T = a1[:, None], delta2[None, :], grad_W2.T
    outer = _outer_product_gemm(dtype, x_col, delta1_row, grad_W1_T)
    if outer is not None and _outer_product_gemm(dtype, a1_col, delta2_row, grad_W2_T) is None:
        outer = None
    one = np.ones((), dtype)
    zero = np.zeros((), dtype)
    l2_rate = np.array(l2, dtype=dtype) if l2 else None
    rates = _Rates(optimizer, ["W2", "b2", "W1", "b1"] + trained, dtype)
    labels = np.ascontiguousarray(y)
    label_list = labels.tolist()

    # Per table: the table, its ids in visiting order and its part of x as a (C, dim) view; for a
    # trained table also its part of grad_x, a buffer for its slots' gradients (flat and as one
    # view per slot) and whether each window's ids are distinct.
    lookups, row_grads = [], []
    offset = 0
    for name, dim, ids in zip(names, network.table_dims, inputs):
        table, width = p[name], C * dim
        ids = np.ascontiguousarray(ids)
        if ids.shape != (len(labels), C) or (ids.size and (ids.min() < 0 or ids.max() >= len(table))):
            return None  # the general step reports the bad id
        x_flat = x[offset:offset + width]
        # take(mode="clip") does not buffer its output as mode="raise" does; the ids are in range
        lookups.append((table, ids, x_flat.reshape(C, dim)))
        if name in trained:
            distinct = np.ones(len(ids), dtype=bool)
            for j in range(C):
                for k in range(j + 1, C):
                    distinct &= ids[:, j] != ids[:, k]
            values = empty(width, dtype)
            slot_values = list(values.reshape(C, dim))
            row_grads.append((name, table, ids, x_flat, grad_x[offset:offset + width], values, slot_values,
                              distinct.tolist(), l2_tables.get(name)))
        offset += width
    single = lookups[0] if len(lookups) == 1 else None
    all_slots = list(range(C))
    dot, add, subtract, multiply, exp = np.dot, np.add, np.subtract, np.multiply, np.exp

    def step(i: int) -> float:
        # x = [L[w_1]; ...; L[w_C]; E[c_1]; ...]   (rows copied, as take copies them)
        if single is not None:
            single[0].take(single[1][i], 0, single[2], "clip")
        else:
            for table, ids, x_part in lookups:
                table.take(ids[i], 0, x_part, "clip")
        dot(W1, x, z1)
        add(z1, b1, z1)  # z1 = W1 x + b1
        activation(z1, a1, zero, one)  # a1 = f(z1)
        dot(W2, a1, z2)
        add(z2, b2, z2)  # z2 = W2 a1 + b2
        label = label_list[i]
        if softmax:
            # log_softmax, -log yhat_y and delta2 = yhat - y, as functions._softmax_loss
            z_max[()] = max(z2.tolist())
            subtract(z2, z_max, logp)
            exp(logp, expz)
            np.add.reduce(expz, 0, None, norm)
            np.log(norm, norm)
            subtract(logp, norm, logp)
            J = 0.0 + -logp.item(label)  # float(losses.sum()) / 1: 0 + (-log yhat_y)
            exp(logp, delta2)
            delta2[label] -= 1  # delta2 = yhat - y   (seed 000 eq. 3; seed 004 4.1)
        else:
            losses, d2 = logistic_loss(z2[None, :], labels[i:i + 1])  # delta2 = h - y   (seed 003 eq. 12)
            delta2[:] = d2[0]
            J = float(losses.sum())
        if l2:
            # J += (lambda/2)(||W1||^2 + ||W2||^2), summed as np.sum(W ** 2)
            np.square(W1, l2_W1)
            np.square(W2, l2_W2)
            J += 0.5 * l2 * (float(np.add.reduce(l2_W1, None)) + float(np.add.reduce(l2_W2, None)))

        # backward, as network.backward with B = 1
        if outer is not None:
            outer(1.0, a1_col, delta2_row, 0.0, grad_W2_T, 0, 0, 1)  # grad_W2 = delta2 a1^T (BLAS, k = 1)
        else:
            multiply(delta2_col, a1, grad_W2)  # grad_W2 = delta2 a1^T
        if fix_W2:
            add(grad_W2, zero, grad_W2)
        dot(delta2, W2, grad_h)  # W2^T delta2
        derivative(z1, a1, fprime, zero, one)
        multiply(fprime, grad_h, delta1)  # delta1 = f'(z1) * W2^T delta2
        if outer is not None:
            outer(1.0, x_col, delta1_row, 0.0, grad_W1_T, 0, 0, 1)  # grad_W1 = delta1 x^T (BLAS, k = 1)
        else:
            multiply(delta1_col, x_row, grad_W1)  # grad_W1 = delta1 x^T
        if fix_W1:
            add(grad_W1, zero, grad_W1)
        if l2:
            multiply(W1, l2_rate, l2_W1)
            add(grad_W1, l2_W1, grad_W1)  # + lambda W1
            multiply(W2, l2_rate, l2_W2)
            add(grad_W2, l2_W2, grad_W2)  # + lambda W2
        # grad_b2 = delta2, grad_b1 = delta1 (sums over one window: 0 + delta)
        grad_b2 = add(delta2, zero, b2_buffer) if fix_b2 else delta2
        grad_b1 = add(delta1, zero, b1_buffer) if fix_b1 else delta1
        if row_grads:
            dot(delta1, W1, grad_x)  # grad_x = W1^T delta1, one slice of n per slot
        if l2_tables:
            dense = ((W2, grad_W2), (b2, grad_b2), (W1, grad_W1), (b1, grad_b1))
            return _l2_rows_and_update(J, i, rates.get(), row_grads, l2_tables, anchors, dense, zero)
        if not isfinite(J):
            return J  # diverged: the caller stops, and no parameter has moved

        # SGD.update: theta <- theta - lr * grad
        rate = rates.get()
        if rates.arrays:
            lr = rate[0]
            multiply(grad_W2, lr, grad_W2)
            subtract(W2, grad_W2, W2)
            lr = rate[1]
            multiply(grad_b2, lr, grad_b2)
            subtract(b2, grad_b2, b2)
            lr = rate[2]
            multiply(grad_W1, lr, grad_W1)
            subtract(W1, grad_W1, W1)
            lr = rate[3]
            multiply(grad_b1, lr, grad_b1)
            subtract(b1, grad_b1, b1)
        else:
            for (theta, grad), lr in zip(((W2, grad_W2), (b2, grad_b2), (W1, grad_W1), (b1, grad_b1)), rate):
                _update(theta, grad, lr)
        for (name, table, ids, x_flat, grad_part, values, slot_values, distinct, _), lr in zip(row_grads, rate[4:]):
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


def _l2_rows_and_update(J, i, rate, row_grads, l2_tables, anchors, dense, zero):
    """The end of a step with an l2 term on the touched rows of some table (l2_tables).

    Rows come in ascending order, as np.unique gives them, since the term sums over them; J
    adds the terms in the order of l2_tables, as loss_and_grads does. Returns J; the parameters
    move only when it is finite.
    """
    updates, terms = [], {}
    for (name, table, ids, x_flat, grad_part, values, slot_values, distinct, lam), lr in zip(row_grads, rate[4:]):
        np.add(grad_part, zero, values)  # 0 + slice: each slot's term of S @ slices
        row_ids = ids[i].tolist()
        slots = list(range(len(row_ids))) if distinct[i] else _sum_repeated(row_ids, slot_values)
        slots = sorted(slots, key=row_ids.__getitem__)
        rows = np.array([row_ids[j] for j in slots])
        row_values = values.reshape(len(row_ids), -1)[slots]
        if lam:
            diff = table[rows]
            if anchors is not None and name in anchors:
                diff = diff - anchors[name][rows]
            terms[name] = (lam, diff, row_values)
        updates.append((table, rows, row_values, x_flat.reshape(len(row_ids), -1)[slots], lr))
    for name in l2_tables:
        if name in terms:
            lam, diff, row_values = terms[name]
            J += 0.5 * lam * float(np.sum(diff ** 2))
            row_values += lam * diff  # + lambda (L_r - L0_r) on the touched rows
    if not isfinite(J):
        return J  # diverged: the caller stops, and no parameter has moved
    for (theta, grad), lr in zip(dense, rate):
        _update(theta, grad, lr)
    for table, rows, row_values, row_x, lr in updates:
        table[rows] = row_x - lr * row_values  # theta[rows] = theta.take(rows) - lr * values
    return J


def _sum_repeated(row_ids, slot_values) -> list:
    """The first slot of each distinct id in a window, each holding the sum of its id's slots.

    ``slot_values[j]`` holds slot j's ``0 + slice``; an id's sum is added in slot order into its
    first slot, as the sparse product adds it.
    """
    first, keep = {}, []
    for j, row in enumerate(row_ids):
        k = first.setdefault(row, j)
        if k == j:
            keep.append(j)
        else:
            np.add(slot_values[k], slot_values[j], slot_values[k])
    return keep


# ----------------------------------------------------------------------------- forward only
def chunked_scores(network: WindowNetwork, inputs, chunk: int, threads: int = 1) -> np.ndarray:
    """``network.scores`` of windows ``inputs``, chunk by chunk, into one (n_windows, K) array.

    Rows ``k * chunk`` to ``(k + 1) * chunk`` come from the same numpy and BLAS calls on the same
    shapes as ``network.scores(tuple(ids[k * chunk:(k + 1) * chunk] for ids in inputs))``: the
    chunks are not resized (BLAS may sum a product in another order for another number of rows),
    only computed into buffers reused from chunk to chunk (x, z1 and a1 in place), and on
    ``threads`` threads, each with its own buffers. numpy lets go of the GIL in BLAS and in its
    loops, so the threads run at once; each chunk is one thread's work, so its bits do not depend
    on them.

    Parameters
    ----------
    network : WindowNetwork
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids, one matrix per lookup table.
    chunk : int
        Windows per forward pass.
    threads : int
        Threads to share the chunks among (one: this thread only).
    """
    n = len(inputs[0])
    out = np.empty((n, network.n_outputs), dtype=network.dtype)
    starts = list(range(0, n, chunk))
    if n == 0:
        return out
    if type(network) is not WindowNetwork:  # a subclass may compute its scores otherwise
        for start in starts:
            out[start:start + chunk] = network.scores(tuple(ids[start:start + chunk] for ids in inputs))
        return out
    inputs = tuple(np.ascontiguousarray(ids) for ids in inputs)
    tables = [network.params[name] for name in network.table_names]
    # take(mode="clip") gathers without buffering; it agrees with the default mode for ids in range
    clip = all(ids.size == 0 or (ids.min() >= 0 and ids.max() < len(table)) for ids, table in zip(inputs, tables))
    threads = max(1, min(int(threads), len(starts)))
    if threads == 1:
        _score_chunks(network, inputs, tables, clip, starts, chunk, out)
        return out
    import threading

    errors = []

    def work(my_starts):
        try:
            _score_chunks(network, inputs, tables, clip, my_starts, chunk, out)
        except BaseException as err:  # noqa: BLE001 -- re-raised in the calling thread
            errors.append(err)

    helpers = [threading.Thread(target=work, args=(starts[k::threads],), daemon=True) for k in range(1, threads)]
    for helper in helpers:
        helper.start()
    try:
        _score_chunks(network, inputs, tables, clip, starts[0::threads], chunk, out)
    finally:
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[0]
    return out


def _score_chunks(network, inputs, tables, clip, starts, chunk, out):
    """WindowNetwork.forward(...).z2 of the chunks beginning at ``starts``, into out's rows."""
    p = network.params
    W1T, b1, W2T, b2 = p["W1"].T, p["b1"], p["W2"].T, p["b2"]
    activation = _ACTIVATIONS[network.activation][0] if network.activation in _ACTIVATIONS else None
    zero, one = np.zeros((), network.dtype), np.ones((), network.dtype)
    dtype = network.dtype
    C = network.window
    m = min(chunk, len(out))
    x = np.empty((m, network.input_dim), dtype)
    parts = [np.empty((m * C, dim), dtype) for dim in network.table_dims] if len(tables) > 1 else None
    z1 = np.empty((m, network.hidden), dtype)
    n = len(out)
    mode = "clip" if clip else "raise"
    for start in starts:
        stop = min(start + chunk, n)
        rows = stop - start
        # x = [L[w_1]; ...; L[w_C]; E[c_1]; ...]   (network.lookup)
        if parts is None:
            tables[0].take(inputs[0][start:stop].ravel(), 0, x[:rows].reshape(rows * C, -1), mode)
            xc = x[:rows]
        else:
            for table, ids, part in zip(tables, inputs, parts):
                table.take(ids[start:stop].ravel(), 0, part[:rows * C], mode)
            xc = np.concatenate([part[:rows * C].reshape(rows, -1) for part in parts], axis=1, out=x[:rows])
        zc = z1[:rows]
        np.matmul(xc, W1T, zc)
        zc += b1  # z1 = W1 x + b1
        if activation is not None:
            activation(zc, zc, zero, one)  # a1 = f(z1), in place
        else:
            zc = ACTIVATIONS[network.activation](zc)
        z2 = out[start:stop]
        np.matmul(zc, W2T, z2)
        z2 += b2  # z2 = W2 a1 + b2
