"""Tagging a shard of a corpus, the same on any engine: one file, or a block of a file, into one output.

:func:`tag_shard` is the one function a Dask task, a Spark partition or a plain loop runs: (model
bytes or path, input file or :class:`Block`, options) -> output file written atomically, and a
small report (tokens, sentences, seconds, sha256 of the output). It is pure: the same inputs give
the same bytes, and they are the bytes ``windowclf predict`` writes for that input, since the
command writes each input through :func:`tag_input` and both tag segment by segment
(:mod:`windowclf.batch.segments`) in :func:`write_tagged`. A file's blocks are runs of its segments, so
its blocks' outputs, concatenated in order, are the file's output, whatever the blocks.

Models travel as a :class:`ModelRef` (the ``.npz`` bytes or a shared path, with their sha256) and
are loaded once per process through the model file's own checked loader (a single model's file or an
ensemble's: :func:`windowclf.models.ensemble.load_any`); a WindowTagger or an Ensemble itself pickles as its
model file's bytes (``model_io.reduce_tagger``, ``Ensemble.__reduce__``).
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import io
import os
import sys
import time
from collections import OrderedDict
from contextlib import closing, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import NamedTuple

from windowclf._util.atomic import atomic_writer
from windowclf._util.hashing import file_sha256
from windowclf.batch import segments as seg
from windowclf.errors import ConfigError, ModelFileError
from windowclf.formats.conll import file_layout, parse_incr
from windowclf.formats.lines import text_codec
from windowclf.formats.writers import CONFIDENCE_FORMATS, WRITERS, Tagged
from windowclf.models import files as model_io
from windowclf.models.ensemble import Ensemble, load_any
from windowclf.models.tagger import WindowTagger
from windowclf.text.reader import text_sentences
from windowclf.text.sentences import SENTENCE_MODES

__all__ = [
    "OUTPUT_SUFFIXES",
    "Block",
    "ModelRef",
    "TagOptions",
    "load_model",
    "model_ref",
    "plan_blocks",
    "tag_input",
    "tag_shard",
    "write_tagged",
]

OUTPUT_SUFFIXES = {
    "conll": ".conll",
    "inline": ".txt",
    "json": ".jsonl",
    "entities": ".jsonl",
    "tokens-json": ".jsonl",
    "spans-json": ".jsonl",
}
_CACHED_MODELS = 2  # loaded models a process keeps (a sweep or a second job may bring another)


@dataclass(frozen=True)
class TagOptions:
    """What ``windowclf predict`` is told besides the model and the inputs.

    ``separator`` is the separator itself (None: from the file's first line); ``predict`` holds
    further keyword arguments of :meth:`WindowTagger.predict`, as (name, value) pairs.
    """

    input_format: str = "text"
    output_format: str = "conll"
    scheme: str | None = None
    chunk_size: int = 1000
    encoding: str = "utf-8"
    word_column: int = 0
    tag_column: int = -1
    separator: str | None = None
    predict: tuple = field(default=())
    sentence_mode: str = "text"  # raw text: tokenize.SENTENCE_MODES

    def __post_init__(self):
        if self.input_format not in ("text", "conll"):
            raise ConfigError(f"input_format must be text or conll, got {self.input_format!r}")
        if self.sentence_mode not in SENTENCE_MODES:
            raise ConfigError(f"sentence_mode must be one of {', '.join(SENTENCE_MODES)}, got {self.sentence_mode!r}")
        if self.output_format not in WRITERS:
            raise ConfigError(f"output_format must be one of {', '.join(WRITERS)}, got {self.output_format!r}")
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        text_codec(self.encoding, ascii_compatible=True)  # the CLI option's rule: ConfigError otherwise

    def to_dict(self) -> dict:
        """JSON-ready (the manifest records it)."""
        return {**asdict(self), "predict": [list(pair) for pair in self.predict]}


class Block(NamedTuple):
    """Segments ``segments`` (consecutive) of the file ``path``: block ``index`` of ``count``."""

    path: str
    index: int  # type: ignore[assignment]  # a field, as the README's Spark recipe reads it
    count: int  # type: ignore[assignment]
    segments: tuple
    layout: tuple = ()  # CoNLL input: (separator, n_columns, first_line) the file's earlier lines set


class ModelRef(NamedTuple):
    """A model as it travels: its sha256 and its file's bytes, or a path every worker can read."""

    sha256: str
    data: bytes | None = None
    path: str | None = None

    def __repr__(self) -> str:
        where = f"{len(self.data):,} bytes" if self.data is not None else self.path
        return f"ModelRef({self.sha256[:12]}, {where})"


_MODELS: OrderedDict = OrderedDict()


def model_ref(model, *, send: str = "bytes") -> ModelRef:
    """Check ``model`` (a path, a model file's bytes, a trained WindowTagger or an Ensemble) and say how it travels.

    Loads it here first, so a missing or corrupt model fails (ModelFileError naming the file)
    before any work is sent anywhere; ``send="path"`` ships the absolute path instead of the bytes
    (every worker must see the same file; its sha256 is checked where it is read).
    """
    if send not in ("bytes", "path"):
        raise ConfigError(f"send must be bytes or path, got {send!r}")
    if isinstance(model, ModelRef):
        return model
    tagger: WindowTagger | Ensemble | None
    if isinstance(model, WindowTagger):
        data, path, tagger = model_io.reduce_tagger(model)[1][0], None, model
    elif isinstance(model, Ensemble):
        data, path, tagger = model.to_bytes(), None, model
    elif isinstance(model, (bytes, bytearray, memoryview)):
        data, path, tagger = bytes(model), None, None
    else:
        path = os.path.abspath(os.fspath(model))
        tagger = load_any(path, training_state=False)  # names the file when it is missing or damaged
        with open(path, "rb") as file:
            data = file.read()
    if tagger is None:
        tagger = load_any(data, training_state=False)
    ref = ModelRef(
        hashlib.sha256(data).hexdigest(),
        data if send == "bytes" or path is None else None,
        path if send == "path" else None,
    )
    _remember(ref.sha256, tagger)
    return ref


def load_model(model):
    """The WindowTagger or Ensemble of ``model`` (as :func:`model_ref` takes it), loaded once per process."""
    if isinstance(model, (WindowTagger, Ensemble)):
        return model
    if isinstance(model, (bytes, bytearray, memoryview)):
        model = ModelRef(hashlib.sha256(model).hexdigest(), bytes(model))
    elif not isinstance(model, ModelRef):  # a path: known by its bytes' sha256, read again only when new
        path = os.path.abspath(os.fspath(model))
        try:
            model = ModelRef(file_sha256(path), None, path)
        except OSError:
            load_any(path, training_state=False)  # names the file as the loader does
            raise
    tagger = _MODELS.get(model.sha256)
    if tagger is not None:
        _MODELS.move_to_end(model.sha256)
        return tagger
    if model.data is None:  # a shared path: checked, then read by the loader (no copy of its bytes kept)
        if file_sha256(model.path) != model.sha256:
            raise ModelFileError("changed since the job started (its sha256 differs)", model.path)
        tagger = load_any(model.path, training_state=False)
    else:
        tagger = load_any(model.data, training_state=False)
    _remember(model.sha256, tagger)
    return tagger


def _remember(sha256: str, tagger) -> None:
    _MODELS[sha256] = tagger
    _MODELS.move_to_end(sha256)
    while len(_MODELS) > _CACHED_MODELS:
        _MODELS.popitem(last=False)


# ------------------------------------------------------------------------------ tagging
def write_tagged(tagger, sentences, out, options: TagOptions) -> tuple:
    """Tag ``sentences`` (Tagged, tokens filled in) ``options.chunk_size`` at a time and write them
    to the text stream ``out``; returns (tokens, sentences) written.

    A model whose features read documents (``doccase``, the vote, the gazetteer) reads those of
    ``sentences`` (a segment: see tag_input): CoNLL input's ``-DOCSTART-`` documents, raw text's
    lines with ``sentence_mode="document-per-line"``, and otherwise none marked, so that the
    model reads blocks of its ``document_sentences`` sentences, counted from the segment's start
    (:meth:`~windowclf.inference.prediction.Tagging.documents_as_read`); its chunks end where such
    a document ends (the whole segment, for a model whose documents are unbounded)."""
    sigmoid = tagger.settings.output == "sigmoid"
    positive = tagger.settings.positive_tag if sigmoid else None
    write = WRITERS[options.output_format]
    json_out = options.output_format in CONFIDENCE_FORMATS
    extra = dict(options.predict)
    n_tokens = n_sentences = 0
    sentences = iter(sentences)
    if tagger.reads_documents:
        chunks = tagger.document_chunks(sentences, _document_of, options.chunk_size)
    else:
        chunks = iter(lambda: list(islice(sentences, options.chunk_size)), [])
    for chunk in chunks:
        token_lists = [s.tokens for s in chunk]
        documents = [s.document for s in chunk]
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
                tags, s.confidences = tags
            s.tags, s.positive = tags, positive
            if probabilities is not None:
                s.probabilities = probabilities[i][:, 1].tolist()
            write(out, s)
            n_tokens += len(tags)
        n_sentences += len(chunk)
    return n_tokens, n_sentences


def _document_of(sentence: Tagged):
    return sentence.document


def _raw_tagged(tokens, **fields) -> Tagged:
    """A sentence of raw text, to be tagged (what text_sentences makes of each sentence)."""
    return Tagged(tokens, [], **fields)


def _segment_sentences(stream, name: str, segment: seg.Segment, options: TagOptions, layout: dict, repairs=None):
    """The sentences of one segment's bytes (a binary stream), named and numbered as in the file
    (CoNLL input: the lines read by the column rule counted in ``repairs``, a Counter, if given)."""
    if options.input_format == "conll":
        for s in parse_incr(
            stream,
            path=name,
            word_column=options.word_column,
            tag_column=options.tag_column,
            encoding=options.encoding,
            separator=options.separator,
            first_line=segment.line,
            layout=layout,
            repairs=repairs,
        ):
            yield Tagged(s.tokens, [], columns=s.columns, file=s.path, document=s.document)
        return
    encoding = options.encoding
    if codecs.lookup(encoding).name == "utf-8":
        encoding = "utf-8-sig" if segment.start == 0 else "utf-8"  # a byte-order mark is not text
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")  # newline="": offsets count \r\n as 2
    try:
        yield from text_sentences(
            text,
            name,
            offset_base=segment.char,
            line_base=segment.line,
            encoding=options.encoding,
            mode=options.sentence_mode,
            make=_raw_tagged,
        )
    finally:
        text.detach()


def _tag_segments(tagger, path, name, parts, out, options, layout, repairs=None) -> tuple:
    """Tag (Segment, binary stream) pairs in order, each on its own batches; returns the counts."""
    tokens = count = 0
    with _older_objects_frozen():
        for segment, stream in parts:
            sentences = _segment_sentences(stream, name, segment, options, layout, repairs)
            with stream, closing(sentences):  # the reader lets go of the stream before it closes
                t, s = write_tagged(tagger, sentences, out, options)
            tokens, count = tokens + t, count + s
    return tokens, count


@contextmanager
def _older_objects_frozen():
    """Python's cycle collector leaves alone what exists when tagging starts (the model, the
    libraries, a Dask worker's state), and takes it back after (``gc.freeze``): tagging makes many
    short-lived lists, and each collection of the oldest generation walked all of those objects,
    an eighth of a tagging task's time here. Nothing is lost: what tagging drops is collected as
    before, what was frozen is collected once it is unfrozen."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def tag_input(tagger, path, out, options: TagOptions, repairs=None) -> tuple:
    """Tag one input (a path, or ``-`` for stdin) into the text stream ``out``, as ``windowclf
    predict`` writes it; returns (tokens, sentences). ``repairs``: a Counter of the CoNLL lines
    read by the column rule (:mod:`windowclf.formats.conll`)."""
    path = os.fspath(path)
    if path != "-" and seg.is_regular(path):
        return _tag_file(tagger, path, seg.plan(path, options.encoding), {}, out, options, repairs)
    name = "<stdin>" if path == "-" else path
    with open(path, "rb") if path != "-" else nullcontext(sys.stdin.buffer) as raw:
        segments = seg.Stream(raw, options.encoding).segments()
        return _tag_segments(tagger, path, name, segments, out, options, {}, repairs)


def _tag_file(tagger, path, segments, layout, out, options, repairs=None) -> tuple:
    parts = ((s, seg.open_segment(path, s)) for s in segments)
    return _tag_segments(tagger, path, path, parts, out, options, layout, repairs)


class _HashingWriter:
    """A text stream writing UTF-8 to a binary file and to a sha256 at once."""

    def __init__(self, file):
        self.file, self.sha256, self.bytes = file, hashlib.sha256(), 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.file.write(data)
        self.sha256.update(data)
        self.bytes += len(data)
        return len(text)


def tag_shard(model, source, output, options: TagOptions | None = None, **option_values) -> dict:
    """Tag ``source`` (a file's path, or a :class:`Block` of one) into ``output``, atomically.

    ``model``: a ModelRef, path, model bytes, WindowTagger or Ensemble (loaded once per process). Options
    are a TagOptions or its fields as keywords. The output holds exactly what ``windowclf predict``
    writes for the file alone (for a block: its part of that). Returns a report: input, block,
    output, tokens, sentences, seconds, bytes and sha256 of the output.
    """
    options = options or TagOptions(**option_values)
    tagger = load_model(model)
    start = time.perf_counter()
    if isinstance(source, Block):
        path, segments, layout = source.path, list(source.segments), _layout_dict(source.layout)
    else:
        path = os.fspath(source)
        segments, layout = seg.plan(path, options.encoding), {}
    with atomic_writer(output, "wb") as file:
        out = _HashingWriter(file)
        tokens, sentences = _tag_file(tagger, path, segments, layout, out, options)
    return {
        "input": path,
        "block": source.index if isinstance(source, Block) else None,
        "output": os.fspath(output),
        "tokens": tokens,
        "sentences": sentences,
        "seconds": time.perf_counter() - start,
        "bytes": out.bytes,
        "sha256": out.sha256.hexdigest(),
    }


def _layout_dict(layout: tuple) -> dict:
    return dict(zip(("separator", "n_columns", "first_line"), layout)) if layout else {}


def plan_blocks(path, options: TagOptions, block_bytes: int | None = None) -> list:
    """The blocks of the file ``path``: runs of its segments of about ``block_bytes`` (None: one block).

    Every block starts at a segment's start, so tagging them apart and joining the outputs in
    order gives the file's output. For CoNLL input each block carries what the file's earlier
    lines set (separator, columns), read from the file's first lines.
    """
    path = os.fspath(path)
    segments = seg.plan(path, options.encoding)
    groups: list[list] = [[]]
    size = 0
    for s in segments:
        if groups[-1] and block_bytes is not None and size >= block_bytes:
            groups.append([])
            size = 0
        groups[-1].append(s)
        size += s.stop - s.start
    found = None
    if options.input_format == "conll" and len(groups) > 1:
        found = file_layout(
            path,
            word_column=options.word_column,
            tag_column=options.tag_column,
            encoding=options.encoding,
            separator=options.separator,
        )
    blocks = []
    for i, group in enumerate(groups):
        layout: tuple = ()
        if found is not None and i > 0:
            line = group[0].line
            set_before = found["separator_line"] is not None and found["separator_line"] < line
            known = found["first_line"] is not None and found["first_line"] < line
            layout = (
                found["separator"] if set_before else options.separator,
                found["n_columns"] if known else None,
                found["first_line"] if known else None,
            )
        blocks.append(Block(path, i, len(groups), tuple(group), layout))
    return blocks
