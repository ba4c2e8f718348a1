"""Training objectives: how each batches its data, its loss J with gradients, and its step.

An objective is what the training loop (:func:`windowclf.training.loop.run_epoch`) trains: it draws an
epoch's batch order from a generator, gives J and the gradients of a batch, and makes the step
that applies them. :class:`WindowObjective` is the mean window loss of the softmax or sigmoid
output; :class:`SentenceObjective` is Collobert et al.'s sentence-level likelihood (SLL).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from math import isfinite
from typing import NamedTuple

import numpy as np

from windowclf.nn import sll
from windowclf.nn.functions import ACTIVATIONS, ONE_WINDOW_LOSSES
from windowclf.nn.network import Dropout, WindowNetwork
from windowclf.nn.optim import SGD
from windowclf.nn.window_sgd import one_window_sgd

__all__ = ["Options", "SentenceObjective", "SentenceOrder", "WindowObjective", "WindowOrder"]


@dataclass
class Options:
    """What a training step adds to the bare loss; every field's default changes nothing.

    l2 : lambda on W1 and W2.
    train_tables : the lookup tables that train (None: all; frozen ones are left out).
    l2_tables : name -> lambda on the rows of that table a batch touches.
    anchors : name -> the values those rows are pulled towards (pretrained vectors; default 0).
    dropout : the Dropout drawing masks for x and a1 while training.
    """

    l2: float = 0.0
    train_tables: frozenset | None = None
    l2_tables: dict | None = None
    anchors: dict | None = None
    dropout: Dropout | None = None

    def as_kwargs(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# The options the per-example step reproduces; any other option set to a value other than its
# default sends training to the general step (so a new option cannot bypass it unnoticed).
FAST_STEP_OPTIONS = frozenset({"l2", "train_tables", "l2_tables", "anchors"})


class WindowOrder(NamedTuple):
    """An epoch of the window objective: the windows shuffled once (so each batch is a view)."""

    inputs: tuple
    y: np.ndarray
    batch_size: int

    @property
    def batches(self) -> range:
        """The first window of each batch."""
        return range(0, len(self.y), self.batch_size)

    @property
    def total(self) -> int:
        return len(self.y)

    def done(self, position: int, batch: int) -> int:
        """Windows of the epoch done after this batch."""
        return min(batch + self.batch_size, len(self.y))

    def where(self, position: int, batch: int) -> str:
        return f"window {batch}"


class SentenceOrder(NamedTuple):
    """An epoch of the sentence objective: batches of whole sentences, visited in a random order."""

    groups: list
    order: np.ndarray

    @property
    def batches(self) -> list:
        return [self.groups[g] for g in self.order.tolist()]

    @property
    def total(self) -> int:
        return len(self.groups)

    def done(self, position: int, batch) -> int:
        """Batches of the epoch done after this one."""
        return position + 1

    def where(self, position: int, batch) -> str:
        return f"sentence batch {position}"


class _Objective:
    """What both objectives share: the network, the options and the general step."""

    def __init__(self, network: WindowNetwork, options: Options | None = None):
        self.network = network
        self.options = options or Options()

    def loss_and_grads(self, order, batch) -> tuple:
        """(J, gradients) of one batch of ``order`` (each objective defines it)."""
        raise NotImplementedError

    def general_step(self, optimizer, order):
        """``step(batch) -> J``: loss_and_grads, then the optimizer's update when J is finite."""
        params = self.network.params

        def step(batch) -> float:
            J, grads = self.loss_and_grads(order, batch)
            if isfinite(J):
                optimizer.update(params, grads)
            return J

        return step


class WindowObjective(_Objective):
    """J = mean over a batch's windows of the output's loss (plus the options' terms).

    Parameters
    ----------
    network : WindowNetwork
    inputs : tuple of ndarray of shape (n_windows, C)
        Window ids, one matrix per lookup table.
    y : ndarray of shape (n_windows,)
        Class indices (0/1 for the sigmoid output).
    options : Options, optional
    """

    def __init__(self, network, inputs, y, options: Options | None = None):
        super().__init__(network, options)
        self.inputs, self.y = tuple(inputs), np.asarray(y)

    def draw_order(self, rng: np.random.Generator, batch_size: int) -> WindowOrder:
        """This epoch's batches of ``batch_size`` windows (1: per-example SGD; n: full batch)."""
        order = rng.permutation(len(self.y))
        return WindowOrder(tuple(ids[order] for ids in self.inputs), self.y[order], batch_size)

    def loss_and_grads(self, order: WindowOrder, start: int):
        stop = start + order.batch_size
        return self.network.loss_and_grads(
            tuple(ids[start:stop] for ids in order.inputs), order.y[start:stop], **self.options.as_kwargs()
        )

    def stepper(self, optimizer, order: WindowOrder):
        """The step for this epoch: the per-example fast step where it applies, else the general one.

        This is the one place that chooses: plain SGD at batch size 1, on a WindowNetwork whose
        parameters are all of its dtype, with only the options the fast step reproduces
        (:data:`FAST_STEP_OPTIONS`), an l2 that is a Python number and ids in range.
        """
        if order.batch_size == 1 and self._fast_step_covers(optimizer, order):
            return one_window_sgd(
                self.network,
                optimizer,
                order.inputs,
                order.y,
                **{name: getattr(self.options, name) for name in FAST_STEP_OPTIONS},
            )
        return self.general_step(optimizer, order)

    def _fast_step_covers(self, optimizer, order) -> bool:
        net, options = self.network, self.options
        if type(net) is not WindowNetwork or type(optimizer) is not SGD:
            return False
        if net.activation not in ACTIVATIONS or net.output not in ONE_WINDOW_LOSSES or net.chars is not None:
            return False
        for f in fields(Options):
            if f.name not in FAST_STEP_OPTIONS and getattr(options, f.name) != f.default:
                return False
        if options.l2 and type(options.l2) not in (float, int):
            return False  # a numpy scalar may compute in its own precision
        p = net.params
        shapes = {
            "W1": (net.hidden, net.input_dim),
            "b1": (net.hidden,),
            "W2": (net.n_outputs, net.hidden),
            "b2": (net.n_outputs,),
        }
        for name in net.table_names + list(shapes):
            if type(p[name]) is not np.ndarray or p[name].dtype != net.dtype:
                return False
        if any(p[name].shape != shape for name, shape in shapes.items()):
            return False
        # out-of-range ids: the general step reports them
        return all(
            ids.shape == (len(order.y), net.window) and (ids.size == 0 or (ids.min() >= 0 and ids.max() < len(p[name])))
            for name, ids in zip(net.table_names, order.inputs)
        )


class SentenceObjective(_Objective):
    """J = (sum over a batch's sentences of log Z - s(y)) / its words (plus the options' terms).

    Parameters
    ----------
    network : WindowNetwork
        Its params also hold the transition scores ``A`` and ``A0``.
    inputs : tuple of ndarray of shape (n_words, C)
        The windows of every word, sentence after sentence.
    y : ndarray of shape (n_words,)
    lengths : ndarray of shape (n_sentences,)
    options : Options, optional
    """

    def __init__(self, network, inputs, y, lengths, options: Options | None = None):
        super().__init__(network, options)
        self.inputs, self.y = tuple(inputs), np.asarray(y)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.starts = np.concatenate(([0], np.cumsum(self.lengths)[:-1]))

    def draw_order(self, rng: np.random.Generator, batch_size: int) -> SentenceOrder:
        """Batches of whole sentences of about ``batch_size`` words, in a random order."""
        groups = sll.sentence_batches(self.lengths, batch_size, rng)
        return SentenceOrder(groups, rng.permutation(len(groups)))

    def loss_and_grads(self, order: SentenceOrder, sentences):
        rows = np.concatenate([np.arange(self.starts[i], self.starts[i] + self.lengths[i]) for i in sentences])
        return sll.sentence_loss_and_grads(
            self.network,
            tuple(ids[rows] for ids in self.inputs),
            self.y[rows],
            self.lengths[sentences],
            **self.options.as_kwargs(),
        )

    def stepper(self, optimizer, order: SentenceOrder):
        """The general step (the per-example fast step is the window objective's)."""
        return self.general_step(optimizer, order)
