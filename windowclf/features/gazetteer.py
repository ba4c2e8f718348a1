"""The training data's own gazetteer: its entity strings, a feature of the words they cover.

Collobert et al. (SENNA) and Ratinov & Roth add gazetteers, lists of names, as features. This one
comes from the training data alone: every entity string of the training tags (up to
:data:`MAX_WORDS` words) with how often each type tagged it. Words are compared as the document
vote compares them (:func:`~windowclf.features.documents.vote_key`): as written, except that a word in
capitals, as in a headline, is its capitalized form (JAPAN is Japan). A sentence is matched
against it left to right, the longest string first; the words of a match get ``B-T`` and ``I-T``,
T the type that tagged the string most often (ties in the order of the types), and every other
word ``none``.

Training on its own entities would teach the network that a match is always right, since every
training entity matches itself. So while training, each document's own entities are left out of
the counts: a word matches only what other documents tagged, as the words of new text match only
what the training data tagged (Krishnan & Manning's cross-validated first pass, without a second
model). Documents are those the model reads (:func:`~windowclf.features.documents.document_blocks`:
unmarked data in blocks of sentences); training data read as a single document leaves out each
sentence's own entities instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from windowclf._util.limits import require_memory
from windowclf.errors import ModelFileError
from windowclf.features.documents import vote_key
from windowclf.features.vocab import Vocabulary
from windowclf.tags.entities import entity_spans

__all__ = ["MATCHES", "MAX_WORDS", "NONE", "Gazetteer"]

MAX_WORDS = 6  # longer entity strings are left out (23 of the 23,499 in CoNLL-2003's eng.train)
NONE = "none"  # the key of a word no entity string covers
# How words are compared: "capitals" as vote_key has them; "written" exactly, as the model files
# written before "capitals" (they hold no match field) were trained and are read.
MATCHES = {"capitals": vote_key, "written": None}
# What one entity string costs in a loaded gazetteer: its tuple of words (56 + 8 a word), its dict
# of counts (184 and more), its slots in the dict and the set of first words.
_ENTRY_BYTES = 400


def _entity_strings(tokens, tags, form):
    """(words, type) of every entity of one sentence of at most MAX_WORDS words, each word
    through ``form`` (None: as written)."""
    for etype, start, end in entity_spans(tags):
        if end - start <= MAX_WORDS:
            words = tokens[start:end]
            yield tuple(words if form is None else map(form, words)), etype


class Gazetteer:
    """Entity strings with how often each type tagged them.

    Parameters
    ----------
    counts : dict
        ``(word, ...) -> {type: count}``, counts > 0.
    types : list of str
        The entity types, in the order that breaks ties.
    match : {"capitals", "written"}
        How words are compared (:data:`MATCHES`); ``counts`` holds the words so compared.
    """

    def __init__(self, counts: dict, types, match: str = "capitals"):
        self.counts = counts
        self.types = list(types)
        self.match, self._form = match, MATCHES[match]
        self.longest = max(map(len, counts), default=0)
        self._first = {key[0] for key in counts}  # most words start no string: skipped at once
        self._key_index: dict = {}  # string -> its key's index in key_vocabulary(), for new text
        self._lengths: dict | None = None  # first word -> the lengths of its strings, longest first

    @classmethod
    def build(cls, sentences, tags, match: str = "capitals") -> Gazetteer:
        """The gazetteer of training ``sentences`` and their ``tags``.

        Parameters
        ----------
        sentences : list of list of str
            The training sentences, n_i tokens each.
        tags : list of list of str
            Their tags in any scheme, n_i per sentence, as the model reads entities in them
            (:meth:`Settings.entity_tags <windowclf.config.settings.Settings.entity_tags>`).
        match : {"capitals", "written"}
            How words are compared (:data:`MATCHES`).

        Returns
        -------
        Gazetteer
            Every entity string of at most :data:`MAX_WORDS` words, with its count per type.

        Examples
        --------
        >>> g = Gazetteer.build([["New", "York", "beat", "Boston"]], [["B-ORG", "I-ORG", "O", "B-ORG"]])
        >>> g.keys([["In", "NEW", "YORK", "."], ["new", "york"]])
        [['none', 'B-ORG', 'I-ORG', 'none'], ['none', 'none']]
        """
        counts: dict = {}
        for tokens, ts in zip(sentences, tags):
            for key, etype in _entity_strings(tokens, ts, MATCHES[match]):
                of_key = counts.setdefault(key, {})
                of_key[etype] = of_key.get(etype, 0) + 1
        types = sorted({etype for of_key in counts.values() for etype in of_key})
        return cls(counts, types, match)

    @classmethod
    def from_entries(cls, entries, match: str = "capitals") -> Gazetteer:
        """A gazetteer of listed entity strings (the user's own lists, not training data).

        Parameters
        ----------
        entries : iterable of (sequence of str, str)
            Each entity string's words (1 to :data:`MAX_WORDS` of them, each non-empty, without
            whitespace) and its type; a string listed under several types counts once for each.
        match : {"capitals", "written"}
            How words are compared (:data:`MATCHES`).

        Returns
        -------
        Gazetteer
            Its keys are those of :meth:`build`'s: ``B-T`` / ``I-T`` for the type listed most often.

        Raises
        ------
        ValueError
            An entry that is not words and a type as above, naming its index.

        Examples
        --------
        >>> g = Gazetteer.from_entries([(["Oslo"], "LOC"), (["Anna", "Keller"], "PER")])
        >>> g.keys([["Anna", "Keller", "left", "OSLO"]])
        [['B-PER', 'I-PER', 'none', 'B-LOC']]
        """
        counts: dict = {}
        form = MATCHES[match]
        for i, entry in enumerate(entries):
            try:
                words, etype = entry
                words = list(words) if not isinstance(words, str) else None
            except (TypeError, ValueError):
                words = etype = None
            ok = (
                isinstance(words, list)
                and 0 < len(words) <= MAX_WORDS
                and all(isinstance(w, str) and w and not any(c.isspace() for c in w) for w in words)
                and isinstance(etype, str)
                and etype
                and not any(c.isspace() for c in etype)
            )
            if not ok:
                raise ValueError(
                    f"gazetteer entry {i} must be (words, type): 1 to {MAX_WORDS} words and a type, "
                    f"each a non-empty string without whitespace; got {entry!r:.80}"
                )
            key = tuple(words if form is None else map(form, words))
            of_key = counts.setdefault(key, {})
            of_key[etype] = of_key.get(etype, 0) + 1
        types = sorted({etype for of_key in counts.values() for etype in of_key})
        return cls(counts, types, match)

    def key_vocabulary(self) -> Vocabulary:
        """The feature's keys: ``none``, then ``B-T`` and ``I-T`` of every type."""
        keys = [NONE] + [f"{part}-{etype}" for etype in self.types for part in "BI"]
        return Vocabulary(keys, lowercase=False, digits=False)

    def keys(self, sentences, documents=None, own_tags=None) -> list:
        """The key of every word of ``sentences``, one list per sentence.

        Parameters
        ----------
        sentences : list of list of str
            n sentences, n_i tokens each.
        documents : sequence, optional
            n document names, one per sentence, as the model reads them (None: one document).
        own_tags : list of list of str, optional
            The sentences' own tags, n_i per sentence, when they are the training data: then
            the entities of each sentence's document (with a single document, of each sentence)
            are left out of the counts first.

        Returns
        -------
        list of list of str
            n lists of n_i keys: ``none``, ``B-T`` or ``I-T``.
        """
        units: Iterable = itertools.repeat(None)
        own: dict = {}
        if own_tags is not None:
            documents = [0] * len(sentences) if documents is None else list(documents)
            units = documents if len(set(documents)) > 1 else range(len(sentences))
            for unit, tokens, ts in zip(units, sentences, own_tags):
                for key, etype in _entity_strings(tokens, ts, self._form):
                    of_key = own.setdefault((unit, key), {})
                    of_key[etype] = of_key.get(etype, 0) + 1
        return [self._sentence_keys(tokens, unit, own) for unit, tokens in zip(units, sentences)]

    def starts(self, tokens) -> np.ndarray:
        """Whether each of ``tokens`` (str) may begin an entity string, shape (len(tokens),) bool."""
        form, first = self._form, self._first
        return np.fromiter((form(t) in first if form else t in first for t in tokens), dtype=bool, count=len(tokens))

    def key_indices(self, words, starts: np.ndarray, lengths, forms=None) -> np.ndarray:
        """:meth:`keys` of new text (nothing left out), sentences back to back, as indices into
        :meth:`key_vocabulary`'s keys.

        Parameters
        ----------
        words : list of str, length n_words
            The sentences' tokens, back to back.
        starts : ndarray of shape (n_words,), bool
            :meth:`starts` of ``words`` (only where it is True is a match tried).
        lengths : sequence of int
            The sentences' lengths (sum n_words).
        forms : (ndarray of shape (n_words,), list of str), optional
            Each word's form as this gazetteer compares it, as a number into the list (what a
            token table keeps); None: computed from ``words``.

        Returns
        -------
        ndarray of shape (n_words,), int

        >>> g = Gazetteer.build([["New", "York", "beat", "Boston"]], [["B-ORG", "I-ORG", "O", "B-ORG"]])
        >>> words = ["In", "NEW", "YORK", ".", "new", "york"]
        >>> g.key_indices(words, g.starts(words), [4, 2]).tolist()
        [0, 1, 2, 0, 0, 0]
        """
        out = np.zeros(len(words), dtype=np.int64)
        ends = np.repeat(np.cumsum(lengths), lengths)  # where each word's sentence ends
        if forms is None:
            form = self._form or (lambda w: w)
            window = lambda i, j: list(map(form, words[i:j]))
        else:
            numbers, strings = forms
            window = lambda i, j: [strings[k] for k in numbers[i:j].tolist()]
        if self._lengths is None:  # the lengths of the strings each first word begins, longest first
            found: dict = {}
            for key in self.counts:
                found.setdefault(key[0], set()).add(len(key))
            self._lengths = {first: sorted(n, reverse=True) for first, n in found.items()}
        covered = 0  # words before it belong to a match already
        for i in np.flatnonzero(starts).tolist():
            if i < covered:
                continue
            seen = window(i, min(i + self.longest, int(ends[i])))
            for length in self._lengths.get(seen[0], ()):
                key = tuple(seen[:length])
                if len(key) == length and key in self.counts:
                    first = self._first_key_index(key)
                    out[i] = first
                    out[i + 1 : i + length] = first + 1  # B-T, then I-T
                    covered = i + length
                    break
        return out

    def _first_key_index(self, key) -> int:
        """The index of B-T for the type that tagged ``key`` most often (1 + 2 * its place in types)."""
        index = self._key_index.get(key)
        if index is None:
            index = self._key_index[key] = 1 + 2 * self.types.index(self._type(key, None))
        return index

    def _sentence_keys(self, tokens, unit, own) -> list:
        if self._form is not None:
            tokens = [self._form(w) for w in tokens]
        keys, i, n = [NONE] * len(tokens), 0, len(tokens)
        while i < n:
            if tokens[i] not in self._first:
                i += 1
                continue
            for length in range(min(self.longest, n - i), 0, -1):
                key = tuple(tokens[i : i + length])
                etype = self._type(key, own.get((unit, key))) if key in self.counts else None
                if etype is not None:
                    keys[i : i + length] = [f"B-{etype}"] + [f"I-{etype}"] * (length - 1)
                    i += length
                    break
            else:
                i += 1
        return keys

    def _type(self, key, left_out) -> str | None:
        """The type that tagged ``key`` most often, once ``left_out`` counts are taken away."""
        of_key, best, most = self.counts[key], None, 0
        for etype in self.types:
            n = of_key.get(etype, 0) - (left_out.get(etype, 0) if left_out else 0)
            if n > most:
                best, most = etype, n
        return best

    # ------------------------------------------------------------------ model file
    def to_dict(self) -> dict:
        """JSON-ready: the types, how words are compared and ``[[word, ...], {type: count}]`` per string."""
        return {
            "types": self.types,
            "match": self.match,
            "entries": [[list(key), of_key] for key, of_key in self.counts.items()],
        }

    @classmethod
    def from_dict(cls, data, path=None, name: str = "gazetteer") -> Gazetteer:
        """The gazetteer :meth:`to_dict` wrote; ModelFileError naming ``path`` and the metadata
        field ``name`` if it is malformed."""

        def bad(what):
            return ModelFileError(f"metadata field {name} {what}", path)

        if (
            not isinstance(data, dict)
            or not isinstance(data.get("types"), list)
            or not isinstance(data.get("entries"), list)
        ):
            raise bad("must hold types and entries lists")
        match = data.get("match", "written")  # files from before the field compared words as written
        if not isinstance(match, str) or match not in MATCHES:
            raise bad(f"match must be one of {', '.join(sorted(MATCHES))}")
        types = data["types"]
        if not all(isinstance(t, str) and t for t in types) or len(set(types)) != len(types):
            raise bad("types must be distinct non-empty strings")
        # the dict of strings built below, before it is built: a tuple, a dict and a set entry each
        require_memory(
            _ENTRY_BYTES * len(data["entries"]),
            f"a gazetteer of {len(data['entries']):,} entity strings",
            path,
            error=ModelFileError,
        )
        counts = {}
        for i, entry in enumerate(data["entries"]):
            ok = (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], list)
                and 0 < len(entry[0]) <= MAX_WORDS
                and all(isinstance(w, str) for w in entry[0])
                and isinstance(entry[1], dict)
                and entry[1]
                and all(t in types and type(n) is int and n > 0 for t, n in entry[1].items())
            )
            if not ok:
                raise bad(f"entries[{i}] must be [[word, ...], {{type: count > 0}}] of at most {MAX_WORDS} words")
            counts[tuple(entry[0])] = dict(entry[1])
        return cls(counts, types, match)
