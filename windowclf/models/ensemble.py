"""Ensembles: k trained models tagging as one, their outputs averaged, kept in one model file.

The members must predict the same thing (tags, scheme, output, decoder, document vote and, for
one-vs-rest models, the positive tag); their vocabularies, windows, features and sizes may differ,
since each encodes the sentences with its own vocabularies. What is averaged is what each kind of
model decodes, so that every :class:`~windowclf.inference.prediction.Tagging` method (predict, predict_proba,
predict_entities, evaluate, tag_text) runs unchanged on the averaged chain:

- SLL models: the mean of the emission scores z2 and of the transitions A, A0 (the chain whose
  log-potentials are the members' mean);
- softmax models: the mean of the probabilities p = softmax(z2), whose log is the ensemble's z2
  (so log_softmax of it is log mean p again);
- one-vs-rest (sigmoid) models: the mean of h = sigmoid(z2), whose logit is the ensemble's z2.

The document vote (``doc_vote``) reads the averaged chain, once, as it reads a single model's.

Averages are taken in float64, member by member in member order, from each member's own scores
(themselves independent of the thread count: scoring.chunked_scores), so the result is the same
whatever the threads. Probabilities are averaged in log space (log-sum-exp), so a probability too
small for float64 neither becomes log 0 nor loses the others; an ensemble of one model predicts
exactly what the model predicts.

The file: one ``.npz`` written by :func:`~windowclf.models.container.save_model_file`, member i's
prediction-only arrays under ``member{i}/param/...`` and metadata
``{"ensemble": {"members": [each member's metadata, as model_io writes a slim model's]}}``. It is
read as model files are: every member's metadata and array shapes checked before any array is read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from windowclf import __version__
from windowclf._util.arguments import check_bool, check_path, kind_of
from windowclf.config.settings import entity_tags
from windowclf.errors import ConfigError, ModelFileError
from windowclf.features.token_table import TokenTable
from windowclf.inference.decoding import Decoder
from windowclf.inference.prediction import Tagging
from windowclf.inference.scoring import TaggingState
from windowclf.models.container import MAX_ENTRIES, ModelFile, model_file_bytes, save_model_file
from windowclf.models.files import describe_open, file_contents, open_model_file, read_tagger
from windowclf.models.tagger import WindowTagger
from windowclf.nn.functions import log_softmax, softplus
from windowclf.text.inputs import token_lists

__all__ = ["Ensemble", "MemberWindows", "SharedSettings", "averaging", "describe_file", "disagreement", "load_any"]

_MEMBER = re.compile(r"member(0|[1-9][0-9]*)/")  # the prefix of member i's arrays, i written plainly


@dataclass(frozen=True)
class SharedSettings:
    """The settings every member of an ensemble shares (what decoding and scoring read), the
    document vote's weight among them (0: none)."""

    scheme: str
    output: str
    decoder: str
    positive_tag: str | None
    doc_vote: float = 0.0
    document_sentences: int | None = None  # the documents the vote reads (Settings.document_sentences)

    def to_dict(self) -> dict:
        return asdict(self)

    def entity_tags(self, tags_list) -> list:
        """Tags as the members read entities in them (:meth:`Settings.entity_tags
        <windowclf.config.settings.Settings.entity_tags>`)."""
        return entity_tags(self.output, self.positive_tag, tags_list)


class MemberWindows(tuple):
    """Each member's :meth:`~windowclf.models.tagger.WindowTagger.encode` of the same sentences, in member
    order: what :meth:`Ensemble.encode` returns and :meth:`Ensemble.scores` takes."""


def disagreement(first, other) -> str | None:
    """What ``other`` predicts differently from ``first`` (models or ensembles), or None.

    >>> from types import SimpleNamespace as Model
    >>> sll = SharedSettings("IOB2", "softmax", "sll", None)
    >>> disagreement(Model(tags=["O", "B-PER"], settings=sll), Model(tags=["O", "B-LOC"], settings=sll))
    'its tags (also B-LOC; not B-PER)'
    """
    for name in ("output", "decoder", "scheme", "doc_vote"):
        mine, theirs = getattr(first.settings, name), getattr(other.settings, name)
        if mine != theirs:
            return f"its {name} ({theirs}, not {mine})"
    # the vote reads the ensemble's documents: its members must read them alike (their features
    # read them each by its own rule, in its own encoding)
    mine, theirs = first.settings.document_sentences, other.settings.document_sentences
    if first.settings.doc_vote and mine != theirs:
        return f"its document_sentences ({theirs}, not {mine}), which the document vote reads"
    if first.settings.output == "sigmoid" and first.settings.positive_tag != other.settings.positive_tag:
        return f"its positive tag ({other.settings.positive_tag}, not {first.settings.positive_tag})"
    if list(first.tags) != list(other.tags):
        extra = [t for t in other.tags if t not in first.tags]
        missing = [t for t in first.tags if t not in other.tags]
        parts = (["also " + " ".join(extra)] if extra else []) + (["not " + " ".join(missing)] if missing else [])
        return f"its tags ({'; '.join(parts) or 'the same tags in another order'})"
    return None


def _models(k: int) -> str:
    return f"{k} model" if k == 1 else f"{k} models"


def averaging(settings) -> str:
    """What an ensemble of models with these (shared) settings averages, in words."""
    if settings.decoder == "sll":
        return "mean of the emission scores and transitions"
    return "mean of the probabilities"


class Ensemble(Tagging):
    """Trained models tagging as one, their outputs averaged (see the module's docstring).

    Parameters
    ----------
    members : sequence of WindowTagger or Ensemble
        At least one trained model; an ensemble given here contributes its members (each then
        weighs as one model). They must agree on tags, scheme, output, decoder, document vote and
        positive tag.

    Attributes
    ----------
    members : tuple of WindowTagger
    tags : list of str
        The members' tags.
    settings : SharedSettings
        The settings the members share.

    Examples
    --------
    >>> sents = [["Anna", "lives", "in", "Oslo", "."], ["Oslo", "is", "cold", "."]] * 20
    >>> tags = [["PER", "O", "O", "LOC", "O"], ["LOC", "O", "O", "O"]] * 20
    >>> models = [WindowTagger(epochs=30, seed=seed).fit(sents, tags) for seed in (0, 1)]
    >>> Ensemble(models).predict([["Anna", "is", "in", "Oslo", "."]])
    [['PER', 'O', 'O', 'LOC', 'O']]
    """

    def __init__(self, members):
        if isinstance(members, (Tagging, str, bytes, dict)) or not isinstance(members, Iterable):
            raise TypeError(f"members must be a list of models: Ensemble([model, ...]), got {kind_of(members)}")
        flat: list[WindowTagger] = []
        for i, model in enumerate(members):
            if isinstance(model, Ensemble):
                flat.extend(model.members)
            elif isinstance(model, WindowTagger):
                model.check_fitted()
                flat.append(model)
            else:
                raise TypeError(f"members[{i}] must be a WindowTagger or an Ensemble, got {kind_of(model)}")
        if not flat:
            raise ConfigError("members must hold at least one trained model")
        for i, model in enumerate(flat[1:], 2):
            differs = disagreement(flat[0], model)
            if differs is not None:
                raise ConfigError(
                    f"model {i} differs from model 1 in {differs}; an ensemble's models "
                    "must predict the same tags the same way"
                )
        first = flat[0]
        self.members: tuple[WindowTagger, ...] = tuple(flat)
        self.tags = list(first.tags)
        s = first.settings
        self.settings = SharedSettings(s.scheme, s.output, s.decoder, s.positive_tag, s.doc_vote, s.document_sentences)
        # how its models' training data were read, where they all agree (the tokenizer of raw
        # text, the encoding predict reads files in, ...)
        self.training_input = {
            k: v for k, v in first.training_input.items() if all(m.training_input.get(k) == v for m in flat[1:])
        }

    def __repr__(self) -> str:
        s = self.settings
        return f"<Ensemble of {_models(len(self.members))}: {len(self.tags)} tags, {s.scheme}, {s.output}, {s.decoder}>"

    def check_fitted(self):
        """An ensemble is made of trained models: always ready to tag."""

    @property
    def _probability_dtype(self) -> np.dtype:
        """The dtype of predict_proba's arrays: the widest of the members' (float64 if any is)."""
        return np.result_type(*(m.weights()["L"].dtype for m in self.members))

    # ------------------------------------------------------------------------ scores
    def encode(self, sentences, documents=None) -> MemberWindows:
        """Each member's window id matrices for ``sentences`` (one (n_windows, C_i) matrix per lookup
        table of member i), in member order; ``documents`` as :meth:`WindowTagger.encode` takes them."""
        sentences = token_lists(sentences)
        return MemberWindows(m.encode(sentences, documents) for m in self.members)

    @property
    def reads_documents(self) -> bool:
        """Whether the ensemble reads whole documents (its document vote, or a member's features)."""
        return self.settings.doc_vote > 0 or any(m.reads_documents for m in self.members)

    @property
    def document_size(self) -> int | None:
        """The most sentences a document as read holds, when the vote and every member that reads
        documents agree on it (else None: unbounded)."""
        sizes = {m.settings.document_sentences for m in self.members if m.reads_documents}
        if self.settings.doc_vote:
            sizes.add(self.settings.document_sentences)
        return sizes.pop() if len(sizes) == 1 else None

    def scores(self, sentences, windows=None, documents=None) -> np.ndarray:
        """The ensemble's z2 of every word of ``sentences``, back to back, float64 of shape
        (n_words, K) (K = 1 for one-vs-rest): the members' mean emission scores (SLL), log of
        their mean probabilities (softmax), or logit of their mean h (sigmoid).

        ``windows`` may hold :meth:`encode` of ``sentences`` (and ``documents``) already.
        """
        if windows is None:  # each member's tagging pass (Tagging.scores picks it)
            sentences = token_lists(sentences)
            scores = (m.scores(sentences, None, documents) for m in self.members)
        elif not isinstance(windows, MemberWindows) or len(windows) != len(self.members):
            raise TypeError("an Ensemble's windows are its encode(sentences): one encoding per member")
        else:
            scores = (m.scores(sentences, w) for m, w in zip(self.members, windows))
        if self.settings.decoder == "sll":
            return _mean(scores)
        if self.settings.output == "sigmoid":
            return _logit_of_mean_sigmoid(scores)
        return _log_of_mean_softmax(scores, len(self.members))

    def decoder(self, constrain: bool = True, *, general: bool = False) -> Decoder:
        """The :class:`~windowclf.inference.decoding.Decoder` of the averaged chain (scheme constraints on or off):
        for SLL members, with the mean of their transitions A (K, K) and A0 (K,), in float64 (taken
        here, from the members' current weights); ``general`` as :meth:`Tagging.decoder
        <windowclf.inference.prediction.Tagging.decoder>` takes it."""
        s = self.settings
        constrain = check_bool("constrain", constrain)
        transitions = None
        if s.decoder == "sll":
            transitions = tuple(_mean(m.weights()[name] for m in self.members) for name in ("A", "A0"))
        return Decoder(
            self.tags, s.scheme, output=s.output, constrain=constrain, transitions=transitions, rescaled=not general
        )

    def _tagging_state(self) -> TaggingState:
        """What a session keeps for the ensemble: a token table for the vote's forms (its members
        keep their own)."""
        return TaggingState(lambda: TokenTable([]))

    # ------------------------------------------------------------------------- files
    def save(self, path) -> None:
        """Write the ensemble to ``path`` (.npz) atomically, as one model file (module docstring)."""
        save_model_file(check_path("path", path), *self._contents())

    def to_bytes(self) -> bytes:
        """The bytes :meth:`save` writes."""
        return model_file_bytes(*self._contents())

    def _contents(self) -> tuple:
        arrays, members = {}, []
        for i, model in enumerate(self.members):
            member_arrays, meta = file_contents(model, model.weights(), include_state=False, include_initial=False)
            arrays.update({f"member{i}/{name}": value for name, value in member_arrays.items()})
            members.append(meta)
        if len(arrays) >= MAX_ENTRIES:  # the metadata is one more entry of the zip
            raise ConfigError(
                f"an ensemble of {_models(len(self.members))} would hold {len(arrays):,} arrays; "
                f"a model file holds fewer than {MAX_ENTRIES:,}"
            )
        return arrays, {"windowclf_version": __version__, "ensemble": {"members": members}}

    @classmethod
    def load(cls, path) -> Ensemble:
        """Read an ensemble file written by :meth:`save` (its path or its bytes), every member's
        array shapes checked against its metadata before any array is read; a single model's
        file gives an ensemble of that one model."""
        model = load_any(path, training_state=False)
        return model if isinstance(model, Ensemble) else cls([model])

    def __reduce__(self):  # pickled as its model file's bytes, read back by load: never as arbitrary objects
        return Ensemble.load, (self.to_bytes(),)


def _mean(arrays) -> np.ndarray:
    """The mean of ``arrays`` in float64, summed one after another in order (one new array)."""
    it = iter(arrays)
    total = np.array(next(it), dtype=np.float64)
    count = 1
    for arr in it:
        np.add(total, arr, out=total)
        count += 1
    total /= count
    return total


def _log_of_mean_softmax(scores, k: int) -> np.ndarray:
    """log((1/k) sum_i softmax(z_i)), shape (n, K): log-sum-exp of the members' log-probabilities."""
    it = iter(scores)
    total = log_softmax(np.asarray(next(it), dtype=np.float64))
    for z in it:
        np.logaddexp(total, log_softmax(np.asarray(z, dtype=np.float64)), out=total)
    total -= math.log(k)
    return total


def _logit_of_mean_sigmoid(scores) -> np.ndarray:
    """logit of the mean of h_i = sigmoid(z_i), shape (n, 1): log sum h_i - log sum (1 - h_i),
    each a log-sum-exp of log h_i = -softplus(-z_i) and log(1 - h_i) = -softplus(z_i), so that
    neither 0 nor 1 is ever reached (the 1/k of the mean cancels)."""
    it = iter(scores)
    z = np.asarray(next(it)[:, 0], dtype=np.float64)
    positive, negative = -softplus(-z), -softplus(z)  # log h, log(1 - h)
    for scores_i in it:
        z = np.asarray(scores_i[:, 0], dtype=np.float64)
        np.logaddexp(positive, -softplus(-z), out=positive)
        np.logaddexp(negative, -softplus(z), out=negative)
    return (positive - negative)[:, None]


# ------------------------------------------------------------------------------ reading
def load_any(path, *, training_state: bool = True):
    """The model in the file ``path`` (or a model file's bytes): a WindowTagger for a single
    model's file, an Ensemble for an ensemble file; either checked before any array is read, one
    ModelFileError naming the file if it is damaged.

    ``training_state`` as :meth:`WindowTagger.load` takes it (the same default: what ``fit(...,
    resume=True)`` needs is read; False reads only what tagging needs, in less time and memory).
    An ensemble's members hold no training state.
    """
    training_state = check_bool("training_state", training_state)
    with open_model_file(path) as (model_file, path):
        if "ensemble" not in model_file.metadata:
            return read_tagger(WindowTagger, model_file, path, training_state)
        views = _members(model_file, path)
        _described(views, path)  # every member's metadata and shapes, before any array is read
        models = []
        for i, view in enumerate(views):
            with _naming(i, path):
                models.append(read_tagger(WindowTagger, view, path, training_state=False))
    return Ensemble(models)


def describe_file(path) -> tuple:
    """(whether ``path`` holds an ensemble, [(model without a network, {array: shape}, holds
    pretrained vectors) per model]) from the metadata and array headers: no array is read."""
    with ModelFile(check_path("path", path)) as model_file:
        if "ensemble" not in model_file.metadata:
            return False, [describe_open(WindowTagger, model_file, path)]
        return True, _described(_members(model_file, path), path)


def _described(views, path) -> list:
    """model_io.describe_open of every member, and their agreement, checked: no array is read."""
    described = []
    for i, view in enumerate(views):
        with _naming(i, path):
            described.append(describe_open(WindowTagger, view, path))
    for i, (model, _, _) in enumerate(described[1:], 1):
        differs = disagreement(described[0][0], model)
        if differs is not None:
            raise ModelFileError(f"member {i} differs from member 0 in {differs}", path)
    return described


class _naming:
    """Context: a ModelFileError about member ``i`` of the file ``path`` says so."""

    def __init__(self, i: int, path):
        self.i, self.path = i, path

    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        if isinstance(err, ModelFileError):
            raise ModelFileError(f"member {self.i}: {err.message}", self.path) from None
        return False


def _members(model_file, path) -> list:
    """A view of each member of an open ensemble file; metadata and array names checked."""
    ensemble = model_file.metadata["ensemble"]
    members = ensemble.get("members") if isinstance(ensemble, dict) else None
    if not isinstance(members, list) or not members:
        raise ModelFileError("metadata field ensemble.members must be a non-empty JSON array", path)
    for i, meta in enumerate(members):
        if not isinstance(meta, dict):
            raise ModelFileError(f"metadata field ensemble.members[{i}] must be a JSON object", path)
    for name in model_file.headers:
        found = _MEMBER.match(name)
        if found is None or int(found.group(1)) >= len(members):
            raise ModelFileError(f"unexpected array in model file: {name}", path)
    return [_MemberFile(model_file, i, meta, path) for i, meta in enumerate(members)]


class _MemberFile:
    """Member ``i`` of an open ensemble file, seen as a model file of its own: its metadata and
    its arrays, named without the ``member{i}/`` prefix (what model_io's readers take)."""

    def __init__(self, model_file, i: int, metadata: dict, path):
        self.metadata, self.path, self._file, self._prefix = metadata, path, model_file, f"member{i}/"
        self.headers = {
            name[len(self._prefix) :]: header
            for name, header in model_file.headers.items()
            if name.startswith(self._prefix)
        }

    def check_entries(self, allowed: dict) -> None:
        """As :meth:`ModelFile.check_entries <windowclf.models.container.ModelFile.check_entries>`,
        over this member's arrays."""
        for name, (shape, _) in self.headers.items():
            if name not in allowed:
                raise ModelFileError(f"unexpected array {name}", self.path)
            if allowed[name] is not None and shape != tuple(allowed[name]):
                raise ModelFileError(f"array {name} has shape {shape}, expected {tuple(allowed[name])}", self.path)

    def read(self, name: str) -> np.ndarray:
        return self._file.read(self._prefix + name)
