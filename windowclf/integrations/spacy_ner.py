"""``windowclf_ner``: a windowclf model as a spaCy pipeline component (``pip install 'windowclf[spacy]'``).

spaCy finds the factory through the ``spacy_factories`` entry point that installing windowclf
registers, so any pipeline, blank or trained, takes it by name::

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")  # optional: without sentence boundaries a Doc is one sentence
    nlp.add_pipe("windowclf_ner", config={"model": "runs/ner.npz"})
    doc = nlp("Anna Keller flew from Oslo to Lyon.")
    [(e.text, e.label_, e._.windowclf_confidence) for e in doc.ents]

The component tags the Doc's own tokens (spaCy's tokenizer's, whitespace tokens left out), each of
its sentences where an earlier component set them, else the whole Doc as one sentence; each Doc is
one document for the features that read documents. The entities are the model's
(:meth:`~windowclf.inference.prediction.Tagging.predict_entities` on those tokens), set as
``doc.ents``, or as the span group ``doc.spans[spans_key]`` where ``spans_key`` is given (for a
pipeline whose entities come from elsewhere), each span's probability under the model in
``span._.windowclf_confidence``. ``nlp.to_disk`` writes the model file's bytes into the
component's folder (``model.npz``), which ``spacy.load`` reads back with the model file's own
loader (:func:`~windowclf.models.ensemble.load_any`: checked, never unpickled), so the pipeline
folder needs no other file.
"""

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.scorer import Scorer, get_ner_prf
from spacy.tokens import Doc, Span
from spacy.util import minibatch

from windowclf._util.atomic import atomic_writer
from windowclf.errors import ConfigError
from windowclf.models.ensemble import load_any
from windowclf.tags.entities import entity_spans

__all__ = ["CONFIDENCE", "FACTORY", "MODEL_FILE", "WindowclfNER", "make_windowclf_ner"]

FACTORY = "windowclf_ner"
"""The component's name in spaCy (``nlp.add_pipe(FACTORY, config=...)``)."""

CONFIDENCE = "windowclf_confidence"
"""The ``Span`` extension holding an entity's probability under the model (``span._.windowclf_confidence``)."""

MODEL_FILE = "model.npz"
"""The model file's name inside the component's folder of a saved pipeline."""

if not Span.has_extension(CONFIDENCE):
    Span.set_extension(CONFIDENCE, default=None)


@Language.factory(
    FACTORY,
    default_config={
        "model": None,
        "spans_key": None,
        "min_confidence": None,
        "confidences": True,
        "constrain": True,
        "batch_size": 256,
    },
    assigns=["doc.ents", "token.ent_iob", "token.ent_type", "doc.spans"],
)
def make_windowclf_ner(
    nlp: Language,
    name: str,
    model: str | None,
    spans_key: str | None,
    min_confidence: float | None,
    confidences: bool,
    constrain: bool,
    batch_size: int,
) -> "WindowclfNER":
    """spaCy's factory of :class:`WindowclfNER` (its config keys are the constructor's keywords)."""
    return WindowclfNER(
        nlp.vocab,
        name,
        model=model,
        spans_key=spans_key,
        min_confidence=min_confidence,
        confidences=confidences,
        constrain=constrain,
        batch_size=batch_size,
    )


class WindowclfNER:
    """A windowclf model (a tagger or an ensemble) tagging spaCy Docs.

    Parameters
    ----------
    vocab : spacy.vocab.Vocab
    name : str
        The component's name in its pipeline.
    model : str, optional
        A model file (``windowclf train``, ``windowclf ensemble``). Read now where it exists; a
        saved pipeline's own copy (``from_disk``, what ``spacy.load`` calls) replaces it, so a
        pipeline folder loads where the original file is gone.
    spans_key : str, optional
        Write the entities to ``doc.spans[spans_key]`` instead of ``doc.ents`` (which they replace).
    min_confidence : float, optional
        Leave out the entities whose probability under the model is below this.
    confidences : bool
        Compute each entity's probability (``span._.windowclf_confidence``); False leaves it None
        and tags in the time ``windowclf predict`` takes (the probabilities cost a forward-backward
        pass over each sentence with an entity).
    constrain : bool
        Decode under the model's scheme constraints (as ``predict``'s default).
    batch_size : int
        Docs tagged in one call of the model by :meth:`pipe`.
    """

    def __init__(
        self,
        vocab,
        name: str = FACTORY,
        *,
        model: str | None = None,
        spans_key: str | None = None,
        min_confidence: float | None = None,
        confidences: bool = True,
        constrain: bool = True,
        batch_size: int = 256,
    ):
        if min_confidence is not None and not 0 <= min_confidence <= 1:
            raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        if min_confidence is not None and not confidences:
            raise ConfigError("min_confidence needs the confidences: leave confidences true")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.vocab, self.name = vocab, name
        self.model_path = model
        self.spans_key, self.min_confidence, self.confidences = spans_key, min_confidence, confidences
        self.constrain, self.batch_size = constrain, batch_size
        self.model: Any = None
        if model is not None and os.path.exists(model):
            self.model = load_any(model, training_state=False)

    def tagger(self):
        """The model, or a ConfigError saying why there is none."""
        if self.model is None:
            if self.model_path is None:
                raise ConfigError(f'{self.name}: no model; add_pipe("{FACTORY}", config={{"model": "runs/ner.npz"}})')
            # the file named at construction was missing: read it now, or raise what is wrong with it
            self.model = load_any(self.model_path, training_state=False)
        return self.model

    def __call__(self, doc: Doc) -> Doc:
        """Tag one Doc (its entities set; see the module's docstring)."""
        return self.tag([doc])[0]

    def pipe(self, stream: Iterable[Doc], *, batch_size: int | None = None) -> Iterator[Doc]:
        """Tag a stream of Docs, ``batch_size`` (default: the component's) per call of the model."""
        for docs in minibatch(stream, size=batch_size or self.batch_size):
            yield from self.tag(docs)

    def tag(self, docs: list) -> list:
        """Set the entities of each of ``docs``, tagged together in one call of the model.

        Returns
        -------
        list of Doc
            ``docs``, changed in place.
        """
        model = self.tagger()
        sentences, where = [], []  # each sentence's tokens; its Doc and the Doc index of each token
        for d, doc in enumerate(docs):
            for part in doc.sents if doc.has_annotation("SENT_START") else (doc,):
                kept, words = [], []
                for token in part:
                    if not token.is_space:
                        kept.append(token.i)
                        words.append(token.text)
                if kept:
                    sentences.append(words)
                    where.append((d, kept))
        documents = [d for d, _ in where]
        if not sentences:
            found: list = []
        elif self.confidences:
            found = [
                [(e.label, e.token_start, e.token_end, e.confidence) for e in entities]
                for entities in model.predict_entities(sentences, constrain=self.constrain, documents=documents)
            ]
        else:  # the tags alone, read into entities as the decoder reads them (a one-vs-rest model's: O and its type)
            chunk = dict(zip(model.tags, model.decoder(self.constrain).chunk_tags))
            found = [
                [(label, start, end, None) for label, start, end in entity_spans([chunk[t] for t in tags])]
                for tags in model.predict(sentences, constrain=self.constrain, documents=documents)
            ]
        spans: list = [[] for _ in docs]
        for (d, kept), entities in zip(where, found):
            for label, start, end, confidence in entities:
                if self.min_confidence is not None and confidence < self.min_confidence:
                    continue
                span = Span(docs[d], kept[start], kept[end - 1] + 1, label=label)
                if confidence is not None:
                    span._.set(CONFIDENCE, confidence)
                spans[d].append(span)
        for doc, doc_spans in zip(docs, spans):
            if self.spans_key is None:
                doc.ents = doc_spans
            else:
                doc.spans[self.spans_key] = doc_spans
        return docs

    def score(self, examples: Iterable, **kwargs) -> dict:
        """spaCy's entity scores of ``examples`` (``nlp.evaluate`` and ``spacy evaluate`` call it):
        ``ents_p``, ``ents_r``, ``ents_f`` and ``ents_per_type``, as spaCy's own ``ner`` reports them
        (exact spans and labels: conlleval's entity counts); with ``spans_key``, those of the span
        group (``spans_KEY_p``, ...)."""
        if self.spans_key is None:
            return get_ner_prf(examples, **kwargs)
        key = self.spans_key
        return Scorer.score_spans(examples, f"spans_{key}", getter=lambda doc, _: doc.spans.get(key, []), **kwargs)

    # ------------------------------------------------------------------ serialization
    def to_disk(self, path, *, exclude=()) -> None:
        """Write the model file's bytes to ``path/model.npz`` (``nlp.to_disk`` calls it)."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_writer(folder / MODEL_FILE, "wb") as f:
            f.write(self.to_bytes())

    def from_disk(self, path, *, exclude=()) -> "WindowclfNER":
        """Read the model of a saved pipeline (``spacy.load`` calls it), checked as every model file is."""
        self.model = load_any(Path(path) / MODEL_FILE, training_state=False)
        return self

    def to_bytes(self, *, exclude=()) -> bytes:
        """The model file's bytes (``nlp.to_bytes``)."""
        return self.tagger().to_bytes()

    def from_bytes(self, data: bytes, *, exclude=()) -> "WindowclfNER":
        """Read the model from a model file's bytes (``nlp.from_bytes``)."""
        self.model = load_any(bytes(data), training_state=False)
        return self
