"""Tagging with a trained model: tags, probabilities and entities for tokenized sentences or raw text.

:class:`Tagging` holds the methods of :class:`~windowclf.models.tagger.WindowTagger` that only read a
trained model; the tagger module keeps training, saving and loading.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from windowclf._util.arguments import check_bool, check_int, check_number, kind_of
from windowclf._util.threads import one_blas_thread
from windowclf.config.parameters import SCHEME_NAMES, canonical_choice
from windowclf.features.documents import document_blocks
from windowclf.features.tables import DOCUMENT_FEATURES
from windowclf.features.token_table import TokenTable
from windowclf.inference import evaluation
from windowclf.inference.decoding import Decoder
from windowclf.inference.scoring import TaggingState, chunked_scores, session_state
from windowclf.nn.functions import OUTPUTS
from windowclf.nn.network import WindowNetwork
from windowclf.nn.projections import Projector
from windowclf.tags.record import Entity, sentence_entities
from windowclf.tags.schemes import convert
from windowclf.text.inputs import bounded_documents, document_ids, tagged_pairs, token_lists
from windowclf.text.tokenize import check_tokenizer, split_sentences

__all__ = ["Tagging", "vote_groups"]

_PREDICT_CHUNK = 2048  # windows per forward pass when predicting (fits the CPU caches)
_SCORE_THREADS = min(2, os.cpu_count() or 1)  # threads sharing the chunks of a forward pass


class Tagging:
    """Prediction methods of a trained :class:`~windowclf.models.tagger.WindowTagger` (a mix-in).

    What a class that mixes it in provides: ``settings`` (the model's settings: ``scheme``,
    ``output``, ``decoder``, ``positive_tag``, ``doc_vote``, ``document_sentences``, ``features``), ``tags`` (its output
    tags), ``network`` (the trained network; an ensemble overrides :meth:`scores` and
    :meth:`decoder` instead), ``training_input`` (how its training data was read: the
    ``tokenizer`` raw text is split with by default), :meth:`encode` and :meth:`check_fitted`.
    """

    settings: Any
    tags: list
    network: Any
    training_input: dict

    def encode(self, sentences, documents=None) -> Any:
        """The window ids of ``sentences`` (see :meth:`WindowTagger.encode
        <windowclf.models.tagger.WindowTagger.encode>`)."""
        raise NotImplementedError

    # a WindowTagger's per-token encoding, which scores() reads for a plain network (an ensemble
    # overrides scores): WindowTagger.encode_tokens, token_table and per_token_tables
    encode_tokens: Any
    token_table: Any
    per_token_tables: Any

    def check_fitted(self) -> None:
        """Raise ConfigError unless the model is trained."""
        raise NotImplementedError

    def scores(self, sentences, windows=None, documents=None) -> np.ndarray:
        """Output scores z2 of every word of ``sentences``, back to back, shape (n_words, K).

        The one place that picks the forward pass: a plain WindowNetwork's scores come from its
        per-token projections (:class:`~windowclf.nn.projections.Projector`, kept with the token
        table for the session: :func:`~windowclf.inference.scoring.tagging_session`). Given
        ``windows`` (``encode(sentences, documents)``, as training's dev scoring prepares them),
        or for any other network, the general pass: ``network.scores`` of each chunk of
        _PREDICT_CHUNK windows (:func:`~windowclf.inference.scoring.chunked_scores`). Either way
        the chunks or blocks are shared among _SCORE_THREADS threads, which change no bit.
        """
        self.check_fitted()
        if windows is not None:
            windows = self.network.checked_ids(windows, "windows", bounds=True)
        else:
            sentences = token_lists(sentences)
        with one_blas_thread():  # threads.py: more BLAS threads only slow these small products
            if windows is None and type(self.network) is WindowNetwork:
                state = session_state(self, self._tagging_state)
                tokens = self.encode_tokens(sentences, documents, table=state.table)
                return state.projector.scores(tokens, _SCORE_THREADS)
            ids = self.encode(sentences, documents) if windows is None else windows
            return chunked_scores(self.network, ids, _PREDICT_CHUNK, _SCORE_THREADS)

    def _tagging_state(self) -> TaggingState:
        """What a session keeps for this model: its token table and the network's Projector."""
        return TaggingState(self.token_table, lambda: Projector(self.network, self.per_token_tables()))

    @property
    def _probability_dtype(self) -> np.dtype:
        """The dtype of :meth:`predict_proba`'s arrays: the network's (an ensemble has its own)."""
        return self.network.dtype

    @property
    def reads_documents(self) -> bool:
        """Whether the model reads whole documents (the ``doccase`` feature, the document vote):
        then a call should hold whole documents (the ``documents`` argument names them)."""
        return self.settings.doc_vote > 0 or any(f in DOCUMENT_FEATURES for f in self.settings.features)

    def documents_as_read(self, documents, n_sentences: int) -> list:
        """Each of ``n_sentences`` sentences' document as the model reads it: its ``documents``
        entry (None: the sentences are unmarked data) cut into blocks of at most
        ``settings.document_sentences`` sentences (:func:`~windowclf.features.documents.document_blocks`,
        the one rule for the document features, the vote and the gazetteer).

        Parameters
        ----------
        documents : sequence of hashable, length n_sentences, or None
            Each sentence's marked document.
        n_sentences : int

        Returns
        -------
        list of int, length n_sentences
            Block numbers, equal for the sentences of one document as read.
        """
        n_sentences = check_int("n_sentences", n_sentences, low=0, high=1 << 40)
        return document_blocks(document_ids(documents, n_sentences), self.settings.document_sentences)

    @property
    def document_size(self) -> int | None:
        """The most sentences a document as read holds (``settings.document_sentences``; None:
        unbounded, documents as marked)."""
        return self.settings.document_sentences

    def _chain_scores(self, sentences, documents, decoder: Decoder, windows=None) -> np.ndarray:
        """z2 of the (non-empty) ``sentences`` as decoding reads it: with the model's document vote
        (``doc_vote``, :meth:`Decoder.voted <windowclf.inference.decoding.Decoder.voted>`) when it has one."""
        z2 = self.scores(sentences, windows, documents)
        weight = self.settings.doc_vote
        if not weight:
            return z2
        read = self.documents_as_read(documents, len(sentences))
        words = [w for s in sentences for w in s]
        groups = None
        if windows is None:  # tagging: the words' vote forms from the session's token table, once per token
            table = session_state(self, self._tagging_state).table
            groups = vote_groups(table, table.codes(words), [len(s) for s in sentences], read)
        return decoder.voted(z2, [len(s) for s in sentences], words, read, weight, groups=groups)

    # ------------------------------------------------------------------------ predict
    def decoder(self, constrain: bool = True, *, general: bool = False) -> Decoder:
        """The :class:`~windowclf.inference.decoding.Decoder` of this model (scheme constraints on or
        off; ``general``: its chain's posteriors by the log-space recursion, as training's dev
        scoring reads them, instead of the rescaled one)."""
        constrain = check_bool("constrain", constrain)
        self.check_fitted()
        s, p = self.settings, self.network.params
        return Decoder(
            self.tags,
            s.scheme,
            output=s.output,
            constrain=constrain,
            transitions=(p["A"], p["A0"]) if s.decoder == "sll" else None,
            rescaled=not general,
        )

    def decode_sentences(self, sentences, constrain, *, entities=False, windows=None, documents=None):
        """(sentences, decoded tags and entities (or None) per sentence); empty ones skip the network
        (``windows``: their non-empty sentences' ``encode``, when the caller has it; ``documents``:
        each sentence's document)."""
        self.check_fitted()
        constrain, entities = check_bool("constrain", constrain), check_bool("entities", entities)
        sentences = token_lists(sentences)
        documents = document_ids(documents, len(sentences))
        full = [s for s in sentences if s]
        tags: list[list[str]] = []
        found: list = []
        if full:
            decoder, lengths = self.decoder(constrain, general=windows is not None), [len(s) for s in full]
            z2 = self._chain_scores(full, [d for s, d in zip(sentences, documents) if s], decoder, windows)
            flat = decoder.decode(z2, lengths)
            all_tags, start = list(map(self.tags.__getitem__, flat.tolist())), 0
            for n in lengths:  # list slices: cheaper than an array view and a tolist per sentence
                tags.append(all_tags[start : start + n])
                start += n
            found = decoder.entities(z2, lengths, flat) if entities else [None] * len(full)
        it = iter(zip(tags, found))
        out = [next(it) if s else ([], [] if entities else None) for s in sentences]
        return sentences, [t for t, _ in out], [e for _, e in out]

    def predict_proba(self, sentences, *, constrain: bool = True, documents=None) -> list:
        """Class probabilities per token: each word's softmax, or (SLL, constrained decoding) the
        marginals of the chain the decoder searches.

        Parameters
        ----------
        sentences : list of list of str
            n_sentences sentences of tokens; sentence i has n_words_i.
        constrain : bool
            Marginals of the chain under the scheme's constraints (as decoding reads it).
        documents : sequence, length n_sentences, optional
            Each sentence's document, for a model that reads documents (None: one document).

        Returns
        -------
        list of ndarray
            One array of shape (n_words_i, len(tags)) per sentence, each row summing to 1.
        """
        self.check_fitted()
        constrain = check_bool("constrain", constrain)
        sentences = token_lists(sentences)
        lengths = [len(s) for s in sentences]
        full = [n for n in lengths if n]
        if not full:
            return [np.zeros((0, len(self.tags)), self._probability_dtype) for _ in sentences]
        decoder = self.decoder(constrain)
        documents = document_ids(documents, len(sentences))
        z2 = self._chain_scores([s for s in sentences if s], [d for s, d in zip(sentences, documents) if s], decoder)
        if decoder.sll or decoder.constrained:
            probs = decoder.marginals(z2, full).astype(self._probability_dtype)
        else:
            probs = OUTPUTS[self.settings.output][1](z2).astype(self._probability_dtype, copy=False)
        return np.split(probs, np.cumsum(lengths)[:-1])

    def predict(
        self,
        sentences,
        scheme: str | None = None,
        *,
        constrain: bool = True,
        min_confidence: float | None = None,
        confidences: bool = False,
        documents=None,
    ) -> list:
        """Tags for ``sentences`` (lists of tokens), in ``scheme`` (default: the model's scheme).

        ``constrain`` keeps every sentence well formed in the model's scheme (Viterbi under its
        constraints, :mod:`windowclf.inference.decoding`); ``min_confidence`` drops (tags ``O``) the
        entities whose probability is below it. ``documents`` names each sentence's document, for
        features that read the whole document (None, here and in the other methods: the sentences
        given mark no documents); either way they are read as :meth:`documents_as_read` says.

        Parameters
        ----------
        sentences : list of list of str
            n_sentences sentences of tokens; sentence i has n_words_i.
        scheme : str, optional
            The scheme of the tags returned (``"IOB2"``, ``"BIO"``, ``"IOBES"``, ...; case ignored).
        constrain : bool
            Decode under the scheme's constraints (False: each word's best tag, or SLL's
            unconstrained Viterbi).
        min_confidence : float in [0, 1], optional
            Entities less likely than this are tagged ``O``.
        confidences : bool
            Return each sentence's entity records with its tags.
        documents : sequence, length n_sentences, optional
            Each sentence's document.

        Returns
        -------
        list of list of str
            One tag per token; with ``confidences``, a list of (tags, entities) pairs, the entities
            (:class:`~windowclf.tags.record.Entity`, ``sentence`` its index in ``sentences``) as the
            model reads them, each with its probability.
        """
        scheme = None if scheme is None else canonical_choice("scheme", scheme, SCHEME_NAMES)  # BIO, iobes, ...
        min_confidence = check_number("min_confidence", min_confidence, low=0, high=1, optional=True)
        confidences = check_bool("confidences", confidences)
        want = confidences or min_confidence is not None
        sentences, decoded, found = self.decode_sentences(sentences, constrain, entities=want, documents=documents)
        convert_to = (
            scheme
            if (scheme is not None and self.settings.output == "softmax" and scheme != self.settings.scheme)
            else None
        )
        out = []
        for i, (tokens, tags, ents) in enumerate(zip(sentences, decoded, found)):
            kept = []
            for entity in ents or ():
                _, start, end, confidence = entity
                if min_confidence is not None and confidence < min_confidence:
                    tags[start:end] = [self.tags[0]] * (end - start)
                else:
                    kept.append(entity)
            tags = tags if convert_to is None else convert(tags, convert_to)
            out.append((tags, sentence_entities(tokens, kept, sentence=i)) if confidences else tags)
        return out

    def predict_entities(self, sentences, *, constrain: bool = True, documents=None) -> list:
        """The entities of each sentence with their probabilities under the model.

        Parameters
        ----------
        sentences : list of list of str
            n_sentences sentences of tokens.
        constrain : bool
            Decode under the scheme's constraints.
        documents : sequence, length n_sentences, optional
            Each sentence's document.

        Returns
        -------
        list of list of Entity
            One list per sentence of :class:`~windowclf.tags.record.Entity` records: ``sentence``
            the sentence's index in ``sentences``, ``tokens[token_start:token_end]`` the entity,
            ``text`` its tokens joined by spaces, no character offsets.
        """
        sentences, _, found = self.decode_sentences(sentences, constrain, entities=True, documents=documents)
        return [sentence_entities(tokens, ents, sentence=i) for i, (tokens, ents) in enumerate(zip(sentences, found))]

    def evaluate(
        self,
        sentences,
        tags=None,
        *,
        scheme: str | None = None,
        constrain: bool = True,
        documents=None,
        labels=None,
    ) -> dict:
        """Score predictions against gold ``tags`` with conlleval's entity-level rules.

        Predictions are compared in the gold tags' scheme (``scheme``, or the one
        :func:`~windowclf.tags.schemes.detect_scheme` finds), so token accuracy counts the same
        entities the same way; a one-vs-rest model's gold and predictions are both read as
        positive-vs-rest (:func:`~windowclf.tags.schemes.one_vs_rest`). ``labels`` names integer
        tags (index i is ``labels[i]``), as ``--labels`` does on the command line (default: the
        labels the model was fitted with, if any). ``tags`` None: ``sentences`` is a dataset with
        ``tokens`` and ``ner_tags`` columns (a Hugging Face ``datasets.Dataset``), its integer tags
        named by its own ``ClassLabel`` names (:func:`~windowclf.text.inputs.dataset_columns`).

        Returns
        -------
        dict
            ``overall``: precision, recall, f1 and token accuracy in percent; ``per_type``:
            ``{type: {gold, predicted, correct, precision, recall, f1}}``; ``counts``: the
            :class:`~windowclf.tags.conlleval.ConllevalCounts` (``conlleval_report(counts)`` prints it);
            ``calibration``: expected calibration error of the predicted entities' confidences
            (10 bins); ``gold`` and ``predicted``: the tags as scored.
        """
        if labels is None:
            labels = (getattr(self, "training_input", None) or {}).get("labels")
        sentences, tags = tagged_pairs(sentences, tags, labels=labels)
        scheme = None if scheme is None else canonical_choice("scheme", scheme, SCHEME_NAMES)
        constrain = check_bool("constrain", constrain)
        return evaluation.score(
            self, sentences, tags, scheme=scheme, constrain=constrain, documents=document_ids(documents, len(sentences))
        )

    def tag_text(
        self, text: str, *, constrain: bool = True, min_confidence: float | None = None, tokenizer: str | None = None
    ) -> list:
        """The entities of raw ``text``: split into sentences and tokens as ``windowclf predict``
        does (:func:`~windowclf.text.tokenize.split_sentences`; ``tokenizer``: ``conll``,
        ``whitespace`` or ``social``, default the one the model was trained for, else ``conll``),
        tagged as one document (read as :meth:`documents_as_read` reads one: in blocks of at most
        ``document_sentences`` sentences).

        Parameters
        ----------
        text : str
            Raw text; its entities' ``char_start`` and ``char_end`` index it.
        constrain : bool
            Decode under the scheme's constraints.
        min_confidence : float in [0, 1], optional
            Entities less likely than this are left out.
        tokenizer : {"conll", "whitespace", "social"}, optional

        Returns
        -------
        list of Entity
            :class:`~windowclf.tags.record.Entity` records in text order: ``text[char_start:char_end]``
            is the entity, ``sentence`` its sentence's index in the text, and its probability under the
            model.

        ``tagger(text)`` is the same call.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {kind_of(text)}; for token lists use predict")
        min_confidence = check_number("min_confidence", min_confidence, low=0, high=1, optional=True)
        [found] = self._text_entities([text], constrain, min_confidence, self._tokenizer(tokenizer))
        return found

    __call__ = tag_text

    def pipe(
        self,
        texts,
        *,
        batch_size: int = 32,
        constrain: bool = True,
        min_confidence: float | None = None,
        tokenizer: str | None = None,
    ):
        """Tag a stream of texts lazily: yields each text's entities (as :meth:`tag_text` gives them)
        in order, taking ``batch_size`` texts at a time from ``texts`` (any iterable, a generator
        reading a file say), so memory holds one batch whatever the stream's length.

        Each text is its own document (for the features that read a document, read as
        :meth:`documents_as_read` says), as in :meth:`tag_text`; the entities of a text are those
        ``tag_text(text)`` gives.

        Parameters
        ----------
        texts : iterable of str
        batch_size : int
            Texts tagged at a time (at least 1).
        constrain, min_confidence, tokenizer
            As for :meth:`tag_text`.

        Yields
        ------
        list of Entity
            The entities of each text, in the order of ``texts``.
        """
        if isinstance(texts, (str, bytes, dict)) or not isinstance(texts, Iterable):
            raise TypeError(
                f"texts must be an iterable of texts (str), got {kind_of(texts)}; for one text use tag_text"
            )
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        constrain = check_bool("constrain", constrain)
        min_confidence = check_number("min_confidence", min_confidence, low=0, high=1, optional=True)
        tokenizer = self._tokenizer(tokenizer)
        batch: list = []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts must yield texts (str), got {kind_of(text)}")
            batch.append(text)
            if len(batch) == batch_size:
                yield from self._text_entities(batch, constrain, min_confidence, tokenizer)
                batch = []
        if batch:
            yield from self._text_entities(batch, constrain, min_confidence, tokenizer)

    def _tokenizer(self, tokenizer: str | None) -> str:
        """The tokenizer asked for, else the one the model was trained for, else ``conll``."""
        if tokenizer is None:
            tokenizer = (getattr(self, "training_input", None) or {}).get("tokenizer") or "conll"
        return check_tokenizer(tokenizer)

    def _text_entities(self, texts, constrain, min_confidence, tokenizer) -> list:
        """The entities of each of ``texts``, each text its own document, tagged in one call."""
        split = [split_sentences(text, tokenizer=tokenizer) for text in texts]
        sentences = [[t.text for t in s] for sentences in split for s in sentences]
        # each text one document, in pieces as windowclf predict reads the text of a file (text.inputs)
        documents = bounded_documents(sentences, [i for i, sentences in enumerate(split) for _ in sentences])
        found = iter(self.predict_entities(sentences, constrain=constrain, documents=documents))
        out = []
        for text, text_sentences in zip(texts, split):
            entities: list[Entity] = []
            for i, tokens in enumerate(text_sentences):
                offsets = [(t.start, t.end) for t in tokens]
                kept = [
                    (e.label, e.token_start, e.token_end, e.confidence)
                    for e in next(found)
                    if min_confidence is None or (e.confidence or 0.0) >= min_confidence
                ]
                entities.extend(
                    sentence_entities([t.text for t in tokens], kept, sentence=i, offsets=offsets, text=text)
                )
            out.append(entities)
        return out


def vote_groups(table: TokenTable, codes: np.ndarray, lengths, documents) -> np.ndarray:
    """The document vote's group of each word: its document and its :func:`vote_key
    <windowclf.features.documents.vote_key>` form (from the table's ``vote`` column), numbered, shape (n_words,)."""
    numbers: dict = {}
    docs = np.fromiter((numbers.setdefault(d, len(numbers)) for d in documents), dtype=np.int64, count=len(documents))
    forms = table.column("vote")[codes]
    by_word = np.repeat(docs, np.asarray(lengths, dtype=np.int64))
    return np.unique(by_word * (int(forms.max(initial=0)) + 1) + forms, return_inverse=True)[1].ravel()
