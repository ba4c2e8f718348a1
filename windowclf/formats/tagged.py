"""Tagged files of any format the project reads, as one corpus: CoNLL columns or JSON lines.

The one reader of tagged data that the command line and the library share: :func:`read_tagged`
picks the format from the file (a ``.jsonl`` / ``.json`` name, or JSON objects on its first
line), reads it, and checks every tag (of ``scheme``, or of any scheme).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from windowclf.errors import InputError
from windowclf.formats.conll import read_conll, repairs_line
from windowclf.formats.jsonl import looks_like_jsonl, read_jsonl
from windowclf.tags.schemes import validate_tags

__all__ = ["TaggedCorpus", "read_tagged"]


@dataclass
class TaggedCorpus:
    """The sentences of a tagged file.

    Attributes
    ----------
    sentences : list of list of str
        n_sentences token lists.
    tags : list of list of str
        One tag per token.
    documents : list of int or None
        Each sentence's document (a CoNLL file's ``-DOCSTART-`` lines separate them); None where
        the file marks none (JSON lines, a CoNLL file without ``-DOCSTART-`` lines): a model
        reads such data as :func:`~windowclf.features.documents.document_blocks` says.
    warnings : list of str
        What was read but left out or read by a rule, one line each (JSON lines spans off token
        boundaries; column files' lines read by the column rule of :mod:`windowclf.formats.conll`).
    """

    sentences: list
    tags: list
    documents: list | None
    warnings: list = field(default_factory=list)

    def __iter__(self):  # sentences, tags, documents = read_tagged(...)
        return iter((self.sentences, self.tags, self.documents))


def read_tagged(
    path,
    *,
    scheme: str | None = None,
    word_column: int = 0,
    tag_column: int = -1,
    encoding: str = "utf-8",
    separator: str | None = None,
    labels=None,
) -> TaggedCorpus:
    """Every sentence of a tagged file, tags checked.

    Parameters
    ----------
    path : str or path-like
        A CoNLL column file, or JSON lines (``.jsonl`` / ``.json``: tokens with ``ner_tags``, or
        text with entity spans; see :mod:`windowclf.formats.jsonl`).
    scheme : str, optional
        The tag scheme every sentence must be written in (None: any scheme).
    word_column, tag_column, encoding, separator
        How to read a column file (:func:`~windowclf.formats.conll.read_conll`); ``encoding``
        reads JSON lines too.
    labels : sequence of str, optional
        The names of integer ``ner_tags`` in JSON lines, in index order.

    Returns
    -------
    TaggedCorpus

    Raises
    ------
    InputError
        Naming the file and line of the first thing that is not as expected.
    """
    if looks_like_jsonl(path):
        tokens, tags, report = read_jsonl(path, labels=labels, encoding=encoding)
        for sentence_tags in tags:
            validate_tags(sentence_tags, scheme, path)
        warnings = []
        if report.unaligned:
            shown = "; ".join(f"line {n}: [{a}, {b}, {label!r}]" for n, a, b, label in report.unaligned_examples)
            warnings.append(
                f"{path}: {report.unaligned} of {report.unaligned + report.entities} entities do "
                f"not fall on token boundaries and were left out ({shown})"
            )
        return TaggedCorpus(tokens, tags, None, warnings)
    documents: list = []
    corpus = TaggedCorpus([], [], documents)
    repairs: Counter = Counter()
    for s in read_conll(
        path,
        require_sentences=True,
        word_column=word_column,
        tag_column=tag_column,
        encoding=encoding,
        separator=separator,
        repairs=repairs,
    ):
        if s.tags is None:
            raise InputError("only one column; expected words and tags", path, s.lines[0])
        validate_tags(s.tags, scheme, path, s.lines)
        corpus.sentences.append(s.tokens)
        corpus.tags.append(s.tags)
        documents.append(s.document)
    if not any(documents):  # no -DOCSTART- line: no document structure
        corpus.documents = None
    if repairs:
        corpus.warnings.append(repairs_line(repairs, path))
    return corpus
