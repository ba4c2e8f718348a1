"""Token-level scores: CS224d's support-weighted token F1 and confusion matrices, by entity type.

Tags are reduced to their entity types (``B-PER`` and ``I-PER`` are both ``PER``), so the
numbers mean the same thing in every tag scheme. :class:`Scores` is shared with the
conlleval scores of :mod:`windowclf.tags.conlleval`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from windowclf._util.arguments import check_strings, kind_of
from windowclf.errors import InputError
from windowclf.tags.entities import OUTSIDE, split_tag

__all__ = ["Scores", "confusion_matrix", "format_confusion_matrix", "token_f1", "token_f1_report"]


class Scores(NamedTuple):
    """Precision, recall and F1, in percent."""

    precision: float
    recall: float
    f1: float


def _flat_types(tags, name: str) -> list[str]:
    """Entity type of every tag (``O`` for outside), from flat tags or from sentences of tags;
    TypeError naming the argument ``name`` for anything else."""
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise TypeError(f"{name} must be a sequence of tags or of sentences of tags, got {kind_of(tags)}")
    out = []
    for i, item in enumerate(tags):
        sentence = [item] if isinstance(item, str) else check_strings(f"{name}[{i}]", item, what="a sentence's tags")
        for tag in sentence:
            prefix, entity_type = split_tag(tag)
            out.append(OUTSIDE if prefix == OUTSIDE else entity_type)
    return out


def _class_indices(gold, pred, labels) -> tuple[np.ndarray, np.ndarray, list[str]]:
    gold_types, pred_types = _flat_types(gold, "gold"), _flat_types(pred, "pred")
    labels = check_strings("labels", labels, optional=True, what="a sequence of tags or types")
    if len(gold_types) != len(pred_types):
        raise InputError(f"{len(gold_types)} gold tags but {len(pred_types)} predicted tags")
    if labels is None:
        labels = [OUTSIDE] + sorted(set(gold_types + pred_types) - {OUTSIDE})
    else:
        labels = list(dict.fromkeys(OUTSIDE if split_tag(t)[0] == OUTSIDE else split_tag(t)[1] for t in labels))
    index = {t: i for i, t in enumerate(labels)}
    try:
        return (
            np.array([index[t] for t in gold_types], dtype=np.intp),
            np.array([index[t] for t in pred_types], dtype=np.intp),
            labels,
        )
    except KeyError as err:
        raise InputError(f"type {err.args[0]!r} is not among the labels ({', '.join(labels)})") from None


def confusion_matrix(gold, pred, labels: Sequence[str] | None = None) -> np.ndarray:
    """Token counts of (gold type, predicted type), compared by entity type.

    Parameters
    ----------
    gold, pred : sequence of str, or iterable of sequences of str (sentences)
        Tags in any scheme; ``B-PER`` and ``I-PER`` both count as ``PER``.
    labels : sequence of str, optional
        The classes, in row / column order (tags are reduced to their types, duplicates
        dropped). Default: ``O`` then the types seen, sorted.

    Returns
    -------
    ndarray of shape (n_labels, n_labels), dtype int64
        ``matrix[i, j]`` counts tokens of gold class ``labels[i]`` predicted as ``labels[j]``.

    Examples
    --------
    >>> confusion_matrix(['B-PER', 'I-PER', 'O'], ['PER', 'O', 'O'], ['O', 'PER'])
    array([[1, 0],
           [1, 1]])
    """
    gold_ids, pred_ids, labels = _class_indices(gold, pred, labels)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (gold_ids, pred_ids), 1)
    return matrix


def format_confusion_matrix(matrix: np.ndarray, labels: Sequence[str]) -> str:
    """Plain-text table of a confusion matrix: gold classes down, predicted across."""
    header = "gold \\ pred"
    names = [str(t) for t in labels]
    first = max(len(header), *(len(n) for n in names))
    width = max(*(len(n) for n in names), *(len(str(v)) for v in np.asarray(matrix).ravel()))
    rows = [header.ljust(first) + "".join(" " + n.rjust(width) for n in names)]
    for name, row in zip(names, np.asarray(matrix)):
        rows.append(name.ljust(first) + "".join(" " + str(v).rjust(width) for v in row))
    return "\n".join(rows) + "\n"


def token_f1(gold, pred, labels: Sequence[str] | None = None) -> Scores:
    """CS224d's token-level scores: per-class P / R / F1 over non-O classes, support-weighted.

    As CS224d's ``eval_performance`` (sklearn's ``precision_recall_fscore_support`` per
    class, then ``sum(score * support) / sum(support)`` over every class but ``O``). A
    class never predicted has precision 0, as in sklearn. Tags are compared by entity
    type, so ``B-PER`` and ``I-PER`` are the same class and the number is the same in
    every scheme.

    Parameters
    ----------
    gold, pred : sequence of str, or iterable of sequences of str (sentences)
    labels : sequence of str, optional
        The classes; ``O`` among them is left out of the average. Default: the types seen.

    Returns
    -------
    Scores
        In percent; all 0.0 when no gold token is outside ``O``.

    Examples
    --------
    PER scores 1/2 on all three (support 2), LOC 0 (support 1): (2 * 0.5 + 1 * 0) / 3.

    >>> scores = token_f1(['PER', 'PER', 'O', 'LOC'], ['PER', 'O', 'O', 'PER'])
    >>> print(token_f1_report(scores), end='')
    === Performance (omitting 'O' class) ===
    Mean precision:  33.33%
    Mean recall:     33.33%
    Mean F1:         33.33%
    """
    gold_ids, pred_ids, labels = _class_indices(gold, pred, labels)
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    np.add.at(matrix, (gold_ids, pred_ids), 1)
    total = [0.0, 0.0, 0.0]
    total_support = 0
    for k, label in enumerate(labels):
        support = int(matrix[k].sum())
        if label == OUTSIDE or support == 0:
            continue
        true_pos, n_predicted = int(matrix[k, k]), int(matrix[:, k].sum())
        precision = true_pos / n_predicted if n_predicted else 0.0
        recall = true_pos / support
        f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
        for i, score in enumerate((precision, recall, f1)):
            total[i] += score * support
        total_support += support
    if total_support == 0:
        return Scores(0.0, 0.0, 0.0)
    return Scores(*(100 * s / total_support for s in total))


def token_f1_report(scores: Scores) -> str:
    """The lines CS224d's ``eval_performance`` prints."""
    return (
        "=== Performance (omitting 'O' class) ===\n"
        "Mean precision:  %.02f%%\n"
        "Mean recall:     %.02f%%\n"
        "Mean F1:         %.02f%%\n" % scores
    )
