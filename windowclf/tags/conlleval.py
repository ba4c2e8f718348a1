"""conlleval's entity scores: chunk counts, precision / recall / F1 and the script's report.

:func:`count_chunks` runs the state machine of the CoNLL ``conlleval`` Perl script
(version 2004-01-26) over tag sequences, and :func:`conlleval_report` prints what the
script prints, byte for byte, so numbers can be set beside published CoNLL results.
Tags are read by :mod:`windowclf.tags.entities`; see there for the two IOBES rules the script
lacks. The token-level scores (:func:`token_f1`, :func:`confusion_matrix`) live in
:mod:`windowclf.tags.token_metrics` and are importable from here too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest

from windowclf._util.arguments import iter_string_lists, kind_of
from windowclf.errors import InputError
from windowclf.tags.entities import OUTSIDE, ends_chunk, split_tag, starts_chunk
from windowclf.tags.token_metrics import Scores

__all__ = [
    "ConllevalCounts",
    "conlleval_report",
    "count_chunks",
    "precision_recall_f1",
    "to_json",
]

_BOUNDARY = (OUTSIDE, "")


@dataclass
class ConllevalCounts:
    """What conlleval counts: tokens, correct tags, and chunks found in gold and prediction.

    ``*_by_type`` dictionaries hold only types with a non-zero count, as the script's
    hashes do (the report lists exactly the types found in gold or prediction).
    """

    n_tokens: int = 0
    n_correct_tags: int = 0  # tokens whose gold and predicted tag agree, prefix included
    n_gold_chunks: int = 0
    n_pred_chunks: int = 0
    n_correct_chunks: int = 0
    gold_chunks_by_type: dict[str, int] = field(default_factory=dict)
    pred_chunks_by_type: dict[str, int] = field(default_factory=dict)
    correct_chunks_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def types(self) -> list[str]:
        """Entity types in gold or prediction, in the order the report lists them."""
        return sorted(set(self.gold_chunks_by_type) | set(self.pred_chunks_by_type), key=_perl_sort_key)


def _add(counter: dict[str, int], key: str) -> None:
    counter[key] = counter.get(key, 0) + 1


class _ChunkMatcher:
    """conlleval's main loop, one token (or sentence boundary) per :meth:`step`."""

    def __init__(self) -> None:
        self.counts = ConllevalCounts()
        self.last_gold = self.last_pred = _BOUNDARY
        self.in_correct = False  # the chunk open in both columns has matched so far

    def step(self, gold: tuple[str, str], pred: tuple[str, str], is_token: bool) -> None:
        counts, last_gold, last_pred = self.counts, self.last_gold, self.last_pred
        if self.in_correct:
            gold_ends, pred_ends = ends_chunk(last_gold, gold), ends_chunk(last_pred, pred)
            if gold_ends and pred_ends and last_gold[1] == last_pred[1]:
                self.in_correct = False
                counts.n_correct_chunks += 1
                _add(counts.correct_chunks_by_type, last_gold[1])
            elif gold_ends != pred_ends or gold[1] != pred[1]:
                self.in_correct = False
        gold_starts, pred_starts = starts_chunk(last_gold, gold), starts_chunk(last_pred, pred)
        if gold_starts and pred_starts and gold[1] == pred[1]:
            self.in_correct = True
        if gold_starts:
            counts.n_gold_chunks += 1
            _add(counts.gold_chunks_by_type, gold[1])
        if pred_starts:
            counts.n_pred_chunks += 1
            _add(counts.pred_chunks_by_type, pred[1])
        if is_token:
            counts.n_tokens += 1
            counts.n_correct_tags += gold == pred
        self.last_gold, self.last_pred = gold, pred

    def finish(self) -> ConllevalCounts:
        if self.in_correct:
            self.counts.n_correct_chunks += 1
            _add(self.counts.correct_chunks_by_type, self.last_gold[1])
            self.in_correct = False
        return self.counts


def count_chunks(gold_sequences: Iterable[Sequence[str]], pred_sequences: Iterable[Sequence[str]]) -> ConllevalCounts:
    """Count tokens, correct tags and gold / predicted / correct chunks as conlleval does.

    Parameters
    ----------
    gold_sequences, pred_sequences : iterable of sequence of str
        One tag sequence per sentence, in any scheme (even mixed); consumed once, in
        step, so generators over large files work.

    Returns
    -------
    ConllevalCounts

    Raises
    ------
    InputError
        The two iterables differ in their number of sentences, or a sentence in its length.

    Notes
    -----
    Equal to running ``conlleval`` on a file with one ``token gold pred`` line per token
    and a blank line after each sentence, with these readings of the tags:

    * bare tags (``PER``) are ``I-PER``, not ``conlleval -r``'s ``B-PER``;
    * ``S-`` and ``E-X`` before ``B-X`` follow the IOBES rules of :mod:`windowclf.tags.entities`;
    * a type spelled ``0`` stays ``0`` (Perl's truth test turns ``B-0`` into an empty type).

    ``-DOCSTART-`` lines are tokens to the script (tagged ``O``, they count in the
    tokens and accuracy but never in the chunks); pass them, or drop them, to match the
    number you compare with.

    Examples
    --------
    >>> c = count_chunks([['B-PER', 'I-PER', 'O']], [['B-PER', 'I-PER', 'B-LOC']])
    >>> c.n_gold_chunks, c.n_pred_chunks, c.n_correct_chunks, c.n_correct_tags
    (1, 2, 1, 2)
    """
    matcher = _ChunkMatcher()
    golds, preds = (
        iter_string_lists("gold_sequences", gold_sequences),
        iter_string_lists("pred_sequences", pred_sequences),
    )
    for index, (gold, pred) in enumerate(zip_longest(golds, preds)):  # the lists are never None
        if gold is None or pred is None:
            longer, other = ("gold_sequences", "pred_sequences")[:: 1 if pred is None else -1]
            raise InputError(f"{longer} has more sentences than {other} (sentence {index + 1} has no partner)")
        if len(gold) != len(pred):
            raise InputError(
                f"sentence {index + 1} has {len(gold)} tags in gold_sequences but {len(pred)} in pred_sequences"
            )
        for gold_tag, pred_tag in zip(gold, pred):
            matcher.step(split_tag(gold_tag), split_tag(pred_tag), is_token=True)
        matcher.step(_BOUNDARY, _BOUNDARY, is_token=False)
    return matcher.finish()


# --- conlleval's numbers and text ----------------------------------------------------------


def _perl_sort_key(entity_type: str) -> bytes:
    # Perl's default sort compares the bytes it read.
    return entity_type.encode("utf-8")


def _percent(part: int, whole: int) -> float:
    return 100 * part / whole if whole > 0 else 0.0


def _scores(correct: int, gold: int, pred: int) -> Scores:
    precision, recall = _percent(correct, pred), _percent(correct, gold)
    # Same operation order as the script's 2*$precision*$recall/($precision+$recall).
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return Scores(precision, recall, f1)


def precision_recall_f1(counts: ConllevalCounts) -> dict:
    """Overall and per-type precision, recall and F1 in percent, the numbers conlleval prints.

    Returns
    -------
    dict
        ``{"overall": Scores, "per_type": {type: Scores}}``, types in report order.
        A score with nothing to divide by is 0.0, as in the script.
    """
    overall = _scores(counts.n_correct_chunks, counts.n_gold_chunks, counts.n_pred_chunks)
    per_type = {
        t: _scores(
            counts.correct_chunks_by_type.get(t, 0),
            counts.gold_chunks_by_type.get(t, 0),
            counts.pred_chunks_by_type.get(t, 0),
        )
        for t in counts.types
    }
    return {"overall": overall, "per_type": per_type}


def _report_types(counts: ConllevalCounts) -> list[str]:
    """The script's de-duplication of its sorted type list, quirk included."""
    listed, last = [], None
    for t in sorted([*counts.gold_chunks_by_type, *counts.pred_chunks_by_type], key=_perl_sort_key):
        # Perl's `not($lastType)` is also true for "": an empty type present in both
        # columns is listed twice. (Perl cannot produce a type "0", its other false string.)
        if last is None or last == "" or last != t:
            listed.append(t)
        last = t
    return listed


def _perl_rjust(text: str, width: int) -> str:
    # Perl pads by bytes, not characters.
    return " " * max(0, width - len(text.encode("utf-8"))) + text


def conlleval_report(counts: ConllevalCounts) -> str:
    """The text ``conlleval`` prints for these counts, byte for byte (once UTF-8 encoded).

    Examples
    --------
    >>> c = count_chunks([['B-PER', 'I-PER', 'O']], [['B-PER', 'I-PER', 'B-LOC']])
    >>> print(conlleval_report(c), end='')
    processed 3 tokens with 1 phrases; found: 2 phrases; correct: 1.
    accuracy:  66.67%; precision:  50.00%; recall: 100.00%; FB1:  66.67
                  LOC: precision:   0.00%; recall:   0.00%; FB1:   0.00  1
                  PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1
    """
    if not isinstance(counts, ConllevalCounts):
        raise TypeError(
            f"counts must be the ConllevalCounts of count_chunks (or evaluate()['counts']), got {kind_of(counts)}"
        )
    # The format strings are the script's printf formats, kept recognisable on purpose.
    out = [
        (
            f"processed {counts.n_tokens} tokens with {counts.n_gold_chunks} phrases; "
            f"found: {counts.n_pred_chunks} phrases; correct: {counts.n_correct_chunks}.\n"
        )
    ]
    scores = precision_recall_f1(counts)
    if counts.n_tokens > 0:
        accuracy = 100 * counts.n_correct_tags / counts.n_tokens
        out.append(
            "accuracy: %6.2f%%; precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f\n" % (accuracy, *scores["overall"])
        )
    for t in _report_types(counts):
        out.append(
            f"{_perl_rjust(t, 17)}: "
            + "precision: %6.2f%%; recall: %6.2f%%; FB1: %6.2f  %d\n"
            % (*scores["per_type"][t], counts.pred_chunks_by_type.get(t, 0))
        )
    return "".join(out)


def to_json(counts: ConllevalCounts) -> dict:
    """The counts and scores as a JSON-ready dict (scores in percent, unrounded).

    Keys: ``tokens``, ``correct_tags``, ``accuracy`` (None without tokens), ``gold``,
    ``predicted``, ``correct`` (chunk counts), ``precision``, ``recall``, ``f1`` and
    ``per_type``: ``{type: {gold, predicted, correct, precision, recall, f1}}``.
    """
    scores = precision_recall_f1(counts)
    per_type = {
        t: {
            "gold": counts.gold_chunks_by_type.get(t, 0),
            "predicted": counts.pred_chunks_by_type.get(t, 0),
            "correct": counts.correct_chunks_by_type.get(t, 0),
            **s._asdict(),
        }
        for t, s in scores["per_type"].items()
    }
    return {
        "tokens": counts.n_tokens,
        "correct_tags": counts.n_correct_tags,
        "accuracy": 100 * counts.n_correct_tags / counts.n_tokens if counts.n_tokens else None,
        "gold": counts.n_gold_chunks,
        "predicted": counts.n_pred_chunks,
        "correct": counts.n_correct_chunks,
        **scores["overall"]._asdict(),
        "per_type": per_type,
    }
