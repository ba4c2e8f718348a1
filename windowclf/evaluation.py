"""A tagger scored against gold tags: conlleval's counts in the gold file's terms, and calibration."""

from __future__ import annotations

from .decoding import expected_calibration_error
from .metrics import count_chunks, to_json
from .schemes import convert, detect_scheme, get_entities, one_vs_rest

__all__ = ["Scorer", "score"]


class Scorer:
    """One tagger scored on fixed gold data, as often as asked (the dev data after every epoch).

    ``sentences`` and ``tags`` are checked lists. What does not change between calls is prepared
    once: the gold tags as scored, their scheme and the sentences' windows (the tagger's
    vocabularies must stay as they are while the scorer is used, as they do while it trains).
    Predictions are written in the gold tags' scheme (``scheme``, else the one
    :func:`detect_scheme` finds; as predicted when none fits), so token accuracy compares like
    with like; a one-vs-rest model's gold and predictions both go through :func:`one_vs_rest`,
    the definition its training labels come from.
    """

    def __init__(self, tagger, sentences, tags, *, scheme=None, constrain=True, documents=None):
        self.tagger, self.sentences, self.constrain = tagger, sentences, constrain
        self.documents = documents
        self.positive = tagger.settings.positive_tag if tagger.settings.output == "sigmoid" else None
        if self.positive is not None:
            self.gold, self.gold_scheme = [one_vs_rest(t, self.positive) for t in tags], None
        else:
            self.gold, self.gold_scheme = tags, scheme or detect_scheme(tags)
        self._windows = None

    def score(self, *, calibration: bool = True) -> dict:
        """What :meth:`WindowTagger.evaluate <windowclf.tagger.WindowTagger.evaluate>` returns
        (without ``calibration``: no entity confidences, and ``"calibration"`` None)."""
        tagger = self.tagger
        if self._windows is None:
            full = [i for i, s in enumerate(self.sentences) if s]
            self._windows = tagger.encode([self.sentences[i] for i in full],
                                          None if self.documents is None else [self.documents[i] for i in full])
        _, predicted, found = tagger._decoded(self.sentences, self.constrain, entities=calibration,
                                              windows=self._windows, documents=self.documents)
        if self.positive is not None:
            predicted = [one_vs_rest(t, self.positive) for t in predicted]
        elif self.gold_scheme is not None and self.gold_scheme != tagger.settings.scheme:
            predicted = [convert(p, self.gold_scheme) for p in predicted]
        counts = count_chunks(self.gold, predicted)
        scores = to_json(counts)
        overall = {k: scores[k] for k in ("precision", "recall", "f1", "accuracy")}
        return {"overall": overall, "per_type": scores["per_type"], "counts": counts,
                "calibration": _calibration(found, self.gold) if calibration else None,
                "gold": self.gold, "predicted": predicted}


def score(tagger, sentences, tags, *, scheme=None, constrain=True, documents=None) -> dict:
    """What :meth:`WindowTagger.evaluate <windowclf.tagger.WindowTagger.evaluate>` returns: one
    :class:`Scorer` call."""
    return Scorer(tagger, sentences, tags, scheme=scheme, constrain=constrain, documents=documents).score()


def _calibration(found, gold) -> dict:
    """Expected calibration error of the predicted entities' confidences against the gold ones."""
    confidences, correct = [], []
    for ents, gold_tags in zip(found, gold):
        truth = set(get_entities(gold_tags))
        for entity_type, start, end, confidence in ents:
            confidences.append(confidence)
            correct.append((entity_type, start, end) in truth)
    return expected_calibration_error(confidences, correct)
