"""Tagged sentences written out: tagged a chunk at a time (chunks that end where a document as the
model reads it ends) and written in the output format (:func:`write_tagged`), their tags in the
scheme of the input's own tags where the output follows it (:func:`with_scheme`,
:func:`file_ranking`). ``options`` is a :class:`~windowclf.batch.shards.TagOptions`."""

from __future__ import annotations

from dataclasses import replace
from itertools import islice

from windowclf.errors import ConfigError, InputError
from windowclf.formats.tagged import file_schemes
from windowclf.formats.writers import CONFIDENCE_FORMATS, INPUT_FORM_FORMATS, WRITERS
from windowclf.tags.schemes import output_scheme
from windowclf.text.inputs import bounded_documents

__all__ = ["file_ranking", "follows_input_scheme", "with_scheme", "write_tagged"]

# The formats that write tags, which follow the scheme of a tagged input's own tags.
_TAG_FORMATS = frozenset({"conll", "json", "tokens-json", "jsonl"})


def write_tagged(tagger, sentences, out, options, *, first_sentence: int = 0) -> tuple:
    """Tag ``sentences`` (Tagged, tokens filled in) ``options.chunk_size`` at a time and write them
    to the text stream ``out`` (``options``: a :class:`~windowclf.batch.shards.TagOptions`, resolved: no
    ``auto`` format left); returns (tokens,
    sentences) written. Sentences are numbered from ``first_sentence`` (their ``sentence`` in entity
    records); a JSON lines record without tokens is written back but is no sentence.

    A model whose features read documents (``doccase``, the vote, the gazetteer) reads those of
    ``sentences`` (a segment: see tag_input): CoNLL input's ``-DOCSTART-`` documents, raw text's
    lines with ``sentence_mode="document-per-line"``, and otherwise none marked; a document of more
    than :data:`~windowclf.text.inputs.MAX_DOCUMENT_CHARS` characters of tokens in pieces of about
    that many (:func:`~windowclf.text.inputs.bounded_documents`). The model reads each as blocks of
    its ``document_sentences`` sentences, counted from the document's (or the segment's) start
    (:meth:`~windowclf.inference.prediction.Tagging.documents_as_read`), at least ``chunk_size``
    sentences at a time, each time up to the end of a block or a document, so that no more of the
    input is held than one list."""
    sigmoid = tagger.settings.output == "sigmoid"
    positive = tagger.settings.positive_tag if sigmoid else None
    write = WRITERS[options.output_format]
    json_out = options.output_format in CONFIDENCE_FORMATS
    writes_empty = options.output_format in INPUT_FORM_FORMATS
    extra = dict(options.predict)
    n_tokens, number = 0, first_sentence
    size = options.chunk_size
    chunks = _documents(sentences, size, tagger.document_size) if tagger.reads_documents else _chunks(sentences, size)
    for chunk, documents in chunks:
        token_lists = [s.tokens for s in chunk]
        predicted = tagger.predict(
            token_lists, scheme=options.scheme, confidences=json_out, documents=documents, **extra
        )
        probabilities = (
            tagger.predict_proba(token_lists, documents=documents)
            if sigmoid and options.output_format == "json"
            else None
        )
        for i, (s, tags) in enumerate(zip(chunk, predicted)):
            if json_out:
                tags, found = tags
                s.found = [(e.label, e.token_start, e.token_end, e.confidence) for e in found]
            s.tags, s.positive = tags, positive
            if not s.tokens and not writes_empty:
                continue
            if s.tokens:
                s.sentence, number = number, number + 1
            if probabilities is not None:
                s.probabilities = probabilities[i][:, 1].tolist()
            write(out, s)
            n_tokens += len(tags)
    return n_tokens, number - first_sentence


def _chunks(sentences, size: int):
    """Lists of ``size`` sentences (the last shorter), with their documents."""
    while chunk := list(islice(sentences, size)):
        yield chunk, [s.document for s in chunk]


def _documents(sentences, size: int, block: int | None):
    """Lists of sentences that end where a document as the model reads it ends, each of at least
    ``size`` sentences unless the sentences end, and each sentence's document: ``document``
    (consecutive sentences) in pieces of at most MAX_DOCUMENT_CHARS characters
    (:func:`~windowclf.text.inputs.bounded_documents`), read in blocks of ``block`` sentences
    (None: whole). Each list starts a block, so the model reads the blocks it would read in one
    call over every sentence."""
    chunk: list = []
    documents: list = []
    pieces: dict = {}
    k = 0  # the sentence's place in its document
    for s in sentences:
        (document,) = bounded_documents([s.tokens], [s.document], pieces=pieces)
        k = k + 1 if documents and document == documents[-1] else 0
        if chunk and len(chunk) >= size and (k == 0 or (block is not None and k % block == 0)):
            yield chunk, documents
            chunk, documents = [], []
        chunk.append(s)
        documents.append(document)
    if chunk:
        yield chunk, documents


def follows_input_scheme(tagger, options) -> bool:
    """Whether the output's tags follow the scheme of the input's own (a tagged input, output that
    carries tags, no scheme asked for, a model of more than one class)."""
    return (
        options.scheme is None
        and options.input_format in ("conll", "jsonl")
        and options.output_format in _TAG_FORMATS
        and tagger.settings.output == "softmax"
    )


def with_scheme(tagger, options, ranking):
    """``options`` writing tags in the scheme :func:`~windowclf.tags.schemes.output_scheme` picks."""
    if not follows_input_scheme(tagger, options):
        return options
    return replace(options, scheme=output_scheme(list(ranking or ()), tagger.settings.scheme))


def file_ranking(path, options, tagger=None) -> tuple:
    """How the schemes fit the own tags of the file ``path`` (:func:`~windowclf.formats.tagged.file_schemes`),
    as a tuple; () where the output does not follow them, or where the file cannot be read that far
    (tagging it names the problem)."""
    if tagger is not None and not follows_input_scheme(tagger, options):
        return ()
    if options.input_format not in ("conll", "jsonl") or options.scheme is not None:
        return ()
    try:
        ranking = file_schemes(
            path,
            options.input_format,
            word_column=options.word_column,
            tag_column=options.tag_column,
            encoding=options.encoding,
            separator=options.separator,
            labels=None if options.labels is None else list(options.labels),
        )
    except (InputError, ConfigError, OSError, UnicodeError):
        return ()
    return tuple(ranking)
