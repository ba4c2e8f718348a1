"""Tagged files of any format the project reads, as one corpus: CoNLL columns, JSON lines, or a
Hugging Face dataset folder.

The one reader of tagged data that the command line and the library share: :func:`read_tagged`
picks the format from the file (a ``.jsonl`` / ``.json`` name, or a JSON object on its first
line: :func:`~windowclf.formats.sniff.input_form`; a folder written by ``save_to_disk``:
:mod:`~windowclf.formats.hf_datasets`), reads it, and checks every tag (of ``scheme``, or of any
scheme). :func:`file_schemes` reads only a tagged file's tags, for the schemes they are
written in.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

from windowclf.errors import InputError
from windowclf.formats.conll import read_conll, repairs_line
from windowclf.formats.hf_datasets import read_dataset
from windowclf.formats.jsonl import iter_records, read_jsonl
from windowclf.formats.sniff import input_form
from windowclf.tags.schemes import SchemeDetector, validate_tags

__all__ = ["TaggedCorpus", "file_schemes", "read_tagged"]


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
    form : {"conll", "jsonl", "dataset"}
        The file's format (``dataset``: a folder written by ``save_to_disk``).
    scheme : str or None
        The scheme its tags are written in (:func:`~windowclf.tags.schemes.detect_scheme`).
    tokenizer : str or None
        The tokenizer that split its texts (JSON lines records of the spans form); None: none did.
    lines : list of int
        The line of the file each sentence starts on (errors about a sentence name it).
    labels : list of str or None
        The names its integer tags were read with (a dataset's ``ClassLabel`` names, or the
        ``labels`` given); None where its tags were names.
    """

    sentences: list
    tags: list
    documents: list | None
    warnings: list = field(default_factory=list)
    form: str = "conll"
    scheme: str | None = None
    tokenizer: str | None = None
    lines: list = field(default_factory=list)
    labels: list | None = None

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
    tokenizer: str = "conll",
) -> TaggedCorpus:
    """Every sentence of a tagged file, tags checked.

    Parameters
    ----------
    path : str or path-like
        A CoNLL column file, JSON lines (``.jsonl`` / ``.json``: tokens with ``ner_tags``, or
        text with entity spans; see :mod:`windowclf.formats.jsonl`), or a Hugging Face dataset
        folder (``save_to_disk``; its ``ClassLabel`` names name its tags).
    scheme : str, optional
        The tag scheme every sentence must be written in (None: any scheme).
    word_column, tag_column, encoding, separator
        How to read a column file (:func:`~windowclf.formats.conll.read_conll`); ``encoding``
        reads JSON lines too.
    labels : sequence of str, optional
        The names of integer ``ner_tags`` in JSON lines (and in a dataset whose tags have no
        ``ClassLabel`` names), in index order.
    tokenizer : {"conll", "whitespace", "social"}
        How JSON lines records of the spans form (``text`` and ``entities``) are tokenized.

    Returns
    -------
    TaggedCorpus

    Raises
    ------
    InputError
        Naming the file and line of the first thing that is not as expected.
    """
    if os.path.isdir(path):
        sentences, tags, names = read_dataset(path, labels=labels)
        detector = SchemeDetector()
        for row, sentence_tags in enumerate(tags):
            try:
                validate_tags(sentence_tags, scheme)
            except InputError as err:
                raise InputError(f"row {row}: {err.message}", path) from None
            detector.add(sentence_tags)
        return TaggedCorpus(sentences, tags, None, [], "dataset", detector.scheme, None, labels=names)
    if input_form(path, encoding=encoding) == "jsonl":
        tokens, tags, report = read_jsonl(path, labels=labels, encoding=encoding, tokenizer=tokenizer)
        detector = SchemeDetector()
        for sentence_tags, line in zip(tags, report.lines):
            validate_tags(sentence_tags, scheme, path, [line] * len(sentence_tags))
            detector.add(sentence_tags)
        warnings = []
        if report.unaligned:
            shown = "; ".join(f"line {n}: [{a}, {b}, {label!r}]" for n, a, b, label in report.unaligned_examples)
            warnings.append(
                f"{path}: {report.unaligned} of {report.unaligned + report.entities} entities do "
                f"not fall on token boundaries and were left out ({shown})"
            )
        split_by = tokenizer if report.texts else None
        return TaggedCorpus(
            tokens, tags, None, warnings, "jsonl", detector.scheme, split_by, lines=report.lines, labels=labels
        )
    documents: list = []
    corpus = TaggedCorpus([], [], documents)
    repairs: Counter = Counter()
    detector = SchemeDetector()
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
        detector.add(s.tags)
        corpus.sentences.append(s.tokens)
        corpus.tags.append(s.tags)
        documents.append(s.document)
        corpus.lines.append(s.lines[0])
    if not any(documents):  # no -DOCSTART- line: no document structure
        corpus.documents = None
    if repairs:
        corpus.warnings.append(repairs_line(repairs, path))
    corpus.scheme = detector.scheme
    return corpus


def file_schemes(
    path,
    form: str,
    *,
    word_column: int = 0,
    tag_column: int = -1,
    encoding: str = "utf-8",
    separator: str | None = None,
    labels=None,
) -> list:
    """How well each scheme fits the tags of a file (:meth:`SchemeDetector.ranking
    <windowclf.tags.schemes.SchemeDetector.ranking>`), reading only what that needs: a CoNLL
    file's tag column, a JSON lines file's token-form tags; [] for a file without tags (one
    column, or JSON lines of texts and spans, whose tags are the reader's own IOB2).

    Raises InputError as reading the file to tag it would, naming the file and line.
    """
    detector = SchemeDetector()
    if form == "jsonl":
        with open(path, "rb") as f:
            for record in iter_records(f, path, labels=labels, encoding=encoding, tokenizer="whitespace"):
                if record.form != "tokens" or record.sentences[0][1] is None:
                    return []
                detector.add(record.sentences[0][1])
        return detector.ranking()
    for s in read_conll(path, word_column=word_column, tag_column=tag_column, encoding=encoding, separator=separator):
        if s.tags is None:
            return []
        detector.add(s.tags)
    return detector.ranking()
