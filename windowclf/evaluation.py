"""A tagger scored against gold tags: conlleval's counts in the gold file's terms, and calibration."""

from __future__ import annotations

from .decoding import expected_calibration_error
from .metrics import count_chunks, to_json
from .schemes import convert, detect_scheme, get_entities, one_vs_rest

__all__ = ["score"]


def score(tagger, sentences, tags, *, scheme=None, constrain=True) -> dict:
    """What :meth:`WindowTagger.evaluate <windowclf.tagger.WindowTagger.evaluate>` returns.

    ``sentences`` and ``tags`` are checked lists. Predictions are written in the gold tags' scheme
    (``scheme``, else the one :func:`detect_scheme` finds; as predicted when none fits), so token
    accuracy compares like with like; a one-vs-rest model's gold and predictions both go through
    :func:`one_vs_rest`, the definition its training labels come from.
    """
    sentences, predicted, found = tagger._decoded(sentences, constrain, entities=True)
    if tagger.settings.output == "sigmoid":
        positive = tagger.settings.positive_tag
        gold, predicted = ([one_vs_rest(t, positive) for t in seqs] for seqs in (tags, predicted))
    else:
        gold, gold_scheme = tags, scheme or detect_scheme(tags)
        if gold_scheme is not None and gold_scheme != tagger.settings.scheme:
            predicted = [convert(p, gold_scheme) for p in predicted]
    counts = count_chunks(gold, predicted)
    scores = to_json(counts)
    overall = {k: scores[k] for k in ("precision", "recall", "f1", "accuracy")}
    confidences, correct = [], []
    for ents, gold_tags in zip(found, gold):
        truth = set(get_entities(gold_tags))
        for entity_type, start, end, confidence in ents:
            confidences.append(confidence)
            correct.append((entity_type, start, end) in truth)
    return {"overall": overall, "per_type": scores["per_type"], "counts": counts,
            "calibration": expected_calibration_error(confidences, correct),
            "gold": gold, "predicted": predicted}
