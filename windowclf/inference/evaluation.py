"""A tagger scored against gold tags: conlleval's counts in the gold file's terms, and calibration."""

from __future__ import annotations

from windowclf.inference.decoding import expected_calibration_error
from windowclf.tags.conlleval import count_chunks, to_json
from windowclf.tags.entities import entity_spans
from windowclf.tags.schemes import convert, detect_scheme

__all__ = ["Scorer", "score"]


class Scorer:
    """One tagger scored on fixed gold data, as often as asked (the dev data after every epoch).

    ``sentences`` and ``tags`` are checked lists. What does not change between calls is prepared
    once: the gold tags as scored, their scheme and the sentences' windows (the tagger's
    vocabularies must stay as they are while the scorer is used, as they do while it trains).
    Predictions are written in the gold tags' scheme (``scheme``, else the one
    :func:`~windowclf.tags.schemes.detect_scheme` finds; as predicted when none fits), so token
    accuracy compares like with like; a one-vs-rest model's gold and predictions are both read as
    its training labels are (:meth:`Settings.entity_tags <windowclf.config.settings.Settings.entity_tags>`).
    ``general``: score with the general forward pass and log-space posteriors on windows prepared
    once (training's dev scoring, whose numbers pick the best epoch); False: as tagging scores
    (:meth:`Tagging.scores <windowclf.inference.prediction.Tagging.scores>`).
    """

    def __init__(self, tagger, sentences, tags, *, scheme=None, constrain=True, documents=None, general=True):
        self.tagger, self.sentences, self.constrain, self.general = tagger, sentences, constrain, general
        self.documents = documents
        self.one_vs_rest = tagger.settings.output == "sigmoid"
        self.gold = tagger.settings.entity_tags(tags)  # how the model reads entities in tags
        self.gold_scheme = None if self.one_vs_rest else scheme or detect_scheme(tags)
        self._windows = None

    def score(self, *, calibration: bool = True) -> dict:
        """What :meth:`WindowTagger.evaluate <windowclf.models.tagger.WindowTagger.evaluate>` returns
        (without ``calibration``: no entity confidences, and ``"calibration"`` None)."""
        tagger = self.tagger
        if self._windows is None and self.general:
            full = [i for i, s in enumerate(self.sentences) if s]
            self._windows = tagger.encode(
                [self.sentences[i] for i in full], None if self.documents is None else [self.documents[i] for i in full]
            )
        _, predicted, found = tagger.decode_sentences(
            self.sentences, self.constrain, entities=calibration, windows=self._windows, documents=self.documents
        )
        if self.one_vs_rest:
            predicted = tagger.settings.entity_tags(predicted)
        elif self.gold_scheme is not None and self.gold_scheme != tagger.settings.scheme:
            predicted = [convert(p, self.gold_scheme) for p in predicted]
        counts = count_chunks(self.gold, predicted)
        scores = to_json(counts)
        overall = {k: scores[k] for k in ("precision", "recall", "f1", "accuracy")}
        return {
            "overall": overall,
            "per_type": scores["per_type"],
            "counts": counts,
            "calibration": _calibration(found, self.gold) if calibration else None,
            "gold": self.gold,
            "predicted": predicted,
        }


def score(tagger, sentences, tags, *, scheme=None, constrain=True, documents=None) -> dict:
    """What :meth:`WindowTagger.evaluate <windowclf.models.tagger.WindowTagger.evaluate>` returns: one
    :class:`Scorer` call, scored as tagging scores."""
    scorer = Scorer(tagger, sentences, tags, scheme=scheme, constrain=constrain, documents=documents, general=False)
    return scorer.score()


def _calibration(found, gold) -> dict:
    """Expected calibration error of the predicted entities' confidences against the gold ones."""
    confidences, correct = [], []
    for ents, gold_tags in zip(found, gold):
        truth = set(entity_spans(gold_tags))
        for entity_type, start, end, confidence in ents:
            confidences.append(confidence)
            correct.append((entity_type, start, end) in truth)
    return expected_calibration_error(confidences, correct)
