"""The one record of a predicted entity, as every surface of windowclf gives it.

:class:`Entity` is what :meth:`~windowclf.models.tagger.WindowTagger.tag_text`, ``predict_entities``,
``pipe`` and ``predict(confidences=True)`` return, what ``windowclf predict --format json`` and
``--format entities`` write (``Entity.to_dict()``, one JSON object), and what Dask's ``tag_bag(...,
entities=True)`` gives. ``docs/entities.md`` is its schema. Offsets are end-exclusive and named for
what they count, so no ``start`` means two things: ``token_start``/``token_end`` index the
sentence's tokens (always known), ``char_start``/``char_end`` the input's text (raw text, a JSON
lines record's ``text``; None where the input was tokens).

>>> tokens = ["Anna", "Keller", "flew", "to", "Oslo"]
>>> [entity] = sentence_entities(tokens, [("PER", 0, 2, 0.97)], sentence=0)
>>> entity.to_dict()  # doctest: +NORMALIZE_WHITESPACE
{'sentence': 0, 'label': 'PER', 'text': 'Anna Keller', 'token_start': 0, 'token_end': 2,
 'char_start': None, 'char_end': None, 'confidence': 0.97}
>>> text = "Anna Keller flew to Oslo."
>>> offsets = [(0, 4), (5, 11), (12, 16), (17, 19), (20, 24)]
>>> sentence_entities(tokens, [("LOC", 4, 5, 0.9)], sentence=0, offsets=offsets, text=text)[0].char_start
20
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ENTITY_FIELDS", "Entity", "sentence_entities"]


@dataclass(frozen=True)
class Entity:
    """One entity of one sentence.

    Attributes
    ----------
    label : str
        Its type (``PER``; a one-vs-rest model's class).
    text : str
        The entity as written: the input's text from ``char_start`` to ``char_end`` where the
        text is known, else its tokens joined by single spaces.
    sentence : int
        The index of its sentence (0-based) among the sentences of the call, text or file it came
        from (a JSON lines file: records in order, each record's sentences in order).
    token_start, token_end : int
        Its tokens in its sentence: ``tokens[token_start:token_end]`` (end exclusive).
    char_start, char_end : int or None
        Its characters in the input's text: ``text[char_start:char_end]`` (end exclusive; code
        points of the text as read); None where the input was already tokens.
    confidence : float or None
        Its probability under the model: the probability that exactly these tokens form one
        entity of this type (every tag path counted). Set on every prediction.
    file : str or None
        The file it came from, where it came from a file (the command line, Dask's ``tag_files``).
    """

    label: str
    text: str
    sentence: int
    token_start: int
    token_end: int
    char_start: int | None = None
    char_end: int | None = None
    confidence: float | None = None
    file: str | None = None

    def to_dict(self, *, digits: int | None = None) -> dict:
        """The JSON-ready record: ``file`` first where there is one, then the fields in the order of
        :data:`ENTITY_FIELDS`; ``digits`` rounds the confidence (the command line writes 6)."""
        out: dict = {} if self.file is None else {"file": self.file}
        confidence = self.confidence
        if confidence is not None:
            confidence = float(confidence) if digits is None else round(float(confidence), digits)
        out.update(
            sentence=self.sentence,
            label=self.label,
            text=self.text,
            token_start=self.token_start,
            token_end=self.token_end,
            char_start=self.char_start,
            char_end=self.char_end,
            confidence=confidence,
        )
        return out


ENTITY_FIELDS: tuple[str, ...] = (
    "file",
    "sentence",
    "label",
    "text",
    "token_start",
    "token_end",
    "char_start",
    "char_end",
    "confidence",
)
"""The keys of :meth:`Entity.to_dict`, in order (``file`` only where there is one)."""


def sentence_entities(
    tokens: Sequence[str],
    found,
    *,
    sentence: int,
    offsets=None,
    text: str | None = None,
    text_start: int = 0,
    file: str | None = None,
) -> list:
    """The :class:`Entity` records of one sentence.

    Parameters
    ----------
    tokens : sequence of str, length n_tokens
    found : iterable of (label, token_start, token_end, confidence)
        The sentence's entities, ``token_end`` exclusive (``confidence`` may be None).
    sentence : int
        The sentence's index.
    offsets : sequence of (int, int), length n_tokens, optional
        Each token's character offsets into the input's text; None: the input was tokens.
    text : str, optional
        The input's text from character ``text_start`` on (the whole text, or the sentence's own),
        from which each entity's text is cut; None: the tokens are joined instead.
    file : str, optional

    Returns
    -------
    list of Entity
    """
    out = []
    for label, start, end, confidence in found:
        char_start = char_end = None
        if offsets is not None:
            char_start, char_end = offsets[start][0], offsets[end - 1][1]
        if char_start is not None and char_end is not None and text is not None:
            written = text[char_start - text_start : char_end - text_start]
        else:
            written = " ".join(tokens[start:end])
        out.append(
            Entity(
                label,
                written,
                sentence,
                start,
                end,
                char_start,
                char_end,
                None if confidence is None else float(confidence),
                file,
            )
        )
    return out
