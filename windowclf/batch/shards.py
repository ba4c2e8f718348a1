"""Tagging a shard of a corpus, the same on any engine: one file, or a block of a file, into one output.

:func:`tag_shard` is the one function a Dask task, a Spark partition or a plain loop runs: (model
bytes or path, input file or :class:`Block`, options) -> output file written atomically, and a
small report (tokens, sentences, seconds, sha256 of the output). It is pure: the same inputs give
the same bytes, and they are the bytes ``windowclf predict`` writes for that input, since the
command writes each input through :func:`tag_input` and both tag segment by segment
(:mod:`windowclf.batch.segments`) in :func:`~windowclf.batch.writing.write_tagged`. A file's
blocks are runs of its segments, so its blocks' outputs, concatenated in order, are the file's
output, whatever the blocks.

Every input is read in its form (raw text, CoNLL columns, JSON lines: sniffed when ``input_format``
is ``auto``, :func:`~windowclf.formats.sniff.input_form`; :mod:`windowclf.batch.reading`), and by
default written in it (CoNLL columns for text and CoNLL input, each JSON lines record back in its
own form), its tags in the scheme of the input's own tags (:func:`~windowclf.tags.schemes.output_scheme`),
so a scorer of the output agrees with ``windowclf evaluate``. Entity records (``--format json``,
``entities``) count their ``sentence`` from the file's start; a block counts from its own, and
:func:`join_parts` (what a job runs to join a file's blocks) adds the sentences of the blocks before it.

Models travel as a :class:`ModelRef` (the ``.npz`` bytes or a shared path, with their sha256) and
are loaded once per process through the model file's own checked loader (a single model's file or an
ensemble's: :func:`windowclf.models.ensemble.load_any`); a WindowTagger or an Ensemble itself pickles as its
model file's bytes (``model_io.reduce_tagger``, ``Ensemble.__reduce__``).
"""

from __future__ import annotations

import gc
import hashlib
import os
import re
import sys
import time
from collections import OrderedDict
from contextlib import closing, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

from windowclf._util.atomic import atomic_writer
from windowclf._util.hashing import file_sha256
from windowclf.batch import segments as seg
from windowclf.batch.reading import Replayed, read_head, segment_sentences
from windowclf.batch.writing import file_ranking, follows_input_scheme, with_scheme, write_tagged
from windowclf.errors import ConfigError, ModelFileError
from windowclf.formats.conll import file_layout
from windowclf.formats.lines import text_codec
from windowclf.formats.sniff import FORMS, input_form
from windowclf.formats.writers import INPUT_FORM_FORMATS, WRITERS
from windowclf.inference.scoring import restart_projections, tagging_session
from windowclf.models import files as model_io
from windowclf.models.ensemble import Ensemble, load_any
from windowclf.models.tagger import WindowTagger
from windowclf.tags.schemes import SchemeDetector
from windowclf.text.sentences import SENTENCE_MODES
from windowclf.text.tokenize import check_tokenizer

__all__ = [
    "OUTPUT_SUFFIXES",
    "Block",
    "ModelRef",
    "TagOptions",
    "join_parts",
    "load_model",
    "model_options",
    "model_ref",
    "output_suffix",
    "plan_blocks",
    "renumbered_text",
    "resolved",
    "tag_block_into",
    "tag_input",
    "tag_shard",
]

OUTPUT_SUFFIXES = {
    "conll": ".conll",
    "inline": ".txt",
    "json": ".jsonl",
    "entities": ".jsonl",
    "tokens-json": ".jsonl",
    "spans-json": ".jsonl",
    "jsonl": ".jsonl",
}
# The formats whose records count sentences from the file's start (join_parts renumbers blocks').
_NUMBERED_FORMATS = frozenset({"json", "entities"})
_CACHED_MODELS = 2  # loaded models a process keeps (a sweep or a second job may bring another)


@dataclass(frozen=True)
class TagOptions:
    """What ``windowclf predict`` is told besides the model and the inputs.

    ``input_format`` is ``auto`` (each input's own, :func:`~windowclf.formats.sniff.input_form`),
    ``text``, ``conll`` or ``jsonl``; ``output_format`` one of :data:`~windowclf.formats.writers.WRITERS`
    or ``auto`` (each input in its own form: CoNLL columns for text and CoNLL input, ``jsonl`` for
    JSON lines); ``scheme`` the output's tag scheme (None: a tagged input's own, else the model's);
    ``separator`` is the separator itself (None: from the file's first line); ``labels`` the names
    of JSON lines' integer tags and ``tokenizer`` the tokenizer of raw text (None for either: the
    model's training data's, else none and ``conll``); ``predict`` holds further keyword arguments
    of :meth:`WindowTagger.predict`, as (name, value) pairs.
    """

    input_format: str = "auto"
    output_format: str = "auto"
    scheme: str | None = None
    chunk_size: int = 1000
    encoding: str = "utf-8"
    word_column: int = 0
    tag_column: int = -1
    separator: str | None = None
    predict: tuple = field(default=())
    sentence_mode: str = "text"  # raw text: tokenize.SENTENCE_MODES
    labels: tuple | None = None
    tokenizer: str | None = None

    def __post_init__(self):
        if self.input_format not in ("auto", *FORMS):
            raise ConfigError(f"input_format must be one of auto, {', '.join(FORMS)}, got {self.input_format!r}")
        if self.sentence_mode not in SENTENCE_MODES:
            raise ConfigError(f"sentence_mode must be one of {', '.join(SENTENCE_MODES)}, got {self.sentence_mode!r}")
        if self.output_format != "auto" and self.output_format not in WRITERS:
            raise ConfigError(f"output_format must be auto or one of {', '.join(WRITERS)}, got {self.output_format!r}")
        if self.output_format in INPUT_FORM_FORMATS and self.input_format not in ("auto", "jsonl"):
            raise ConfigError(_not_jsonl(self.input_format))
        if self.tokenizer is not None:
            check_tokenizer(self.tokenizer)
        if self.labels is not None and not isinstance(self.labels, tuple):
            object.__setattr__(self, "labels", tuple(self.labels))  # frozen: hashable, a manifest's JSON list
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ConfigError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")
        text_codec(self.encoding, ascii_compatible=True)  # the CLI option's rule: ConfigError otherwise

    def to_dict(self) -> dict:
        """JSON-ready (the manifest records it)."""
        out = {**asdict(self), "predict": [list(pair) for pair in self.predict]}
        out["labels"] = None if self.labels is None else list(self.labels)
        return out


def _not_jsonl(form: str) -> str:
    return (
        f"--format jsonl writes JSON lines input back in its own form; this input is {form} "
        "(for JSON lines of its predictions: --format tokens-json or spans-json)"
    )


def resolved(options: TagOptions, name, head: bytes | None = None) -> TagOptions:
    """``options`` for the input ``name`` (whose first bytes are ``head``, None: read from the file):
    ``auto`` input read as the input's own form, ``auto`` output as the form that keeps it.

    >>> resolved(TagOptions(), "hub.jsonl").output_format, resolved(TagOptions(input_format="text"), "-").output_format
    ('jsonl', 'conll')
    """
    form = options.input_format
    if form == "auto":
        form = input_form(name, head=head, encoding=options.encoding) if name != "-" or head is not None else "text"
    output = options.output_format
    if output == "auto":
        output = "jsonl" if form == "jsonl" else "conll"
    elif output in INPUT_FORM_FORMATS and form != "jsonl":
        raise ConfigError(_not_jsonl(form))
    if (form, output) == (options.input_format, options.output_format):
        return options
    return replace(options, input_format=form, output_format=output)


def output_suffix(options: TagOptions, name) -> str:
    """The suffix of the output file of input ``name`` (``.conll``, ``.jsonl``, ...)."""
    return OUTPUT_SUFFIXES[resolved(options, name).output_format]


class Block(NamedTuple):
    """Segments ``segments`` (consecutive) of the file ``path``: block ``index`` of ``count``.

    ``input_format`` is the file's form (resolved once for all its blocks); ``schemes`` the
    :meth:`~windowclf.tags.schemes.SchemeDetector.ranking` of the file's own tags (None: not
    known, so read from the file by whoever tags the block).
    """

    path: str
    index: int  # type: ignore[assignment]  # a field, as the README's Spark recipe reads it
    count: int  # type: ignore[assignment]
    segments: tuple
    layout: tuple = ()  # CoNLL input: (separator, n_columns, first_line) the file's earlier lines set
    input_format: str = ""
    schemes: tuple | None = None


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
def _tag_segments(
    tagger, path, name, parts, out, options, layout, first_sentence=0, ranking=None, repairs=None
) -> tuple:
    """Tag (Segment, binary stream) pairs in order, each on its own batches; returns the counts.

    ``ranking``: how the schemes fit the input's own tags (None: not known, as for a stream: then
    from its first segment's tags, where the output carries tags)."""
    tokens, count = 0, 0
    with _older_objects_frozen(), tagging_session():  # each distinct token of the file looked up once
        for segment, stream in parts:
            # projections afresh at each segment, so that its output depends on its bytes alone
            # (BLAS may round a row by its place in a product's block)
            restart_projections()
            sentences = segment_sentences(stream, name, segment, options, layout, repairs)
            with stream, closing(sentences):  # the reader lets go of the stream before it closes
                if ranking is None and follows_input_scheme(tagger, options):
                    sentences = list(sentences)  # a segment: about a megabyte of the stream's start
                    detector = SchemeDetector()
                    for s in sentences:
                        if s.gold is not None:
                            detector.add(s.gold)
                    ranking = detector.ranking()
                    options = with_scheme(tagger, options, ranking)
                    sentences = iter(sentences)
                t, n = write_tagged(tagger, sentences, out, options, first_sentence=first_sentence + count)
            tokens, count = tokens + t, count + n
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


def model_options(options: TagOptions, tagger) -> TagOptions:
    """``options`` with what they leave to the model filled in: JSON lines labels and the tokenizer
    of raw text, from its training data (``training_input``)."""
    read = getattr(tagger, "training_input", None) or {}
    changes: dict = {}
    if options.labels is None and read.get("labels"):
        changes["labels"] = tuple(read["labels"])
    if options.tokenizer is None:
        changes["tokenizer"] = read.get("tokenizer") or "conll"
    return replace(options, **changes) if changes else options


def tag_input(tagger, path, out, options: TagOptions, repairs=None) -> tuple:
    """Tag one input (a path, or ``-`` for stdin) into the text stream ``out``, as ``windowclf
    predict`` writes it; returns (tokens, sentences). ``repairs``: a Counter of the CoNLL lines
    read by the column rule (:mod:`windowclf.formats.conll`)."""
    path = os.fspath(path)
    options = model_options(options, tagger)
    if path != "-" and seg.is_regular(path):
        options = resolved(options, path)
        ranking = file_ranking(path, options, tagger)
        return _tag_file(
            tagger, path, _plan(path, options), {}, out, with_scheme(tagger, options, ranking), repairs=repairs
        )
    name = "<stdin>" if path == "-" else path
    with open(path, "rb") if path != "-" else nullcontext(sys.stdin.buffer) as raw:
        head = read_head(raw)
        options = resolved(options, name, head if options.input_format == "auto" else None)
        stream = seg.Stream(
            Replayed(head, raw),
            options.encoding,
            lines=options.input_format == "jsonl",
            lines_only=options.input_format == "conll",
        )
        return _tag_segments(tagger, path, name, stream.segments(), out, options, {}, repairs=repairs)


def _tag_file(tagger, path, segments, layout, out, options, first_sentence=0, repairs=None) -> tuple:
    parts = ((s, seg.open_segment(path, s)) for s in segments)
    return _tag_segments(tagger, path, path, parts, out, options, layout, first_sentence, ranking=(), repairs=repairs)


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


def _shard(tagger, source, options: TagOptions) -> tuple:
    """(path, segments, layout, options) of a file or :class:`Block` as the tagger reads it."""
    options = model_options(options, tagger)
    if isinstance(source, Block):
        path, segments, layout = source.path, list(source.segments), _layout_dict(source.layout)
        if source.input_format:
            options = replace(options, input_format=source.input_format)
        options = resolved(options, path)
        ranking = source.schemes if source.schemes is not None else file_ranking(path, options, tagger)
    else:
        path = os.fspath(source)
        options = resolved(options, path)
        segments, layout = _plan(path, options), {}
        ranking = file_ranking(path, options, tagger)
    return path, segments, layout, with_scheme(tagger, options, ranking)


def _plan(path, options: TagOptions) -> list:
    """The segments of a file as ``options`` (resolved) read it: JSON lines at any line end, CoNLL
    input never inside a line."""
    return seg.plan(
        path, options.encoding, lines=options.input_format == "jsonl", lines_only=options.input_format == "conll"
    )


def tag_block_into(tagger, block: Block, out, options: TagOptions, repairs=None) -> tuple:
    """Tag a :class:`Block` of a file into the text stream ``out``: what :func:`tag_shard` writes for
    it (its entity records' ``sentence`` counted from the block's start: :func:`renumbered_text`
    counts them on); returns (tokens, sentences). ``repairs`` as :func:`tag_input` takes it."""
    path, segments, layout, options = _shard(tagger, block, options)
    return _tag_file(tagger, path, segments, layout, out, options, repairs=repairs)


def renumbered_text(text: str, shift: int, options: TagOptions, name=None) -> str:
    """A block's output as it joins the blocks before it (:func:`join_parts`, for text): its entity
    records' ``"sentence": N`` made N + ``shift`` where the format numbers them."""
    output_format = options.output_format if name is None else resolved(options, name).output_format
    if not shift or output_format not in _NUMBERED_FORMATS:
        return text
    return "".join(line.decode("utf-8") for line in _renumbered(text.encode("utf-8").splitlines(True), shift))


def tag_shard(model, source, output, options: TagOptions | None = None, **option_values) -> dict:
    """Tag ``source`` (a file's path, or a :class:`Block` of one) into ``output``, atomically.

    ``model``: a ModelRef, path, model bytes, WindowTagger or Ensemble (loaded once per process). Options
    are a TagOptions or its fields as keywords. The output holds exactly what ``windowclf predict``
    writes for the file alone (for a block: its part of that, its entity records' ``sentence``
    counted from the block's start: :func:`join_parts` joins the blocks). Returns a report: input,
    block, output, tokens, sentences, seconds, bytes and sha256 of the output.
    """
    options = options or TagOptions(**option_values)
    tagger = load_model(model)
    start = time.perf_counter()
    path, segments, layout, options = _shard(tagger, source, options)
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


# "sentence": N as a key of a record written by json.dumps: after "{" or ", " (inside a JSON
# string a quote is escaped, so no token can hold this)
_SENTENCE_KEY = re.compile(rb'(?<=[{ ])"sentence": (\d+)')


def join_parts(reports, out, options: TagOptions, name=None) -> tuple:
    """Write the outputs of a file's blocks, in block order, into the binary stream ``out``: what
    :func:`tag_shard` writes for the whole file (entity records' ``sentence`` numbers counted on
    from the blocks before). ``reports``: :func:`tag_shard`'s reports of the blocks, in order;
    ``name``: the file (``auto`` output resolves by it). Returns (sha256, bytes) of what was written.
    """
    output_format = options.output_format if name is None else resolved(options, name).output_format
    numbered = output_format in _NUMBERED_FORMATS
    digest, size, base = hashlib.sha256(), 0, 0
    for report in reports:
        with open(report["output"], "rb") as part:
            for data in _renumbered(part, base) if numbered and base else _pieces(part):
                out.write(data)
                digest.update(data)
                size += len(data)
        base += report["sentences"]
    return digest.hexdigest(), size


def _pieces(file):
    """A binary file's bytes, a megabyte at a time."""
    while data := file.read(1 << 20):
        yield data


def _renumbered(lines, shift: int):
    """JSON lines with every record's ``"sentence": N`` made N + ``shift``."""

    def renumber(match):
        return b'"sentence": ' + str(int(match.group(1)) + shift).encode()

    for line in lines:
        yield _SENTENCE_KEY.sub(renumber, line)


def _layout_dict(layout: tuple) -> dict:
    return dict(zip(("separator", "n_columns", "first_line"), layout)) if layout else {}


def plan_blocks(path, options: TagOptions, block_bytes: int | None = None) -> list:
    """The blocks of the file ``path``: runs of its segments of about ``block_bytes`` (None: one block).

    Every block starts at a segment's start, so tagging them apart and joining the outputs in
    order (:func:`join_parts`) gives the file's output. For CoNLL input each block carries what the
    file's earlier lines set (separator, columns), read from the file's first lines; every block
    carries the file's form and how the schemes fit its own tags (read once here).
    """
    path = os.fspath(path)
    options = resolved(options, path)
    segments = _plan(path, options)
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
    ranking = file_ranking(path, options)
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
        blocks.append(Block(path, i, len(groups), tuple(group), layout, options.input_format, ranking))
    return blocks
