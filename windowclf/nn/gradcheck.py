"""Finite-difference gradient checks in float64, for every parameter (L's touched rows too)."""

from __future__ import annotations

import numpy as np

from windowclf._util.arguments import check_callable, check_number, kind_of
from windowclf.features.spellings import EDGE, SpellingIds, Spellings
from windowclf.features.vocab import Vocabulary
from windowclf.nn import sll
from windowclf.nn.network import Dropout, WindowNetwork
from windowclf.nn.rowgrad import RowGrad

__all__ = [
    "check_gradients",
    "numerical_gradient",
    "random_problem",
    "relative_error",
    "sentence_objective",
    "sentence_problem",
]


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> float:
    """||a - n|| / (||a|| + ||n||) over a whole parameter: 0 when equal, about 1 when unrelated.

    Measured over the parameter as a whole (as UFLDL's and CS224d's checks do) rather than entry
    by entry: a central difference is exact only to about 1e-10 in absolute terms, so an entry
    whose gradient is itself 1e-5 would show a per-entry "error" of 1e-5 however right it is.
    A wrong entry of the parameter's own size still shows up at once.
    """
    a = np.asarray(analytic, dtype=np.float64).ravel()
    n = np.asarray(numeric, dtype=np.float64).ravel()
    denominator = np.linalg.norm(a) + np.linalg.norm(n)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(a - n) / denominator)


def numerical_gradient(f, theta: np.ndarray, index_iter, eps: float = 1e-5) -> np.ndarray:
    """Central differences (f(theta + eps e_i) - f(theta - eps e_i)) / 2 eps at the given indices.

    ``theta`` is changed in place and restored after each index.
    """
    out = []
    for i in index_iter:
        old = theta[i]
        theta[i] = old + eps
        f_plus = f()
        theta[i] = old - eps
        f_minus = f()
        theta[i] = old
        out.append((f_plus - f_minus) / (2 * eps))
    return np.array(out)


def check_gradients(
    network: WindowNetwork,
    ids,
    y,
    *,
    l2=0.0,
    l2_tables=None,
    anchors=None,
    dropout=(0.0, 0.0),
    loss_and_grads=None,
    eps: float = 1e-5,
) -> dict:
    """Relative error between backprop and central differences, per parameter.

    Parameters
    ----------
    network : WindowNetwork
        Must hold float64 parameters (float32 differences are too coarse to mean anything).
    ids : tuple of ndarray of shape (B, C)
    y : ndarray of shape (B,)
    dropout : (p_input, p_hidden)
        Dropout probabilities; every evaluation draws the same masks (a fixed seed), so the
        check differentiates the network the masks select.
    loss_and_grads : callable, optional
        ``() -> (J, grads)``; default ``network.loss_and_grads(ids, y, ...)``. Lets other
        objectives (sentence-level likelihood) reuse the check.

    Returns
    -------
    dict
        parameter name -> relative error (see :func:`relative_error`) over its entries; for a
        table, over the rows the batch touches plus one untouched row, whose gradient must be 0.
    """
    if not isinstance(network, WindowNetwork):
        raise TypeError(f"network must be a WindowNetwork, got {kind_of(network)}")
    if network.dtype != np.float64:
        raise ValueError("network: gradient checks need float64 parameters")
    eps = check_number("eps", eps, low=0, high=1, low_open=True)
    l2 = check_number("l2", l2, low=0)
    if not isinstance(dropout, (tuple, list)) or len(dropout) != 2:
        raise TypeError(f"dropout must be (p_input, p_hidden), got {kind_of(dropout)}")
    dropout = tuple(check_number(f"dropout[{i}]", p, low=0, high=1, high_open=True) for i, p in enumerate(dropout))
    check_callable("loss_and_grads", loss_and_grads, optional=True)
    if loss_and_grads is None:
        ids = network.checked_ids(ids, bounds=True)

        def loss_and_grads():
            masks = Dropout(dropout[0], dropout[1], np.random.default_rng(12345)) if any(dropout) else None
            return network.loss_and_grads(ids, y, l2=l2, l2_tables=l2_tables, anchors=anchors, dropout=masks)

    def f():
        return loss_and_grads()[0]

    _, grads = loss_and_grads()
    errors = {}
    for name, g in grads.items():
        theta = network.params[name]
        if isinstance(g, RowGrad):
            dense = g.to_dense(theta.shape[0])
            untouched = np.setdiff1d(np.arange(theta.shape[0]), g.rows)
            rows = list(g.rows) + list(untouched[:1])
            index = [(r, c) for r in rows for c in range(theta.shape[1])]
            analytic = np.array([dense[i] for i in index])
        else:
            index = list(np.ndindex(theta.shape))
            analytic = np.array([g[i] for i in index])
        numeric = numerical_gradient(f, theta, index, eps=eps)
        errors[name] = relative_error(analytic, numeric)
    return errors


def random_problem(
    *,
    vocab_size=7,
    dim=3,
    window=3,
    hidden=4,
    n_classes=5,
    batch=6,
    activation="tanh",
    output="softmax",
    extra_tables=(),
    seed=0,
    char_filters=0,
    char_dim=3,
    char_window=3,
):
    """A small float64 network and batch in which one word fills several slots of one window and
    appears in several windows (the case the sparse accumulation must sum). With ``char_filters``
    the words are also spelled (mostly 1 to 6 letters of five, so letters repeat within and across
    words; two longer) and the character features join x.

    Returns (network, ids, y).
    """
    rng = np.random.default_rng(seed)
    tables = [("L", vocab_size, dim)] + [(name, rows, d) for name, rows, d in extra_tables]
    n_outputs = 1 if output == "sigmoid" else n_classes
    chars = None
    if char_filters:
        sizes = rng.integers(1, 7, size=vocab_size)
        sizes[-2:] = (12, 40)  # and one word of each longer kind (a long one is cut to MAX_CHARS)
        words = ["".join(rng.choice(list("abcdE"), size=size)) for size in sizes]
        char_vocab = Vocabulary(sorted(set("".join(words))) + [EDGE], lowercase=False, digits=False)
        spellings = Spellings(words, char_vocab, char_window // 2)
        chars = (len(char_vocab), char_dim, char_window, char_filters)
    net = WindowNetwork(
        tables,
        window,
        hidden,
        n_outputs,
        activation=activation,
        output=output,
        dtype=np.float64,
        seed=seed,
        chars=chars,
    )
    # Spread the weights so that hidden units are neither saturated nor all at a kink.
    for name in net.params:
        net.params[name] = np.asarray(rng.normal(0, 0.5, size=net.params[name].shape))
    ids: list = [rng.integers(0, rows, size=(batch, window)) for _, rows, _ in tables]
    ids[0][0, :] = 1  # word 1 fills every slot of window 0 ...
    ids[0][1:, window // 2] = 1  # ... and the middle slot of every other window
    if char_filters:  # each slot's word, spelled; the last column the sentence's end
        spelled = ids[0].copy()
        spelled[-1, -1] = spellings.end_id
        ids.append(SpellingIds(spelled, spellings))
    y = rng.integers(0, 2 if output == "sigmoid" else n_classes, size=batch)
    return net, tuple(ids), y


def sentence_problem(*, n_classes=4, batch=7, lengths=None, rng=None, **problem):
    """A :func:`random_problem` network with transition scores A, A0 and its windows cut into
    sentences (``lengths``; default 3, 1, 3, 3, 1, 3, ... words), for the SLL objective.

    ``rng`` draws A, A0 and the gold tags (default: seeded by ``problem["seed"] + 1``).
    Returns (network, ids, y, lengths).
    """
    net, ids, _ = random_problem(n_classes=n_classes, batch=batch, **problem)
    rng = np.random.default_rng(problem.get("seed", 0) + 1) if rng is None else rng
    if lengths is None:
        pattern, lengths = [3, 1, 3], []
        while sum(lengths) < batch:
            lengths.append(min(pattern[len(lengths) % 3], batch - sum(lengths)))
    sll.init_transitions(net.params, n_classes, np.float64)
    net.params["A"][...] = rng.normal(0, 0.5, size=(n_classes, n_classes))
    net.params["A0"][...] = rng.normal(0, 0.5, size=n_classes)
    y = rng.integers(0, n_classes, size=batch)
    return net, ids, y, np.array(lengths)


def sentence_objective(network, ids, y, lengths, *, l2=0.0, dropout=(0.0, 0.0)):
    """``loss_and_grads`` for :func:`check_gradients` on the SLL objective of these sentences,
    drawing the same dropout masks at every evaluation (as the window objective's check does)."""

    def loss_and_grads():
        masks = Dropout(dropout[0], dropout[1], np.random.default_rng(12345)) if any(dropout) else None
        return sll.sentence_loss_and_grads(network, ids, y, lengths, l2=l2, dropout=masks)

    return loss_and_grads
