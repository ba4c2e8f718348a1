"""The public tagger: fit / predict / evaluate / save / load, tying the modules together."""

from __future__ import annotations

import itertools
import logging
import os
import time

import numpy as np

from . import __version__, sll
from .errors import ConfigError, DivergenceError, InputError, ModelFileError
from .fastpath import chunked_scores
from .features import FEATURE_EXTRACTORS, build_feature_vocab, table_name
from .functions import OUTPUTS
from .metrics import count_chunks, to_json
from .network import Dropout, WindowNetwork
from .optim import make_optimizer
from .persistence import load_model_file, save_model_file
from .schemes import convert, get_entities, split_tag, tag_set
from .settings import Settings
from .train import Callback, EpochResult, check_finite, run_epoch
from .vectors import match_vocabulary
from .vocab import Vocabulary
from .windows import window_ids_flat

__all__ = ["WindowTagger"]

log = logging.getLogger(__name__)

_TIMING_KEYS = ("seconds", "words_per_second")
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
        C = self.settings.window
        # Each distinct token is looked up once per table: text repeats its words a lot. Codes
        # number the distinct tokens in order of appearance (dict.fromkeys keeps it).
        flat = list(itertools.chain.from_iterable(sentences))
        codes = {token: code for code, token in enumerate(dict.fromkeys(flat))}
        token_codes = np.fromiter(map(codes.__getitem__, flat), dtype=np.int64, count=len(flat))
        distinct = list(codes)
        lengths = [len(tokens) for tokens in sentences]
        out = []
        for feature, _, vocab, _ in self._tables():
            keys = distinct if feature == "word" else [FEATURE_EXTRACTORS[feature](t) for t in distinct]
            ids = vocab.ids(keys)[token_codes]
            out.append(window_ids_flat(ids, lengths, C, vocab.start_id, vocab.end_id))
        return tuple(out)

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
        dev_data = None
        if dev is not None:
            dev_sentences, dev_tags = _check_pairs(*dev)
            dev_data = (dev_sentences, dev_tags)
        rng = np.random.default_rng(s.seed)
        start_epoch, bad_epochs, best_params = 0, 0, None
        if resume:
            st = self._state
            best_params = self._copy_params()  # a loaded model holds its best epoch's weights
            self._restore(st["params"])
            self.optimizer.load_state(st["optimizer"])
            rng.bit_generator.state = st["rng"]
            start_epoch, bad_epochs = st["epoch"], st["bad_epochs"]
        # what to fall back to if the very first epoch diverges or is interrupted
        last_good = self._state["params"] if self._state else self._copy_params()
        anchors = {"L": self.initial_vectors} if self.initial_vectors is not None else None
        l2_tables = {"L": s.l2_embeddings} if s.l2_embeddings else None
        batch_callback = _BatchFanout(list(callbacks))
        # masks come from the shuffling generator, whose state resume restores
        dropout = Dropout(s.dropout_input, s.dropout_hidden, rng) if (s.dropout_input or s.dropout_hidden) else None
        try:
            for epoch in range(start_epoch, s.epochs):
                lr_scale = 1.0 / (1.0 + s.lr_decay * epoch)
                self.optimizer.lr = s.lr * lr_scale
                if s.lr_embeddings is not None:
                    self.optimizer.lr_overrides["L"] = s.lr_embeddings * lr_scale
                train_tables = set(self.network.table_names)
                if s.freeze_embeddings or epoch < s.freeze_epochs:
                    train_tables.discard("L")
                t0 = time.perf_counter()
                if s.decoder == "sll":
                    groups = sll.sentence_batches(lengths, s.batch_size, rng)
                    loss = run_epoch(self.network, self.optimizer, inputs, np.arange(len(groups)),
                                     batch_size=1, rng=rng, callback=batch_callback,
                                     loss_fn=self._sentence_loss(inputs, y, lengths, groups, l2=s.l2,
                                                                 train_tables=train_tables,
                                                                 l2_tables=l2_tables, anchors=anchors,
                                                                 dropout=dropout))
                else:
                    loss = run_epoch(self.network, self.optimizer, inputs, y, batch_size=s.batch_size, rng=rng,
                                     l2=s.l2, train_tables=train_tables, l2_tables=l2_tables, anchors=anchors,
                                     dropout=dropout, callback=batch_callback)
                seconds = time.perf_counter() - t0
                check_finite(self.network.params)
                result = EpochResult(epoch + 1, loss, seconds, len(y) / max(seconds, 1e-9), lr=self.optimizer.lr)
                improved = True
                if dev_data is not None:
                    result.dev = self.evaluate(*dev_data)["overall"]
                    improved = self.best["f1"] is None or result.dev["f1"] > self.best["f1"]
                bad_epochs = 0 if improved else bad_epochs + 1
                self._state = {"epoch": epoch + 1, "params": self._copy_params(),
                               "optimizer": {k: v.copy() for k, v in self.optimizer.state_arrays().items()},
                               "rng": rng.bit_generator.state, "bad_epochs": bad_epochs}
                last_good = self._state["params"]
                if improved:
                    self.best = {"epoch": epoch + 1, "f1": None if result.dev is None else result.dev["f1"]}
                    best_params = self._state["params"]
                self.history.append(result.to_dict())
                log.info("epoch %d: loss %.4f%s", epoch + 1, loss,
                         "" if result.dev is None else f", dev F1 {result.dev['f1']:.2f}")
                stop = any([bool(cb.on_epoch_end(result)) for cb in batch_callback.callbacks])
                if s.patience is not None and bad_epochs >= s.patience:
                    log.info("early stop: no dev F1 improvement for %d epochs", bad_epochs)
                    break
                if stop:
                    break
        except (KeyboardInterrupt, DivergenceError):
            self._restore(best_params if best_params is not None else last_good)
            raise
        self._restore(best_params)
        return self

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

    def _sentence_loss(self, inputs, y, lengths, groups, **kwargs):
        """``loss_fn([g]) -> (J, grads)`` for run_epoch: the SLL of the sentences of ``groups[g]``."""
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))

        def loss_fn(group_index):
            batch = groups[int(group_index[0])]
            rows = np.concatenate([np.arange(starts[i], starts[i] + lengths[i]) for i in batch])
            return sll.sentence_loss_and_grads(self.network, tuple(ids[rows] for ids in inputs), y[rows],
                                               lengths[batch], **kwargs)
        return loss_fn

    def _scores(self, sentences) -> np.ndarray:
        """Output scores z2 of every word of ``sentences``, back to back, shape (n_words, K).

        ``network.scores`` of each chunk of _PREDICT_CHUNK windows, the chunks shared among
        _SCORE_THREADS threads (fastpath.chunked_scores: the same bits as one chunk at a time).
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
        """Write the model to ``path`` (.npz) atomically; ``include_state`` keeps what resume needs."""
        self._require_fitted()
        arrays = {f"param/{k}": v for k, v in self.network.params.items()}
        if self.initial_vectors is not None:
            arrays["initial/L"] = self.initial_vectors
        meta = {
            "windowclf_version": __version__,
            "settings": self.settings.to_dict(),
            "vocabulary": self.vocab.to_dict(),
            "feature_vocabularies": {f: v.to_dict() for f, v in self.feature_vocabs.items()},
            "tags": self.tags,
            "scheme": self.settings.scheme,
            # timings differ run to run; leaving them out keeps the file byte-identical for a seed
            "history": [{k: v for k, v in h.items() if k not in _TIMING_KEYS} for h in self.history],
            "best": self.best,
        }
        if include_state and self._state is not None:
            st = self._state
            arrays.update({f"state/param/{k}": v for k, v in st["params"].items()})
            arrays.update({f"state/optimizer/{k}": v for k, v in st["optimizer"].items()})
            meta["state"] = {"epoch": st["epoch"], "rng": st["rng"], "bad_epochs": st["bad_epochs"]}
        save_model_file(path, arrays, meta)

    @classmethod
    def load(cls, path) -> "WindowTagger":
        """Read a model saved by :meth:`save`, checking its version and every array's shape."""
        arrays, meta = load_model_file(path)
        try:
            self = cls(Settings.from_dict(meta["settings"]))
            self.vocab = Vocabulary.from_dict(meta["vocabulary"])
            self.feature_vocabs = {f: Vocabulary.from_dict(v) for f, v in meta["feature_vocabularies"].items()}
            self.tags = list(meta["tags"])
            self.history = list(meta.get("history", []))
            self.best = dict(meta.get("best", {"epoch": None, "f1": None}))
        except (KeyError, TypeError, ValueError) as err:
            raise ModelFileError(f"metadata is incomplete or malformed ({type(err).__name__}: {err})", path) from None
        if set(self.feature_vocabs) != set(self.settings.features):
            raise ModelFileError("metadata features and feature vocabularies disagree", path)
        n_outputs = 1 if self.settings.output == "sigmoid" else len(self.tags)
        self.network = self._make_network(n_outputs)
        expected = self.network.shapes()
        dtype = self.network.dtype
        for name, shape in expected.items():
            arr = arrays.get(f"param/{name}")
            if arr is None:
                raise ModelFileError(f"missing array param/{name}", path)
            if arr.shape != shape:
                raise ModelFileError(f"array param/{name} has shape {arr.shape}, expected {shape}", path)
            self.network.params[name] = arr.astype(dtype, copy=False)
        known = {f"param/{n}" for n in expected} | {"initial/L"}
        if "initial/L" in arrays:
            if arrays["initial/L"].shape != expected["L"]:
                raise ModelFileError(f"array initial/L has shape {arrays['initial/L'].shape}, expected {expected['L']}", path)
            self.initial_vectors = arrays["initial/L"].astype(dtype, copy=False)
        self.optimizer = self._make_optimizer()
        if "state" in meta:
            st = meta["state"]
            params, opt = {}, {}
            for name, shape in expected.items():
                arr = arrays.get(f"state/param/{name}")
                if arr is None or arr.shape != shape:
                    raise ModelFileError(f"training state array state/param/{name} missing or misshapen", path)
                params[name] = arr.astype(dtype)
                known.add(f"state/param/{name}")
            for key, arr in arrays.items():
                if key.startswith("state/optimizer/"):
                    name = key[len("state/optimizer/"):]
                    if name not in expected or arr.shape != expected[name]:
                        raise ModelFileError(f"optimizer state {key} does not match the model", path)
                    opt[name] = arr.astype(dtype)
                    known.add(key)
            try:
                self._state = {"epoch": int(st["epoch"]), "params": params, "optimizer": opt,
                               "rng": st["rng"], "bad_epochs": int(st["bad_epochs"])}
            except (KeyError, TypeError, ValueError) as err:
                raise ModelFileError(f"training state is malformed ({err})", path) from None
        unknown = sorted(set(arrays) - known)
        if unknown:
            raise ModelFileError(f"unexpected arrays in model file: {', '.join(unknown)}", path)
        return self

    def _require_fitted(self):
        if self.network is None:
            raise ConfigError("this tagger is not trained yet; call fit() or WindowTagger.load()")


class _BatchFanout(Callback):
    def __init__(self, callbacks):
        self.callbacks = callbacks

    def on_batch_end(self, done, total):
        for cb in self.callbacks:
            cb.on_batch_end(done, total)


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
