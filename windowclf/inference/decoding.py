"""Tags from the network's scores: each word's argmax, or Viterbi under the scheme's constraints,
and the probability of every predicted entity.

Every output is read as a chain over the sentence's tags: log-scores E[t, j] for word t and tag j,
transition scores A[i, j], start scores A0[j] and end scores. SLL models learned A and A0 and their
E is z2; softmax models have E = log softmax(z2) and no transitions (the words are independent);
one-vs-rest models have E = (log(1 - h), log h) over (O, positive). Constrained decoding adds
-inf to every start, pair and end the scheme does not allow (:func:`schemes.transition_constraints`)
and takes the best path that remains (Viterbi): IOB2 never gets ``I-X`` after ``O``, IOBES never a
``B-X`` without its ``E-X``. Unconstrained, softmax and one-vs-rest models take each word's argmax
and SLL models Viterbi over the learned scores, as before constraints existed.

An entity's confidence is its probability under the same chain: the total probability of the tag
paths in which those words form one entity of that type, by conlleval's chunk rules
(:mod:`windowclf.tags.entities`, the one definition of an entity), computed by a forward recursion over
the span between the forward and backward variables (:func:`chain_batches.span_log_probabilities`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from windowclf._util.arguments import check_bool, check_int, check_number, check_strings, kind_of
from windowclf._util.limits import require_memory
from windowclf.errors import ConfigError
from windowclf.features.documents import vote_key
from windowclf.nn import chain_batches
from windowclf.nn.functions import log_softmax, softplus
from windowclf.tags.entities import ends_chunk, entity_spans, split_tag, starts_chunk
from windowclf.tags.schemes import one_vs_rest, transition_constraints

__all__ = ["Decoder", "MovedScores", "decoder_bytes", "expected_calibration_error"]

# float64 K x K arrays a Decoder holds (the scheme's penalties, the transitions with them, the tag ->
# type map at most K wide) and those one step of its recursions over one sentence makes (Viterbi's
# candidates, forward-backward's exp(A) and pair products): chain_batches sizes its batches so the
# steps' arrays stay within its budget, and a single sentence's step needs these.
_TABLES = 4
_STEP = 4


def decoder_bytes(n_tags: int) -> int:
    """Bytes a :class:`Decoder` of ``n_tags`` tags needs: its K x K tables and one step of decoding
    one sentence (K = ``n_tags``), plus the scheme's K x K booleans; checked before a Decoder is built
    and when a model file is read, as every size that comes from a file is.

    >>> decoder_bytes(9), decoder_bytes(7501) // 2**20
    (5841, 3488)
    """
    K = int(n_tags)
    return (_TABLES + _STEP) * 8 * K * K + K * K + 64 * K


class Decoder:
    """How one model turns scores into tags and entity confidences.

    Parameters
    ----------
    tags : list of str
        The model's output tags (softmax, SLL) or ``[negative, positive]`` (one-vs-rest).
    scheme : str
        The scheme of ``tags`` (one-vs-rest models: read as IO).
    output : {"softmax", "sigmoid"}
    transitions : (A, A0) or None
        An SLL model's learned scores.
    constrain : bool
        Whether decoding keeps to the scheme's well-formed sequences.
    rescaled : bool
        Posteriors by the rescaled forward-backward recursion (within 1e-12 of the log-space one,
        which takes over where it underflows); False: the log-space recursion always.
    """

    def __init__(self, tags, scheme, *, output="softmax", transitions=None, constrain=True, rescaled=True):
        tags = check_strings("tags", tags, what="the model's tags (a list of str)")
        if not tags or len(set(tags)) != len(tags):
            raise ConfigError(f"tags must be distinct and at least one, got {tags!r:.60}")
        if not isinstance(output, str) or output not in ("softmax", "sigmoid"):
            raise ConfigError(f"output must be softmax or sigmoid, got {output!r:.60}")
        if output == "sigmoid" and len(tags) != 2:
            raise ConfigError(f"tags of a sigmoid output are [negative, positive], got {len(tags)} tags")
        constrain = check_bool("constrain", constrain)
        if transitions is not None:
            transitions = _checked_transitions(transitions, len(tags))
        rescaled = check_bool("rescaled", rescaled)
        self.output, self.constrain, self.rescaled = output, constrain, rescaled
        # the tags entities are read from: a one-vs-rest model's classes are O and its bare type,
        # as schemes.one_vs_rest reads gold tags
        self.chunk_tags = one_vs_rest(["O", tags[1]], tags[1]) if output == "sigmoid" else list(tags)
        K = len(self.chunk_tags)
        require_memory(decoder_bytes(K), f"decoding {K:,} tags (K x K tables)")
        self.scheme = "IO" if output == "sigmoid" else scheme
        start, pairs, end = transition_constraints(self.chunk_tags, self.scheme)
        self.constrained = constrain and not (start.all() and pairs.all() and end.all())
        penalty = (lambda allowed: np.where(allowed, 0.0, -np.inf)) if constrain else (lambda a: np.zeros(a.shape))
        self.sll = transitions is not None
        A, A0 = (
            (np.zeros((K, K)), np.zeros(K))
            if transitions is None
            else (np.asarray(transitions[0], dtype=np.float64), np.asarray(transitions[1], dtype=np.float64))
        )
        self.A, self.A0, self.end = A + penalty(pairs), A0 + penalty(start), penalty(end)
        self._pieces = [split_tag(t) for t in self.chunk_tags]
        types = sorted({t for _, t in self._pieces if t})
        self._to_type = np.zeros((K, len(types) + 1))  # tag -> its entity type (last column: O)
        self._type_of = np.array([types.index(t) if t else len(types) for _, t in self._pieces])
        self._to_type[np.arange(K), self._type_of] = 1.0
        self._rule_cache = {}

    def checked_scores(self, z2, lengths=...) -> tuple:
        """(z2, lengths) as the decoder takes them: a finite float array of shape (n_words, K) (K = 1
        for one-vs-rest) and the sentences' positive lengths summing to n_words; TypeError or
        ValueError naming the argument otherwise."""
        k = 1 if self.output == "sigmoid" else len(self.chunk_tags)
        if isinstance(z2, MovedScores):  # made here, by voted
            pass
        elif not isinstance(z2, np.ndarray) or z2.ndim != 2 or z2.dtype.kind not in "fiu" or z2.shape[1] != k:
            raise TypeError(f"z2 must be a float array of shape (n_words, {k}), got {kind_of(z2)}")
        if lengths is ...:  # the call takes no lengths
            return z2, None
        if isinstance(lengths, (str, bytes, dict)) or not isinstance(lengths, Iterable):
            raise TypeError(f"lengths must be a sequence of sentence lengths (ints), got {kind_of(lengths)}")
        lengths = [check_int(f"lengths[{i}]", n, low=1) for i, n in enumerate(lengths)]
        if sum(lengths) != len(z2):
            raise ValueError(f"lengths must sum to the {len(z2)} rows of z2, got {sum(lengths)}")
        return z2, lengths

    def log_scores(self, z2: np.ndarray) -> np.ndarray:
        """E: the chain's per-word log-scores in float64, shape (n_words, K) (an SLL model's moved
        scores as they are: :class:`MovedScores`)."""
        z2, _ = self.checked_scores(z2)
        return self._log_scores(z2)

    def _log_scores(self, z2) -> Any:
        """:meth:`log_scores` of scores already checked."""
        if self.sll and isinstance(z2, MovedScores):
            return z2
        z = np.asarray(z2, dtype=np.float64)
        if self.output == "sigmoid":
            return np.stack([-softplus(z[:, 0]), -softplus(-z[:, 0])], axis=1)  # log(1 - h), log h
        return z if self.sll else log_softmax(z)

    def decode(self, z2: np.ndarray, lengths) -> np.ndarray:
        """Tag indices of every word, rows back to back, shape (n_words,)."""
        z2, lengths = self.checked_scores(z2, lengths)
        if self.sll:
            return chain_batches.decode(z2, lengths, self.A, self.A0, end=self.end if self.constrained else None)
        if not self.constrained:
            if self.output == "sigmoid":
                return (z2[:, 0] > 0).astype(np.int64)
            return np.argmax(z2, axis=1)
        return chain_batches.decode(self._log_scores(z2), lengths, self.A, self.A0, end=self.end)

    def marginals(self, z2: np.ndarray, lengths, project=None) -> np.ndarray:
        """p_t(j) under the chain, shape (n_words, K) (softmax without constraints: softmax(z2)), or
        with ``project`` (K, M) their product with it, (n_words, M)."""
        z2, lengths = self.checked_scores(z2, lengths)
        return self._marginals(z2, lengths, project)

    def _marginals(self, z2, lengths, project=None) -> np.ndarray:
        """:meth:`marginals` of scores and lengths already checked."""
        if not (self.sll or self.constrained):
            p = np.exp(self._log_scores(z2))
            return p if project is None else p @ project
        return chain_batches.posteriors(
            self._log_scores(z2),
            lengths,
            self.A,
            self.A0,
            end=self.end if self.constrained else None,
            rescaled=self.rescaled,
            project=project,
        )

    def voted(self, z2: np.ndarray, lengths, words, documents, weight: float, groups=None) -> Any:
        """z2 moved towards what each word's other occurrences in its document say (the document vote).

        Each word's probabilities of the entity types and of O, q_t = sum over the tags of a type of
        its marginals under this chain, are averaged over every occurrence of the same word form
        (:func:`vote_key`: as written, a word in capitals as its capitalized form) in the same
        document, m_t; the word's log-score of each tag j of type c then gains ``weight``
        (m_t(c) - q_t(c)). A form seen once in its document keeps its scores.
        This is Krishnan and Manning's (2006) non-local "majority label of the word in the document",
        read softly from the first pass's own probabilities and weighed in before decoding, so every
        output (tags, marginals, entity confidences) reads the same voted chain.

        Parameters
        ----------
        z2 : ndarray, shape (n_words, K) (K = 1 for one-vs-rest)
            The network's scores of the sentences' words, back to back.
        lengths : sequence of int
            The sentences' lengths (sum n_words).
        words : sequence of str, length n_words
            The sentences' tokens, back to back.
        documents : sequence of hashable, length len(lengths)
            Each sentence's document.
        weight : float
            How far the scores move (0: not at all).
        groups : ndarray of shape (n_words,), int, optional
            Each word's group (its document and vote form), numbered, when the caller has it
            (:func:`~windowclf.inference.prediction.vote_groups`); the same result.

        Returns
        -------
        ndarray or MovedScores, float64, shape (n_words, K)
            The scores in z2's terms (a one-vs-rest model's logit); an SLL model's as
            :class:`MovedScores`, which makes their rows as the chain reads them.
        """
        z2, lengths = self.checked_scores(z2, lengths)
        words = check_strings("words", words, what="the sentences' tokens back to back (str)")
        if len(words) != len(z2):
            raise ValueError(f"words must hold the {len(z2)} tokens of z2's rows, got {len(words)}")
        if isinstance(documents, (str, bytes, dict)) or not isinstance(documents, Iterable):
            raise TypeError(f"documents must name each sentence's document, got {kind_of(documents)}")
        documents = list(documents)
        if len(documents) != len(lengths):
            raise ValueError(f"documents must name the document of each of the {len(lengths)} sentences")
        try:
            for doc in documents:
                hash(doc)
        except TypeError:
            raise TypeError("documents must be hashable names (numbers or str)") from None
        weight = check_number("weight", weight, low=0)
        to_type = self._to_type
        q = self._marginals(z2, lengths, project=to_type)  # (n_words, types + 1)
        if groups is None:
            per_word = (doc for doc, n in zip(documents, lengths) for _ in range(n))  # any hashable names
            index: dict = {}
            groups = np.fromiter(
                (index.setdefault(key, len(index)) for key in zip(per_word, map(vote_key, words))),
                dtype=np.int64,
                count=len(q),
            )
        group = np.asarray(groups)
        sums = np.zeros((int(group.max(initial=-1)) + 1, q.shape[1]))
        np.add.at(sums, group, q)
        counts = np.bincount(group)
        move = sums[group]  # then weight (mean - q), in place: (n_words, types + 1)
        np.divide(move, counts[group][:, None], out=move)
        np.subtract(move, q, out=move)
        np.multiply(move, weight, out=move)
        del q
        if self.output == "sigmoid":  # E = (log(1 - h), log h): the logit moves by the difference
            negative, positive = self._type_of
            return np.asarray(z2, dtype=np.float64) + (move[:, positive] - move[:, negative])[:, None]
        # each tag gains its type's move (to_type's one 1 a row: the product's value exactly); SLL: E
        # is z2, read batch by batch (MovedScores); softmax: log_softmax(z2 + b) is E + b up to each
        # word's constant
        moved = MovedScores(z2, move, self._type_of)
        return moved if self.sll else np.asarray(moved)

    def entities(self, z2: np.ndarray, lengths, classes: np.ndarray) -> list:
        """The entities of the decoded ``classes`` with their probabilities.

        Returns one list per sentence of ``(type, start, end, confidence)``, ``end`` exclusive as
        :func:`~windowclf.tags.entities.entity_spans` gives it; the confidence is the probability, under the chain, that
        those words form one entity of that type (every tag path with it counts).
        """
        z2, lengths = self.checked_scores(z2, lengths)
        if (
            not isinstance(classes, np.ndarray)
            or classes.dtype.kind not in "iu"
            or classes.shape != (len(z2),)
            or (len(classes) and (classes.min() < 0 or classes.max() >= len(self.chunk_tags)))
        ):
            raise ValueError(
                f"classes must be the decoded tag indices (decode's output), an integer array of shape ({len(z2)},)"
            )
        bounds = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        found, queries = [], []
        for b in range(len(lengths)):
            tags = [self.chunk_tags[j] for j in classes[bounds[b] : bounds[b + 1]].tolist()]
            ents = entity_spans(tags)
            found.append(ents)
            queries.append([(s, e, self._rules(t)) for t, s, e in ents])
        end = self.end if (self.sll or self.constrained) else None
        logs = chain_batches.span_log_probabilities(self._log_scores(z2), lengths, self.A, self.A0, end, queries)
        return [
            [(t, s, e, float(min(1.0, np.exp(lp)))) for (t, s, e), lp in zip(ents, row)]
            for ents, row in zip(found, logs)
        ]

    def _rules(self, entity_type: str) -> tuple:
        """conlleval's chunk rules over this model's tags, for an entity of ``entity_type``:
        (first, first_at_start, inner, after, at_end) as :func:`chain_batches.span_log_probabilities` takes."""
        if entity_type not in self._rule_cache:
            pieces = self._pieces
            of_type = np.array([t == entity_type for _, t in pieces])
            starts, ends = self._chunk_edges()
            first = starts & of_type[None, :]
            first_at_start = np.array([starts_chunk(_EDGE, b) for b in pieces]) & of_type
            inner = ~starts & ~ends & of_type[None, :] & of_type[:, None]
            after = ends & of_type[:, None]
            at_end = np.array([ends_chunk(a, _EDGE) for a in pieces]) & of_type
            self._rule_cache[entity_type] = (first, first_at_start, inner, after, at_end)
        return self._rule_cache[entity_type]

    def _chunk_edges(self) -> tuple:
        """(starts, ends): K x K booleans of starts_chunk and ends_chunk for every pair of the tags,
        worked out for each (prefix, prefix, same type) case and spread over the pairs as arrays."""
        if "edges" not in self._rule_cache:
            pieces = self._pieces
            prefixes = sorted({p for p, _ in pieces})
            which = np.array([prefixes.index(p) for p, _ in pieces], dtype=np.intp)
            kinds = {t: i for i, t in enumerate(dict.fromkeys(t for _, t in pieces))}
            types = np.array([kinds[t] for _, t in pieces], dtype=np.intp)
            same = (types[:, None] == types[None, :]).astype(np.intp)
            edges = []
            for rule in (starts_chunk, ends_chunk):
                # stand-in types "X" and "Y": the rules only ask whether two types are equal
                table = np.array(
                    [
                        [[rule((a, "X"), (b, "X" if eq else "Y")) for eq in (False, True)] for b in prefixes]
                        for a in prefixes
                    ],
                    dtype=bool,
                )
                edges.append(table[which[:, None], which[None, :], same])
            self._rule_cache["edges"] = tuple(edges)
        return self._rule_cache["edges"]


def _checked_transitions(transitions, n_tags: int) -> tuple:
    """(A, A0) of an SLL model: finite float arrays of shapes (K, K) and (K,); TypeError naming them."""
    if not isinstance(transitions, (tuple, list)) or len(transitions) != 2:
        raise TypeError(f"transitions must be (A, A0) or None, got {kind_of(transitions)}")
    A, A0 = transitions
    for name, arr, shape in (("transitions A", A, (n_tags, n_tags)), ("transitions A0", A0, (n_tags,))):
        if not isinstance(arr, np.ndarray) or arr.shape != shape or arr.dtype.kind != "f":
            raise TypeError(f"{name} must be a float array of shape {shape}, got {kind_of(arr)}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds NaN or inf")
    return A, A0


_EDGE = ("O", "")  # what the chunk rules see before a sentence's first word and after its last


class MovedScores:
    """z2 (n_words, K) with each tag's row moved by its type's column of ``move`` (n_words, types),
    in float64, made rows at a time: ``scores[rows]``, as the chain reads a batch, holds no
    (n_words, K) float64 array beside z2 (``np.asarray`` makes the whole one)."""

    def __init__(self, z2: np.ndarray, move: np.ndarray, type_of: np.ndarray):
        self.z2, self.move, self.type_of = z2, move, type_of
        self.shape = z2.shape
        self.dtype = np.dtype(np.float64)

    def __len__(self) -> int:
        return len(self.z2)

    def __getitem__(self, rows) -> np.ndarray:
        z = np.array(self.z2[rows], dtype=np.float64)
        z += self.move[rows][..., self.type_of]
        return z

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        z = self[slice(None)]
        return z if dtype is None else z.astype(dtype, copy=False)


def expected_calibration_error(confidences, correct, bins: int = 10) -> dict:
    """Expected calibration error of predicted entities: sum_b (n_b / n) |accuracy_b - confidence_b|
    over ``bins`` equal-width confidence bins (a confidence of 1 falls in the last).

    Returns ``{"ece", "entities", "bins": [{"low", "high", "entities", "confidence", "accuracy"}]}``,
    ECE in percent points like the other scores.

    >>> r = expected_calibration_error([0.95, 0.95, 0.15, 0.15], [True, True, False, True])
    >>> round(r["ece"], 2), [b["entities"] for b in r["bins"] if b["entities"]]
    (20.0, [2, 2])
    """
    conf = np.asarray(confidences, dtype=np.float64)
    hit = np.asarray(correct, dtype=bool)
    index = np.minimum((conf * bins).astype(np.int64), bins - 1)
    table, ece = [], 0.0
    for b in range(bins):
        inside = index == b
        n = int(inside.sum())
        row: dict = {"low": b / bins, "high": (b + 1) / bins, "entities": n, "confidence": None, "accuracy": None}
        if n:
            confidence, accuracy = float(conf[inside].mean()), float(hit[inside].mean())
            row["confidence"], row["accuracy"] = confidence, accuracy
            ece += n / len(conf) * abs(accuracy - confidence)
        table.append(row)
    return {"ece": 100.0 * ece, "entities": len(conf), "bins": table}
