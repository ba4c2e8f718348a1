"""The public tagger: fit / predict / evaluate / save / load, tying the modules together."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from . import model_io, sll
from .errors import ConfigError, DivergenceError, InputError
from .features import FEATURE_EXTRACTORS, build_feature_vocab, table_name
from .functions import OUTPUTS
from .metrics import count_chunks, to_json
from .network import Dropout, WindowNetwork
from .objectives import Options, SentenceObjective, WindowObjective
from .optim import make_optimizer
from .schemes import convert, get_entities, split_tag, tag_set
from .scoring import chunked_scores
from .settings import Settings
from .train import CallbackList, EpochResult, check_finite, run_epoch
from .vectors import match_vocabulary
from .vocab import Vocabulary
from .windows import encode_windows

__all__ = ["WindowTagger"]

log = logging.getLogger(__name__)

_PREDICT_CHUNK = 2048  # windows per forward pass when predicting (fits the CPU caches)
_SCORE_THREADS = min(2, os.cpu_count() or 1)  # threads sharing the chunks of a forward pass


class WindowTagger:
    """A window-based word classifier (Collobert et al.'s window approach; CS224d's NER network).

    Parameters
    ----------
    settings : Settings, optional
        All model and training settings; keyword arguments override single fields, e.g.
        ``WindowTagger(window=5, hidden=200, seed=1)``.

    Attributes
    ----------
    vocab : Vocabulary
        The word vocabulary (rows of L); ``index_to_key`` / ``key_to_index`` / ``vectors`` give
        the embeddings in gensim's names.
    tags : list of str
        The classes the network predicts, in output order (softmax), or
        ``[negative, positive]`` for the sigmoid output.
    history : list of dict
        One record per trained epoch (loss, dev scores, speed).

    Examples
    --------
    >>> sents = [["Anna", "lives", "in", "Oslo", "."], ["Oslo", "is", "cold", "."]] * 20
    >>> tags = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"]] * 20
    >>> tagger = WindowTagger(epochs=30, seed=0).fit(sents, tags)
    >>> tagger.predict([["Anna", "is", "in", "Oslo", "."]])
    [['PER', 'O', 'O', 'LOC', 'O']]
    """

    def __init__(self, settings: Settings | None = None, **overrides):
        base = (settings or Settings()).to_dict()
        base.update(overrides)
        self.settings = Settings.from_dict(base)
        self.vocab: Vocabulary | None = None
        self.feature_vocabs: dict = {}
        self.tags: list = []
        self.network: WindowNetwork | None = None
        self.optimizer = None
        self.history: list = []
        self.best = {"epoch": None, "f1": None}
        self.initial_vectors = None  # L before fine-tuning, when it came from pretrained vectors
        self._state = None  # training state of the last completed epoch (for resume)
        self._best_params = None  # while fit runs: the best epoch's weights so far
        self._last_good = None  # while fit runs: the last completed epoch's weights

    # ------------------------------------------------------------ embeddings (gensim names)
    @property
    def index_to_key(self) -> list:
        """Words in row order of L."""
        self._require_fitted()
        return self.vocab.index_to_key

    @property
    def key_to_index(self) -> dict:
        """Word -> row of L."""
        self._require_fitted()
        return self.vocab.key_to_index

    @property
    def vectors(self) -> np.ndarray:
        """The word embedding matrix L, shape (V, n) (the live array: copy before changing it)."""
        self._require_fitted()
        return self.network.params["L"]

    # ------------------------------------------------------------------------- encoding
    def _tables(self):
        """(feature, table name, vocabulary, dim) for every lookup table, L first."""
        s = self.settings
        out = [("word", "L", self.vocab, s.dim)]
        out += [(f, table_name(f), self.feature_vocabs[f], s.feature_dim) for f in s.features]
        return out

    def encode(self, sentences) -> tuple:
        """Window id matrices for ``sentences`` (lists of tokens): one (n_windows, C) per table."""
        lookups = [(None if feature == "word" else FEATURE_EXTRACTORS[feature], vocab)
                   for feature, _, vocab, _ in self._tables()]
        return encode_windows(sentences, lookups, self.settings.window)

    def _labels(self, tags_list, *, path=None) -> np.ndarray:
        """Class index of every token (training targets), shape (n_tokens,)."""
        s = self.settings
        if s.output == "sigmoid":
            pos = s.positive_tag
            return np.array([1 if (t == pos or split_tag(t)[1] == pos) else 0
                             for tags in tags_list for t in tags], dtype=np.int64)
        index = {t: i for i, t in enumerate(self.tags)}
        y = []
        for tags in tags_list:
            for t in convert(tags, s.scheme):
                if t not in index:
                    raise InputError(f"tag {t!r} is not one this model predicts ({', '.join(self.tags)})", path)
                y.append(index[t])
        return np.array(y, dtype=np.int64)

    # ---------------------------------------------------------------------------- fit
    def fit(self, sentences, tags, dev=None, *, embeddings=None, callbacks=(), resume=False):
        """Train on ``sentences`` (lists of tokens) and their ``tags`` (lists of tags, any scheme).

        Parameters
        ----------
        sentences : list of list of str
        tags : list of list of str
            Same lengths as ``sentences``. Read with conlleval's chunk rules, so IOB1, IOB2, IOBES
            and bare IO tags (``PER``) all work; converted to ``settings.scheme`` for training.
        dev : (sentences, tags), optional
            Scored (conlleval entity F1) after every epoch; the best epoch's weights are kept and
            ``patience`` epochs without improvement stop training.
        embeddings : WordVectors, optional
            Pretrained vectors (``index_to_key``, ``key_to_index``, ``vectors``) to start L from.
        callbacks : sequence of Callback
            ``on_batch_end`` after every batch, ``on_epoch_end`` after every epoch (True stops).
        resume : bool
            Continue a loaded model's training from its last completed epoch (same data).

        Returns
        -------
        self

        Raises
        ------
        DivergenceError
            If the loss turns NaN or inf; the tagger then holds its best (or last good) weights.
        KeyboardInterrupt
            Re-raised after restoring the best (or last completed) epoch's weights.
        """
        sentences, tags = _check_pairs(sentences, tags)
        s = self.settings
        if resume:
            if self._state is None:
                raise ConfigError("nothing to resume: this model holds no training state")
        else:
            self._setup(sentences, tags, embeddings)
        inputs = self.encode(sentences)
        y = self._labels(tags)
        lengths = np.array([len(t) for t in sentences], dtype=np.int64)
        dev_data = None if dev is None else _check_pairs(*dev)
        rng = np.random.default_rng(s.seed)
        start_epoch, bad_epochs = 0, 0
        self._best_params = None
        if resume:
            st = self._state
            self._best_params = self._copy_params()  # a loaded model holds its best epoch's weights
            self._restore(st["params"])
            self.optimizer.load_state(st["optimizer"])
            rng.bit_generator.state = st["rng"]
            start_epoch, bad_epochs = st["epoch"], st["bad_epochs"]
        # what to fall back to if the very first epoch diverges or is interrupted
        self._last_good = self._state["params"] if self._state else self._copy_params()
        options = Options(l2=s.l2, l2_tables={"L": s.l2_embeddings} if s.l2_embeddings else None,
                          anchors={"L": self.initial_vectors} if self.initial_vectors is not None else None,
                          # masks come from the shuffling generator, whose state resume restores
                          dropout=(Dropout(s.dropout_input, s.dropout_hidden, rng)
                                   if (s.dropout_input or s.dropout_hidden) else None))
        objective = (SentenceObjective(self.network, inputs, y, lengths, options) if s.decoder == "sll"
                     else WindowObjective(self.network, inputs, y, options))
        try:
            try:
                self._epochs(objective, options, rng, dev_data, start_epoch, bad_epochs, list(callbacks))
            except (KeyboardInterrupt, DivergenceError):
                self._restore(self._best_params if self._best_params is not None else self._last_good)
                raise
            self._restore(self._best_params)
        finally:
            self._best_params = None  # from here on the network holds the weights save() writes
        return self

    def _epochs(self, objective, options, rng, dev_data, start_epoch, bad_epochs, callbacks):
        """The epochs of :meth:`fit`: learning-rate schedule, dev scoring, the best epoch, patience."""
        s = self.settings
        batch_callback = CallbackList(callbacks)
        for epoch in range(start_epoch, s.epochs):
            lr_scale = 1.0 / (1.0 + s.lr_decay * epoch)
            self.optimizer.lr = s.lr * lr_scale
            if s.lr_embeddings is not None:
                self.optimizer.lr_overrides["L"] = s.lr_embeddings * lr_scale
            train_tables = set(self.network.table_names)
            if s.freeze_embeddings or epoch < s.freeze_epochs:
                train_tables.discard("L")
            options.train_tables = train_tables
            t0 = time.perf_counter()
            loss = run_epoch(objective, self.optimizer, objective.draw_order(rng, s.batch_size),
                             callback=batch_callback)
            seconds = time.perf_counter() - t0
            check_finite(self.network.params)
            n_words = len(objective.y)
            result = EpochResult(epoch + 1, loss, seconds, n_words / max(seconds, 1e-9), lr=self.optimizer.lr)
            improved = True
            if dev_data is not None:
                result.dev = self.evaluate(*dev_data)["overall"]
                improved = self.best["f1"] is None or result.dev["f1"] > self.best["f1"]
            bad_epochs = 0 if improved else bad_epochs + 1
            self._state = {"epoch": epoch + 1, "params": self._copy_params(),
                           "optimizer": {k: v.copy() for k, v in self.optimizer.state_arrays().items()},
                           "rng": rng.bit_generator.state, "bad_epochs": bad_epochs}
            self._last_good = self._state["params"]
            if improved:
                self.best = {"epoch": epoch + 1, "f1": None if result.dev is None else result.dev["f1"]}
                self._best_params = self._state["params"]
            self.history.append(result.to_dict())
            log.info("epoch %d: loss %.4f%s", epoch + 1, loss,
                     "" if result.dev is None else f", dev F1 {result.dev['f1']:.2f}")
            stop = any([bool(cb.on_epoch_end(result)) for cb in batch_callback.callbacks])
            if s.patience is not None and bad_epochs >= s.patience:
                log.info("early stop: no dev F1 improvement for %d epochs", bad_epochs)
                break
            if stop:
                break

    def _setup(self, sentences, tags, embeddings):
        s = self.settings
        extra = embeddings.index_to_key if (embeddings is not None and s.keep_pretrained_vocab) else ()
        self.vocab = Vocabulary.build(sentences, min_count=s.min_count, max_size=s.max_vocab,
                                      lowercase=s.lowercase, digits=s.digits, extra=extra)
        self.feature_vocabs = {f: build_feature_vocab(f, sentences, s.affix_min_count) for f in s.features}
        if s.output == "sigmoid":
            labels = {t for ts in tags for t in ts}
            negative = "0" if labels <= {"0", "1"} else "O"
            self.tags = [negative, s.positive_tag]
            n_outputs = 1
        else:
            types = sorted({etype for ts in tags for etype, _, _ in get_entities(ts)})
            self.tags = tag_set(types, s.scheme)
            n_outputs = len(self.tags)
        if embeddings is not None and embeddings.vectors.shape[1] != s.dim:
            log.info("word vector size %d taken from the pretrained vectors", embeddings.vectors.shape[1])
            s.dim = int(embeddings.vectors.shape[1])
        self.network = self._make_network(n_outputs)
        self.initial_vectors = None
        if embeddings is not None:
            L = self.network.params["L"]
            # A lowercased vocabulary matches exactly (no "DG" -> "dg" accidents); a cased one falls
            # back to the lowercased word, as GloVe's words are.
            found, rows = match_vocabulary(embeddings, self.vocab.index_to_key,
                                           normalize=() if self.vocab.lowercase else None)
            L[found] = s.pretrained_scale * rows
            log.info("pretrained vectors for %d of %d vocabulary words", len(found), len(self.vocab))
            self.initial_vectors = L.copy()
        self.optimizer = self._make_optimizer()
        self.history = []
        self.best = {"epoch": None, "f1": None}
        self._state = None

    def _make_network(self, n_outputs):
        s = self.settings
        tables = [(name, len(vocab), dim) for _, name, vocab, dim in self._tables()]
        network = WindowNetwork(tables, s.window, s.hidden, n_outputs, activation=s.activation, output=s.output,
                                dtype=np.dtype(s.dtype), seed=s.seed)
        if s.decoder == "sll":
            # tag transition scores live beside W1, W2: trained, saved and shape-checked like them
            sll.init_transitions(network.params, n_outputs, network.dtype)
        return network

    def _scores(self, sentences) -> np.ndarray:
        """Output scores z2 of every word of ``sentences``, back to back, shape (n_words, K).

        ``network.scores`` of each chunk of _PREDICT_CHUNK windows, the chunks shared among
        _SCORE_THREADS threads (scoring.chunked_scores: the same bits as one chunk at a time).
        """
        return chunked_scores(self.network, self.encode(sentences), _PREDICT_CHUNK, _SCORE_THREADS)

    def _make_optimizer(self):
        s = self.settings
        return make_optimizer(s.optimizer, s.lr, momentum=s.momentum,
                              lr_overrides=None if s.lr_embeddings is None else {"L": s.lr_embeddings})

    def _copy_params(self) -> dict:
        return {k: v.copy() for k, v in self.network.params.items()}

    def _restore(self, params):
        if params is not None:
            for name, arr in params.items():
                self.network.params[name][...] = arr

    # ------------------------------------------------------------------------ predict
    def predict_proba(self, sentences) -> list:
        """Class probabilities per token: a list of arrays of shape (n_words_i, len(tags))."""
        self._require_fitted()
        sentences = [list(s) for s in sentences]
        if not sentences:
            return []
        bounds = np.cumsum([len(s) for s in sentences])[:-1]
        if self.settings.decoder == "sll":
            # the posterior marginals p_t(j) of the sentence-level model
            probs = sll.posteriors(self._scores(sentences), [len(s) for s in sentences],
                                   self.network.params["A"], self.network.params["A0"])
            return np.split(probs.astype(self.network.dtype), bounds)
        return np.split(OUTPUTS[self.settings.output][1](self._scores(sentences)), bounds)

    def predict(self, sentences, scheme: str | None = None) -> list:
        """Tags for ``sentences`` (lists of tokens), in ``scheme`` (default: the training scheme).

        Returns
        -------
        list of list of str
            One tag per token.
        """
        self._require_fitted()
        sentences = [s if type(s) is list else list(s) for s in sentences]  # read, never changed
        if not sentences:
            return []
        z2 = self._scores(sentences)
        if self.settings.output == "sigmoid":
            classes = (z2[:, 0] > 0).astype(np.int64)
        elif self.settings.decoder == "sll":
            classes = sll.decode(z2, [len(s) for s in sentences], self.network.params["A"],
                                 self.network.params["A0"])
        else:
            classes = np.argmax(z2, axis=1)
        all_tags = list(map(self.tags.__getitem__, classes.tolist()))
        convert_to = scheme if (scheme is not None and self.settings.output == "softmax"
                                and scheme != self.settings.scheme) else None
        out, start = [], 0
        for s in sentences:
            stop = start + len(s)
            tags = all_tags[start:stop]
            start = stop
            out.append(tags if convert_to is None else convert(tags, convert_to))
        return out

    def evaluate(self, sentences, tags) -> dict:
        """Score predictions against gold ``tags`` with conlleval's entity-level rules.

        Returns
        -------
        dict
            ``overall``: precision, recall, f1 and token accuracy in percent; ``per_type``:
            ``{type: {gold, predicted, correct, precision, recall, f1}}``; ``counts``: the
            :class:`~windowclf.metrics.ConllevalCounts` (``conlleval_report(counts)`` prints it).
        """
        sentences, tags = _check_pairs(sentences, tags)
        counts = count_chunks(tags, self.predict(sentences))
        scores = to_json(counts)
        overall = {k: scores[k] for k in ("precision", "recall", "f1", "accuracy")}
        return {"overall": overall, "per_type": scores["per_type"], "counts": counts}

    # ---------------------------------------------------------------------- save/load
    def save(self, path, *, include_state: bool = True) -> None:
        """Write the model to ``path`` (.npz) atomically; ``include_state`` keeps what resume needs.

        While :meth:`fit` runs (a callback saving after an epoch) the file holds the best epoch's
        weights so far, with the training state of the epoch just finished.
        """
        self._require_fitted()
        params = self.network.params if self._best_params is None else self._best_params
        model_io.save_tagger(self, params, path, include_state=include_state)

    @classmethod
    def load(cls, path) -> "WindowTagger":
        """Read a model saved by :meth:`save`, checking its version and every array's shape."""
        return model_io.load_tagger(cls, path)

    def _require_fitted(self):
        if self.network is None:
            raise ConfigError("this tagger is not trained yet; call fit() or WindowTagger.load()")


def _check_pairs(sentences, tags):
    """Lists of lists, equal lengths, no empty sentence."""
    sentences = [list(s) for s in sentences]
    tags = [list(t) for t in tags]
    if len(sentences) != len(tags):
        raise InputError(f"{len(sentences)} sentences but {len(tags)} tag sequences")
    for i, (s, t) in enumerate(zip(sentences, tags)):
        if len(s) != len(t):
            raise InputError(f"sentence {i} has {len(s)} tokens but {len(t)} tags")
    return sentences, tags
