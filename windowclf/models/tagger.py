"""The public tagger: fit / predict / evaluate / save / load, tying the modules together."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping

import numpy as np

from windowclf._util.arguments import check_bool, check_int, check_path, check_strings, kind_of
from windowclf._util.threads import one_blas_thread
from windowclf.config.settings import Settings, check_patience, unknown_settings
from windowclf.errors import ConfigError, DivergenceError, InputError
from windowclf.features.gazetteer import MAX_WORDS, Gazetteer
from windowclf.features.tables import GAZETTEER, USER_GAZETTEER
from windowclf.features.token_table import TokenTable, TokenWindows
from windowclf.features.vocab import Vocabulary
from windowclf.formats.gazetteers import read_gazetteer
from windowclf.inference.evaluation import Scorer
from windowclf.inference.prediction import Tagging
from windowclf.inference.scoring import forget
from windowclf.models import encoding
from windowclf.models import files as model_files
from windowclf.nn.network import Dropout, WindowNetwork
from windowclf.nn.optim import Optimizer, learning_rate_scale
from windowclf.tags.schemes import convert, detect_scheme, learned_scheme
from windowclf.text.inputs import dataset_columns, document_ids, is_dataset, tagged_pairs, token_lists
from windowclf.text.tokenize import check_tokenizer, tokenize
from windowclf.training import setup
from windowclf.training.arguments import check_fields, checked_callbacks, checked_embeddings
from windowclf.training.loop import CallbackList, EpochResult, check_finite, run_epoch
from windowclf.training.objectives import Options, SentenceObjective, WindowObjective
from windowclf.training.progress import ProgressPrinter
from windowclf.training.resume import RESUMABLE, TrainingState, check_resume, fingerprint
from windowclf.training.snapshots import Patch, Snapshot

__all__ = ["WindowTagger", "user_gazetteer"]

log = logging.getLogger(__name__)

# The settings a trained model's weights, vocabularies or tags do not depend on: the schedule (what
# a resume may change), the seed of a new fit, and the document vote, which only decoding reads.
# set_params of any other unfits a trained tagger (scikit-learn's rule: it needs fit again).
_KEEP_FITTED = RESUMABLE | {"seed", "doc_vote"}


class WindowTagger(Tagging):
    """A window-based word classifier (Collobert et al.'s window approach; CS224d's NER network).

    Parameters
    ----------
    settings : Settings, optional
        All model and training settings; keyword arguments override single fields, e.g.
        ``WindowTagger(window=5, hidden=200, seed=1)``.

    A scikit-learn estimator: ``get_params`` returns the settings as the constructor was given them
    (``sklearn.base.clone``, ``GridSearchCV`` and ``cross_val_score`` work; ``score`` is the entity
    F1, as a fraction); ``set_params`` of a setting the weights depend on unfits a trained tagger.

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
    training_state : TrainingState or None
        Where the last fit stopped (what ``fit(..., resume=True)`` continues from); None for a
        model loaded without it or never trained.
    initial_patch : Patch or None
        With pretrained vectors: the rows of L where its pretrained values differ from L's
        current ones (:attr:`initial_vectors` is L before fine-tuning); None without.
    training_input : dict
        How the training data was read, where known: ``scheme`` (the scheme its tags were written
        in), ``labels`` (the names of integer tags), ``tokenizer``; the command line adds the file's
        ``format``, ``encoding``, ``word_column``, ``tag_column`` and ``separator``, which
        ``predict`` and ``evaluate`` read other files with unless told otherwise.

    Examples
    --------
    >>> sents = [["Anna", "lives", "in", "Oslo", "."], ["Oslo", "is", "cold", "."]] * 20
    >>> tags = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"]] * 20
    >>> tagger = WindowTagger(epochs=30, seed=0).fit(sents, tags)
    >>> tagger.predict([["Anna", "is", "in", "Oslo", "."]])
    [['PER', 'O', 'O', 'LOC', 'O']]
    """

    def __init__(self, settings: Settings | None = None, **overrides):
        if settings is not None and not isinstance(settings, Settings):
            raise TypeError(f"settings must be a Settings, got a {type(settings).__name__}; pass settings as keywords")
        unknown_settings(overrides, "WindowTagger")
        given = (settings if settings is not None else Settings()).to_dict()
        # scikit-learn's contract: get_params returns what the constructor was given, the same objects
        self._params = {name: overrides.get(name, given[name]) for name in _DEFAULTS}
        self.settings = Settings.from_dict(dict(self._params))
        self._unfitted_by: str | None = None  # set_params that unfitted a trained tagger, for the error
        self.training_input: dict = {}
        self.vocab: Vocabulary | None = None
        self.feature_vocabs: dict = {}
        self.char_vocab: Vocabulary | None = None  # with character features: their characters
        self.gazetteer: Gazetteer | None = None  # with the gazetteer feature: the training entity strings
        self.user_gazetteer: Gazetteer | None = None  # with fit(gazetteer=...): the user's entity strings
        self.tags: list = []
        self.network: WindowNetwork | None = None
        self.optimizer: Optimizer | None = None
        self.history: list = []
        self.stopped_early: str | None = None  # why patience ended the last fit, if it did
        self.provenance: dict = {}  # how the model was made (versions, time; the command line adds its files)
        self.best: dict = {"epoch": None, "f1": None}
        self.initial_patch: Patch | None = None
        self.training_state: TrainingState | None = None
        self._best_params: Snapshot | None = None  # while fit runs: the best epoch's weights so far
        self._last_good: Snapshot | None = None  # while fit runs: the last completed epoch's weights
        self._snapshot_rows: dict | None = None  # while fit runs: the rows of each table it may change
        self.data_fingerprints: dict = {"train": None, "dev": None}  # resume.fingerprint of the data

    # ------------------------------------------------------------ embeddings (gensim names)
    index_to_key = property(lambda self: self.fitted().vocab.index_to_key, doc="Words in row order of L.")
    key_to_index = property(lambda self: self.fitted().vocab.key_to_index, doc="Word -> row of L.")
    vectors = property(
        lambda self: self.fitted().network.params["L"],
        doc="The word embedding matrix L, shape (V, n) (the live array: copy before changing it).",
    )

    # ------------------------------------------------------------------------- encoding
    def lookup_tables(self) -> list:
        """(feature, table name, vocabulary, dim) of every lookup table, L first."""
        if self.vocab is None:
            raise ConfigError("this tagger is not trained yet; call fit() or WindowTagger.load()")
        return setup.lookup_tables(self.settings, self.vocab, self.feature_vocabs)

    def make_network(self, *, initialize: bool = True) -> WindowNetwork:
        """A new network for this model's settings and vocabularies (random weights, unless not
        ``initialize``: a model file's replace them)."""
        n_out = setup.n_outputs(self.settings, self.tags)
        initialize = check_bool("initialize", initialize)
        return setup.build_network(self.settings, self.lookup_tables(), self.char_vocab, n_out, initialize=initialize)

    def parameter_shapes(self) -> dict:
        """The shapes :meth:`make_network` would allocate, without allocating (memory checked)."""
        n_out = setup.n_outputs(self.settings, self.tags)
        return setup.network_shapes(self.settings, self.lookup_tables(), self.char_vocab, n_out)

    def encode(self, sentences, documents=None, *, own_tags=None) -> tuple:
        """Window id matrices for ``sentences`` (lists of tokens): one (n_windows, C) per table.
        ``documents``: each sentence's document, for the features that read the whole document,
        as :meth:`documents_as_read` reads them (None: unmarked data). ``own_tags``: the sentences' tags when they are
        the training data, whose own entities the gazetteer feature leaves out
        (:meth:`Gazetteer.keys <windowclf.features.gazetteer.Gazetteer.keys>`)."""
        return encoding.encode(self, sentences, documents, own_tags=own_tags)

    def per_token_tables(self) -> list:
        """The names of the network's tables whose rows depend on the token alone (the word, its
        per-token features, ``"r"`` for its characters), in the network's order; the others (document
        features, the gazetteer) read the word's place."""
        return encoding.per_token_tables(self)

    def token_table(self) -> TokenTable:
        """A new, empty :class:`~windowclf.features.token_table.TokenTable` of this model's per-token lookups."""
        return encoding.token_table(self)

    def encode_tokens(self, sentences, documents=None, *, table: TokenTable | None = None) -> TokenWindows:
        """``sentences`` (lists of tokens) as codes of ``table`` (a new :meth:`token_table` if None),
        with the ids of the tables that read a word's place, one per word (``documents`` as
        :meth:`encode` takes them): what tagging's per-token projections read. Its ids are those of
        :meth:`encode` (its document features and gazetteer keys computed from the codes)."""
        return encoding.encode_tokens(self, sentences, documents, table=table)

    def unknown_tag(self, tags_list) -> tuple | None:
        """(sentence index, tag) of the first tag of ``tags_list`` (one list per sentence, any scheme)
        that this trained model cannot learn from, read in its scheme; None when there is none.

        A softmax model learns its own tags only (a resumed fit on new data may bring others); a
        one-vs-rest model reads every tag as its class or the rest.
        """
        tags_list = token_lists(tags_list, "tags_list")
        if self.settings.output == "sigmoid" or not self.tags:
            return None
        known = set(self.tags)
        for i, tags in enumerate(tags_list):
            for t in convert(tags, self.settings.scheme):
                if t not in known:
                    return i, t
        return None

    def _labels(self, tags_list) -> np.ndarray:
        """Class index of every token (training targets), shape (n_tokens,)."""
        s = self.settings
        if s.output == "sigmoid":
            return np.array([t != "O" for tags in s.entity_tags(tags_list) for t in tags], dtype=np.int64)
        unknown = self.unknown_tag(tags_list)
        if unknown is not None:
            raise InputError(
                f"tags[{unknown[0]}]: tag {unknown[1]!r} is not one this model predicts ({', '.join(self.tags)})"
            )
        index = {t: i for i, t in enumerate(self.tags)}
        return np.array([index[t] for tags in tags_list for t in convert(tags, s.scheme)], dtype=np.int64)

    # ---------------------------------------------------------------------------- fit
    def fit(
        self,
        sentences,
        tags=None,
        dev=None,
        *,
        documents=None,
        embeddings=None,
        gazetteer=None,
        callbacks=(),
        resume=False,
        allow_new_data=False,
        labels=None,
        tokenizer: str | None = None,
        verbose: int = 0,
    ):
        """Train on ``sentences`` (lists of tokens) and their ``tags`` (lists of tags, any scheme).

        Parameters
        ----------
        sentences : list of list of str, or a dataset
            Token lists; or, with ``tags`` None, a Hugging Face ``datasets.Dataset`` (or any table
            with ``tokens`` and ``ner_tags`` columns, :func:`~windowclf.text.inputs.dataset_columns`):
            its integer tags are named by its ``ClassLabel`` names, which the model remembers.
        tags : list of list of str, optional
            Same lengths as ``sentences``. Read with conlleval's chunk rules, so IOB1, IOB2, IOBES
            and bare IO tags (``PER``) all work; converted to ``settings.scheme`` for training (when
            no scheme was asked for: the scheme ``tags`` are written in, IOB1 and mixed tags as IOB2,
            :func:`~windowclf.tags.schemes.learned_scheme`). Tokens and tags are single fields
            of a column file: no space, TAB or control character. None: ``sentences`` is a dataset.
        dev : (sentences, tags), (sentences, tags, documents) or a dataset, optional
            Scored (conlleval entity F1) after every epoch; the best epoch's weights are kept and
            ``patience`` epochs without improvement stop training.
        documents : sequence, optional
            The document of each sentence (numbers or names), for document features such as
            ``doccase``, the document vote and the gazetteer's leave-own-document-out; None: the
            sentences mark no documents. Either way they are read as
            :meth:`documents_as_read` says: blocks of at most ``document_sentences`` sentences.
        embeddings : WordVectors, optional
            Pretrained vectors (``index_to_key``, ``key_to_index``, ``vectors``) to start L from.
        gazetteer : path, Gazetteer, mapping or iterable, optional
            The user's own lists of entity strings, one more feature table (``user_gazetteer``,
            added to ``features``) whose keys say which listed string of which type covers a
            word, as the training data's gazetteer does: a gazetteer file
            (:mod:`windowclf.formats.gazetteers`: ``TYPE<TAB>entity`` lines), a
            :class:`~windowclf.features.gazetteer.Gazetteer`, ``{type: [entity, ...]}`` or
            ``[(entity, type), ...]``, each entity a string (split by the tokenizer) or a list
            of words. The model keeps it; a resumed fit uses the model's.
        callbacks : sequence of Callback
            ``on_batch_end(done, total)`` after every batch, ``on_epoch_end(result)`` after every
            epoch (returning True stops); a callback may define either or both.
        resume : bool
            Continue a loaded model's training from its last completed epoch: only the schedule
            may change (``resume.RESUMABLE``), the data must be the data it was trained on, and a
            model chosen on dev data needs ``dev`` (its best epoch and F1 carry over).
        allow_new_data : bool
            With ``resume``: continue on other training or dev data (the best epoch is then
            rescored on the new dev data).
        labels : sequence of str, optional
            The names of integer tags (tag ``i`` is ``labels[i]``: a dataset hub's label indices),
            for ``tags`` and ``dev``; remembered, so :meth:`evaluate` and :meth:`score` read
            integer tags with them too.
        tokenizer : {"conll", "whitespace", "social"}, optional
            The tokenizer the sentences were made with, where you know it: remembered
            (``training_input``), so :meth:`tag_text` and ``windowclf predict`` split raw text alike.
        verbose : int or bool
            0: quiet (the library logs to ``logging`` only); 1 (True): print one line per epoch (as
            ``windowclf train`` does) to standard output, and a progress bar within each epoch where
            the output can redraw it (a terminal, a notebook); 2: the progress bar everywhere.

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
        labels = check_strings("labels", labels, optional=True, what="the names of integer tags (a list of str)")
        if not isinstance(verbose, bool):
            check_int("verbose", verbose, low=0)
        if tags is None:  # a dataset: its own label names, which the model remembers
            sentences, tags, names = dataset_columns(sentences)
            labels = names if names is not None else labels
        sentences, tags = tagged_pairs(sentences, tags, labels=labels)
        check_fields(sentences, tags)
        documents = document_ids(documents, len(sentences))
        forget(self)  # what a tagging session kept of these weights
        resume, allow_new_data = check_bool("resume", resume), check_bool("allow_new_data", allow_new_data)
        callbacks = checked_callbacks(callbacks)
        embeddings = checked_embeddings(embeddings)
        if (
            dev is not None
            and not is_dataset(dev)
            and (isinstance(dev, (str, bytes, dict)) or not isinstance(dev, (tuple, list)) or not 2 <= len(dev) <= 3)
        ):
            raise TypeError(
                f"dev must be (sentences, tags), (sentences, tags, documents) or a dataset, got {kind_of(dev)}"
            )
        check_patience(self.settings.patience, dev is not None)
        if resume and gazetteer is not None:
            raise ConfigError("gazetteer: a resumed model keeps the gazetteer it was trained with")
        lists = None if resume else user_gazetteer(gazetteer)
        if lists is not None and USER_GAZETTEER not in self.settings.features:
            self.settings = dataclasses.replace(self.settings, features=[*self.settings.features, USER_GAZETTEER])
        elif lists is None and not resume and USER_GAZETTEER in self.settings.features:
            raise ConfigError("the user_gazetteer feature reads the user's lists: pass gazetteer= to fit")
        if tokenizer is not None:
            check_tokenizer(tokenizer)
        dev_data = dev_docs = None
        if dev is not None:
            dev = (dev, None) if is_dataset(dev) else dev
            dev_data = tagged_pairs(dev[0], dev[1], what="dev sentences", labels=labels)
            dev_docs = document_ids(dev[2] if len(dev) > 2 else None, len(dev_data[0]), "dev documents")
        if not resume:
            detected = detect_scheme(tags)
            if self._params.get("scheme") is None:  # none asked for: the training data's own
                self.settings = dataclasses.replace(self.settings, scheme=learned_scheme(detected))
            self.training_input = {**self.training_input, "scheme": detected}
            if labels is not None:
                self.training_input["labels"] = labels
            if tokenizer is not None:
                self.training_input["tokenizer"] = tokenizer
        s, read = self.settings, self.reads_documents  # then the documents are part of the data
        # the gazetteer leaves each training document's own entities out: its documents are data too
        prints: dict = {
            "train": fingerprint(sentences, tags, documents if read or GAZETTEER in s.features else None),
            "dev": dev_data and fingerprint(dev_data[0], dev_data[1], dev_docs if read else None),
        }
        if resume:
            state = check_resume(
                self.training_state,
                s,
                self.best,
                self.data_fingerprints,
                prints["train"],
                prints["dev"],
                allow_new_data,
            )
            if dev_data is not None and prints["dev"] != self.data_fingerprints.get("dev"):
                rescored = Scorer(self, *dev_data, documents=dev_docs).score(calibration=False)  # as dev scores
                self.best["f1"] = rescored["overall"]["f1"]  # on these data
        else:
            self._start(sentences, tags, embeddings, lists)
            self._unfitted_by = None
        embeddings = None  # copied into L: where the caller keeps no reference, its memory goes now
        self.data_fingerprints = prints
        self.provenance.update(_versions_and_time("updated" if resume else "created"))
        inputs = self.encode(sentences, documents, own_tags=s.entity_tags(tags))
        y = self._labels(tags)
        lengths = np.array([len(t) for t in sentences], dtype=np.int64)
        rng = np.random.default_rng(s.seed)
        start_epoch, bad_epochs = 0, 0
        self._best_params = None
        self._snapshot_rows = self._trainable_rows(inputs)
        if self.initial_patch is not None:  # the pretrained values of every row this fit may change
            L = self._net.params["L"]
            self.initial_patch = self.initial_patch.extended(L, self._snapshot_rows.get("L", np.arange(len(L))))
        if resume:
            st = state
            self._best_params = self._copy_params()  # a loaded model holds its best epoch's weights
            self._restore(st.params)
            self._opt.load_state(st.optimizer)
            rng.bit_generator.state = st.rng
            start_epoch, bad_epochs = st.epoch, st.bad_epochs
            st.params = self._copy_params()  # a snapshot of the rows this fit may change
        # what to fall back to if the very first epoch diverges or is interrupted
        self._last_good = self.training_state.params if self.training_state else self._copy_params()
        options = Options(
            l2=s.l2,
            l2_tables={"L": s.l2_embeddings} if s.l2_embeddings else None,
            anchors={"L": self.initial_patch} if self.initial_patch is not None else None,
            # masks come from the shuffling generator, whose state resume restores
            dropout=(
                Dropout(s.dropout_input, s.dropout_hidden, rng) if (s.dropout_input or s.dropout_hidden) else None
            ),
        )
        objective = (
            SentenceObjective(self.network, inputs, y, lengths, options)
            if s.decoder == "sll"
            else WindowObjective(self.network, inputs, y, options)
        )
        callbacks = list(callbacks)
        if verbose:
            printer = ProgressPrinter(self, progress=None if verbose is True or verbose == 1 else True)
            printer.data(sentences, tags, "training data")
            if dev_data is not None:
                printer.data(dev_data[0], dev_data[1], "dev data")
            callbacks.append(printer)
        try:
            try:
                with one_blas_thread():
                    dev_scorer = None if dev_data is None else Scorer(self, *dev_data, documents=dev_docs)
                    self._epochs(objective, options, rng, dev_scorer, start_epoch, bad_epochs, callbacks)
            except (KeyboardInterrupt, DivergenceError):
                self._restore(self._best_params if self._best_params is not None else self._last_good)
                raise
            self._restore(self._best_params)
        finally:
            self._best_params = None  # from here on the network holds the weights save() writes
        return self

    def _start(self, sentences, tags, embeddings, lists=None) -> None:
        """A new model from its training data (:func:`windowclf.training.setup.new_model`)."""
        parts = setup.new_model(self.settings, sentences, tags, embeddings, lists)
        self.user_gazetteer = lists
        self.vocab, self.feature_vocabs, self.char_vocab = parts.vocab, parts.feature_vocabs, parts.char_vocab
        self.gazetteer, self.tags, self.network = parts.gazetteer, parts.tags, parts.network
        self.initial_patch = parts.initial
        self.optimizer = setup.build_optimizer(self.settings)
        self.history = []
        self.best = {"epoch": None, "f1": None}
        self.training_state = None

    def _epochs(self, objective, options, rng, dev, start_epoch, bad_epochs, callbacks):
        """The epochs of :meth:`fit`: learning-rate schedule, dev scoring, the best epoch, patience."""
        s = self.settings
        callbacks = CallbackList(callbacks)
        self.stopped_early = None
        for epoch in range(start_epoch, s.epochs):
            lr_scale = learning_rate_scale(epoch, s.lr_decay, s.lr_schedule, s.epochs)
            self._opt.lr = s.lr * lr_scale
            if s.lr_embeddings is not None:
                self._opt.lr_overrides["L"] = s.lr_embeddings * lr_scale
            train_tables = set(self._net.table_names)
            if s.freeze_embeddings or epoch < s.freeze_epochs:
                train_tables.discard("L")
            options.train_tables = train_tables
            t0 = time.perf_counter()
            loss = run_epoch(objective, self.optimizer, objective.draw_order(rng, s.batch_size), callback=callbacks)
            seconds = time.perf_counter() - t0
            check_finite(self._net.params)
            n_words = len(objective.y)
            result = EpochResult(epoch + 1, loss, seconds, n_words / max(seconds, 1e-9), lr=self._opt.lr)
            improved = True
            if dev is not None:  # prepared once (evaluation.Scorer), scored every epoch
                t0 = time.perf_counter()
                result.dev = dev.score(calibration=False)["overall"]
                result.extra["dev_seconds"] = time.perf_counter() - t0
                improved = self.best["f1"] is None or result.dev["f1"] > self.best["f1"]
            bad_epochs = 0 if improved else bad_epochs + 1
            self.training_state = TrainingState(
                epoch + 1,
                self._copy_params(),
                {k: v.copy() for k, v in self._opt.state_arrays().items()},
                rng.bit_generator.state,
                bad_epochs,
                Settings.from_dict(s.to_dict()),
            )
            self._last_good = self.training_state.params
            if improved:
                self.best = {"epoch": epoch + 1, "f1": None if result.dev is None else result.dev["f1"]}
                self._best_params = self.training_state.params
            self.history.append(result.to_dict())
            log.info(
                "epoch %d: loss %.4f%s",
                epoch + 1,
                loss,
                "" if result.dev is None else f", dev F1 {result.dev['f1']:.2f}",
            )
            stop = callbacks.on_epoch_end(result)
            if s.patience is not None and bad_epochs >= s.patience:
                self.stopped_early = f"no better dev F1 for {bad_epochs} epochs (patience {s.patience})"
                log.info("stopped early after epoch %d: %s", epoch + 1, self.stopped_early)
                break
            if stop:
                break

    def _trainable_rows(self, inputs) -> dict:
        """The rows of each lookup table that training on ``inputs`` may change (the ids its windows
        hold), when the optimizer changes nothing else (not momentum, whose velocity moves every row)."""
        if not self._opt.batch_rows_only:
            return {}
        return {name: np.unique(ids) for name, ids in zip(self._net.table_names, inputs)}

    def _copy_params(self) -> Snapshot:
        """A snapshot of the weights: of the lookup tables, the rows this fit may change."""
        return Snapshot(self._net.params, self._snapshot_rows)

    def _restore(self, snapshot):
        if snapshot is not None:
            snapshot.restore(self._net.params)

    def weights(self) -> dict:
        """The weights the model file holds: the best epoch's (while fit runs), else the live ones."""
        if self._best_params is None:
            return self._net.params
        return self._best_params.full(self._net.params)

    @property
    def _net(self) -> WindowNetwork:
        """The network, once there is one (ConfigError before)."""
        if self.network is None:
            raise ConfigError("this tagger is not trained yet; call fit() or WindowTagger.load()")
        return self.network

    @property
    def _opt(self) -> Optimizer:
        if self.optimizer is None:
            raise ConfigError("this tagger is not trained yet; call fit() or WindowTagger.load()")
        return self.optimizer

    @property
    def pretrained(self) -> bool:
        """Whether L started from pretrained vectors."""
        return self.initial_patch is not None

    @property
    def initial_vectors(self):
        """L before fine-tuning (a new array), when it came from pretrained vectors; else None."""
        if self.initial_patch is None:
            return None
        return self.initial_patch.applied(self._net.params["L"])

    # ---------------------------------------------------------------------- save/load
    def save(self, path, *, include_state: bool = True, slim: bool = False) -> None:
        """Write the model to ``path`` (.npz) atomically; ``include_state`` keeps what resume needs,
        and ``slim`` writes a prediction-only file (no training state, no pretrained L).

        While :meth:`fit` runs (a callback saving after an epoch) the file holds the best epoch's
        weights so far, with the training state of the epoch just finished.
        """
        self.check_fitted()
        path = check_path("path", path)
        include_state, slim = check_bool("include_state", include_state), check_bool("slim", slim)
        model_files.save_tagger(
            self, self.weights(), path, include_state=include_state and not slim, include_initial=not slim
        )

    def to_bytes(self, *, include_state: bool = True, slim: bool = False) -> bytes:
        """The bytes :meth:`save` writes (with the same options): what :meth:`load` and
        :func:`~windowclf.models.ensemble.load_any` read back from bytes as from a file."""
        self.check_fitted()
        data = model_files.save_tagger(
            self, self.weights(), None, include_state=include_state and not slim, include_initial=not slim
        )
        assert data is not None  # save_tagger returns the bytes when given no path
        return data

    @classmethod
    def load(cls, path, *, training_state: bool = True) -> WindowTagger:
        """Read a model saved by :meth:`save` (its path or its bytes), checking its version and every
        array's shape; ``training_state=False`` reads only what tagging needs (not what resume,
        ``l2_embeddings`` or the changed-rows export need), in less time and memory."""
        training_state = check_bool("training_state", training_state)
        return model_files.load_tagger(cls, path, training_state=training_state)

    def __reduce__(self):  # pickled as its model file's bytes, read back by load: never as arbitrary objects
        return model_files.reduce_tagger(self)

    def get_params(self, deep: bool = True) -> dict:
        """The settings as keyword arguments, as the constructor (or :meth:`set_params`) was given
        them: scikit-learn's estimator protocol (the same objects every call, so ``clone`` works)."""
        return dict(self._params)

    def set_params(self, **params) -> WindowTagger:
        """Change settings (validated). On a trained tagger, a setting its weights, vocabularies or
        tags depend on (all but the training schedule, ``seed`` and ``doc_vote``) unfits it, as
        scikit-learn's estimators are: predicting or saving then asks for :meth:`fit` first."""
        unknown_settings(params, "set_params")
        changed = {k: v for k, v in params.items() if v is not self._params.get(k)}
        settings = Settings.from_dict({**self.settings.to_dict(), **params})  # ConfigError: nothing changes
        shaping = sorted(
            k
            for k in changed
            if k not in _KEEP_FITTED and getattr(settings, k) != getattr(self.settings, k) and self.network is not None
        )
        self._params.update(params)
        self.settings = settings
        if shaping:
            shown = ", ".join(f"{k}={params[k]!r}" for k in shaping)
            self._unfitted_by = f"set_params({shown}) changed what its weights depend on"
            self.network = self.optimizer = self.vocab = None
            self.training_state = None
        return self

    def score(self, sentences, tags=None, *, labels=None, documents=None) -> float:
        """Entity F1 (conlleval's) of the predictions for ``sentences`` against ``tags``, as a
        fraction in [0, 1]: scikit-learn's ``score``, what ``cross_val_score`` and ``GridSearchCV``
        maximize (``evaluate`` gives it in percent, with precision, recall and the rest; ``tags``
        None: ``sentences`` is a dataset, as in :meth:`fit`)."""
        return float(self.evaluate(sentences, tags, labels=labels, documents=documents)["overall"]["f1"]) / 100

    def __repr__(self) -> str:
        defaults = Settings().to_dict()
        ours = Settings.from_dict(dict(self._params)).to_dict()
        shown = [f"{k}={self._params[k]!r}" for k in _DEFAULTS if ours[k] != defaults[k]]
        return f"WindowTagger({', '.join(shown)})"

    def __sklearn_is_fitted__(self) -> bool:
        return self.network is not None

    def __sklearn_tags__(self):
        from sklearn.utils import InputTags, Tags, TargetTags  # type: ignore[import-untyped]

        # sentences and tags are lists of token lists, which scikit-learn's array checks cannot
        # read: the tagger checks its inputs itself (no_validation)
        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=True),
            input_tags=InputTags(two_d_array=False, string=True),
            no_validation=True,
        )

    def check_fitted(self) -> None:
        """Raise ConfigError unless the tagger is trained (fitted or loaded)."""
        if self.network is None and self._unfitted_by is not None:
            raise ConfigError(f"this tagger is not trained: {self._unfitted_by}; call fit() again")
        self._net  # noqa: B018 - raises when there is no network

    def fitted(self) -> WindowTagger:
        """The tagger itself, once :meth:`check_fitted` passes."""
        self.check_fitted()
        return self


_DEFAULTS = Settings().to_dict()

# help(WindowTagger) and editors show every setting as a keyword of the constructor
WindowTagger.__init__.__signature__ = Settings.signature(leading=("self", "settings"))  # type: ignore[attr-defined]


def user_gazetteer(value) -> Gazetteer | None:
    """The user's gazetteer of ``value`` (see :meth:`WindowTagger.fit`'s ``gazetteer``), or None.

    >>> g = user_gazetteer({"LOC": ["New York", "Oslo"], "PER": [["Anna", "Keller"]]})
    >>> sorted(g.counts), g.types
    ([('Anna', 'Keller'), ('New', 'York'), ('Oslo',)], ['LOC', 'PER'])
    """
    if value is None or isinstance(value, Gazetteer):
        return value
    if isinstance(value, (str, bytes, os.PathLike)):
        found = read_gazetteer(value, max_words=MAX_WORDS)
        if found.too_long:
            log.info("%s: %d entity strings of more than %d words left out", value, found.too_long, MAX_WORDS)
        return Gazetteer.from_entries(found.entries)
    if isinstance(value, Mapping):
        pairs = [(entity, etype) for etype, entities in value.items() for entity in _entities(entities, etype)]
    else:
        try:
            pairs = list(value)
        except TypeError:
            raise TypeError(
                f"gazetteer: got a {type(value).__name__}; pass a file's path, a Gazetteer, "
                "{type: [entity, ...]} or [(entity, type), ...]"
            ) from None
    entries = []
    for entity, etype in pairs:
        words = [t.text for t in tokenize(entity)] if isinstance(entity, str) else entity
        entries.append((words, etype))
    try:
        return Gazetteer.from_entries(entries)
    except ValueError as err:
        raise ConfigError(f"gazetteer: {err}") from None


def _entities(entities, etype) -> list:
    if isinstance(entities, (str, bytes)):
        raise TypeError(f"gazetteer[{etype!r}]: got a {type(entities).__name__}; pass a list of entity strings")
    return list(entities)


def _versions_and_time(key: str) -> dict:
    """The versions a model is made with, and the time (SOURCE_DATE_EPOCH when set, so that the
    same run gives the same file: the reproducible-builds convention)."""
    import platform
    from datetime import datetime, timezone

    from windowclf import __version__

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch.isdigit() else datetime.now(timezone.utc)
    return {
        "windowclf": __version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        key: when.replace(microsecond=0).isoformat(),
    }
