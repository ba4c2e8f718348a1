"""Hostile arguments to the library: every public function and method of ``windowclf.__all__``.

Each entry of :data:`CALLS` is one public callable with a valid call (its arguments by name). A
case replaces one or two of those arguments by a hostile value (a wrong type, a string where a
list belongs, NaN, infinity, a number out of range, a path that is not a file, an object) and
calls it. The contract: the call returns, or raises TypeError or ValueError (windowclf's own
errors are ValueErrors) whose message names the argument, or, for a path, an OSError naming the
file; never an AttributeError, a KeyError, an IndexError or a numpy error from deep inside.

:func:`test_every_public_callable_is_drawn` holds the table to ``windowclf.__all__``: a public
function or method without an entry fails it, so a new one is drawn from the day it exists.
"""

from __future__ import annotations

import inspect
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import windowclf
from windowclf import (
    Decoder,
    Ensemble,
    Sentence,
    Settings,
    Vocabulary,
    WindowNetwork,
    WindowTagger,
    WordVectors,
)

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"

# Names of __all__ that are not called with arguments a user makes up: the error types, the
# callback protocol (its methods are the user's own), and the records the library hands out
# (a Sentence, a Token, an EpochResult are what the readers and fit give, not what they take).
RECORDS = {"Callback", "Entity", "EpochResult", "Sentence", "Token"}
# Dunder and protocol methods are covered through the calls that use them.
SKIP_METHODS = {"__call__"}


class Hostile:
    """Marker class: an object of no type the library knows."""

    def __repr__(self):
        return "<Hostile>"


def _values(tmp: Path) -> list:
    """The hostile values: wrong types, strings for lists, non-finite and huge numbers, paths that
    are not files."""
    return [
        None,
        True,
        0,
        -1,
        10**30,
        1.5,
        math.nan,
        math.inf,
        -math.inf,
        np.float64("nan"),
        "",
        "x",
        "B-PER",
        "a\x00b",
        b"x",
        [],
        [1],
        [None],
        [[1]],
        ["a"],
        [["a"]],
        [[["a"]]],
        {},
        {"a": 1},
        ("a", 1),
        Hostile(),
        np.zeros(3),
        np.zeros((2, 2), dtype=np.int64),
        lambda *a, **k: None,
        tmp,  # a directory
        tmp / "missing.file",
    ]


@dataclass
class Call:
    """One public callable: ``call(**args)`` with valid ``args``; ``paths``: the arguments that name
    files (an OSError naming the file is an answer for them); ``also``: further exception types
    the callable documents (``KeyError`` for a word a WordVectors does not hold, as gensim)."""

    name: str
    call: object
    args: dict
    paths: tuple = ()
    also: tuple = ()
    fresh: object = None  # a function returning new args for each call (file objects, taggers fit)
    names: tuple = ()  # what else its errors may call an argument (from_dict's d: the settings)
    skip_args: tuple = field(default=())  # arguments that take any object (a default to return)


def _tiny(**overrides) -> dict:
    return {"epochs": 1, "hidden": 4, "dim": 3, "min_count": 1, "seed": 0, **overrides}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Trained models, vectors, files and the values the calls take."""
    from windowclf import count_chunks, read_conll

    where = tmp_path_factory.mktemp("library")
    corpus = list(read_conll(SAMPLE / "train.conll"))[:24]
    S, T = [s.tokens for s in corpus], [s.tags for s in corpus]
    words = sorted({w.lower() for s in S for w in s})[:39] + ["oslo"]
    rng = np.random.default_rng(0)
    vectors = WordVectors(words, rng.normal(size=(len(words), 3)).astype(np.float32))
    tagger = WindowTagger(**_tiny()).fit(S, T)
    pretrained = WindowTagger(**_tiny()).fit(S, T, embeddings=vectors)
    ensemble = Ensemble([tagger, WindowTagger(**_tiny(seed=1)).fit(S, T)])
    (where / "train.conll").write_bytes((SAMPLE / "train.conll").read_bytes())
    vectors.save_word2vec_format(where / "vec.txt")
    (where / "vocab.txt").write_text("\n".join(words) + "\n")
    (where / "wordVectors.txt").write_text("".join(" ".join(f"{v:.4f}" for v in row) + "\n" for row in vectors.vectors))
    tagger.save(where / "model.npz")
    ensemble.save(where / "ensemble.npz")
    network = tagger.network
    chars = WindowTagger(**_tiny(char_filters=2, char_dim=2)).fit(S, T)
    ids = tagger.encode(S[:3])
    z2 = tagger.scores(S[:3])
    lengths = [len(s) for s in S[:3]]
    decoder = tagger.decoder()
    return dict(
        where=where,
        S=S,
        T=T,
        vectors=vectors,
        tagger=tagger,
        pretrained=pretrained,
        ensemble=ensemble,
        counts=count_chunks(T, T),
        network=network,
        ids=ids,
        y=np.zeros(sum(lengths), dtype=np.int64),
        z2=z2,
        lengths=lengths,
        decoder=decoder,
        chars=chars,
        spelled=chars.encode(S[:3])[-1],
        classes=decoder.decode(z2, lengths),
    )


def _calls(w) -> list:
    """The table: every public callable with a valid call."""
    S, T, where = w["S"][:3], w["T"][:3], w["where"]
    conll, model, vec = str(where / "train.conll"), str(where / "model.npz"), str(where / "vec.txt")
    tagger, pretrained, ensemble = w["tagger"], w["pretrained"], w["ensemble"]
    text = "Anna Keller flew from Oslo to Lyon."
    tags = ["B-PER", "I-PER", "O", "B-LOC"]
    calls = [
        # ---- functions
        Call(
            "check_gradients",
            windowclf.check_gradients,
            dict(network=None, ids=None, y=None, l2=0.0, dropout=(0.0, 0.0), eps=1e-5),
            fresh=lambda: _gradcheck_problem(),
        ),
        Call("conlleval_report", windowclf.conlleval_report, dict(counts=w["counts"])),
        Call("convert", windowclf.convert, dict(tags=tags, scheme="IOBES")),
        Call("count_chunks", windowclf.count_chunks, dict(gold_sequences=T, pred_sequences=T)),
        Call("detect_scheme", windowclf.detect_scheme, dict(tag_lists=T)),
        Call("entity_spans", windowclf.entity_spans, dict(tags=tags)),
        Call(
            "export_vectors",
            windowclf.export_vectors,
            dict(tagger=pretrained, path="out.txt", changed_only=False, binary=False),
            paths=("path",),
        ),
        Call("finetune_report", windowclf.finetune_report, dict(tagger=pretrained, words=["oslo"], k=2)),
        Call(
            "iter_sentences",
            lambda **kw: list(windowclf.iter_sentences(**kw)),
            dict(lines_or_file=[text], offset_base=0, max_chars=1000, mode="text"),
        ),
        Call("load_any", windowclf.load_any, dict(path=model, training_state=False), paths=("path",)),
        Call(
            "load_cs224d",
            windowclf.load_cs224d,
            dict(
                vocab_path=str(where / "vocab.txt"),
                vectors_path=str(where / "wordVectors.txt"),
                dtype="float32",
                encoding="utf-8",
            ),
            paths=("vocab_path", "vectors_path"),
        ),
        Call(
            "load_vectors",
            windowclf.load_vectors,
            dict(path=vec, format="auto", vocabulary=["oslo"], dtype="float32", encoding="utf-8", normalize=None),
            paths=("path",),
        ),
        Call(
            "nearest_neighbours",
            windowclf.nearest_neighbours,
            dict(vectors=w["vectors"].vectors, index_to_key=w["vectors"].index_to_key, word="oslo", k=3),
            also=(KeyError,),
        ),
        Call(
            "parse_incr",
            lambda **kw: list(windowclf.parse_incr(**kw)),
            dict(
                file_obj=None,
                path=None,
                word_column=0,
                tag_column=-1,
                encoding="utf-8",
                separator=None,
                docstart=True,
                require_sentences=False,
                max_line_length=1000,
                first_line=1,
                layout=None,
            ),
            fresh=lambda: {
                "file_obj": io.BytesIO(b"\n\n".join((where / "train.conll").read_bytes().split(b"\n\n")[:3]))
            },
        ),
        Call(
            "read_conll",
            lambda **kw: list(windowclf.read_conll(**kw)),
            dict(
                path=conll,
                word_column=0,
                tag_column=-1,
                encoding="utf-8",
                separator=None,
                docstart=True,
                require_sentences=False,
                max_line_length=100_000,
            ),
            paths=("path",),
        ),
        Call(
            "save_word2vec_format",
            windowclf.save_word2vec_format,
            dict(path="w.txt", wv_or_keys_and_vectors=w["vectors"], binary=False, encoding="utf-8"),
            paths=("path",),
        ),
        Call("split_sentences", windowclf.split_sentences, dict(text=text, mode="text")),
        Call("token_f1", windowclf.token_f1, dict(gold=T, pred=T, labels=None)),
        Call("tuned_vectors", windowclf.tuned_vectors, dict(tagger=tagger)),
        Call("vector_changes", windowclf.vector_changes, dict(tagger=pretrained)),
        Call(
            "write_conll",
            windowclf.write_conll,
            dict(path_or_file="o.conll", sentences=[Sentence(["Anna"], ["B-PER"])], separator=" ", encoding="utf-8"),
            paths=("path_or_file",),
        ),
        # ---- Decoder
        Call(
            "Decoder",
            Decoder,
            dict(tags=list(tagger.tags), scheme="IO", output="softmax", transitions=None, constrain=True),
        ),
        Call("Decoder.decode", w["decoder"].decode, dict(z2=w["z2"], lengths=w["lengths"])),
        Call("Decoder.entities", w["decoder"].entities, dict(z2=w["z2"], lengths=w["lengths"], classes=w["classes"])),
        Call("Decoder.log_scores", w["decoder"].log_scores, dict(z2=w["z2"])),
        Call("Decoder.checked_scores", w["decoder"].checked_scores, dict(z2=w["z2"], lengths=w["lengths"])),
        Call("Decoder.marginals", w["decoder"].marginals, dict(z2=w["z2"], lengths=w["lengths"])),
        Call(
            "Decoder.voted",
            w["decoder"].voted,
            dict(z2=w["z2"], lengths=w["lengths"], words=[t for s in S for t in s], documents=[0, 0, 1], weight=1.0),
        ),
        # ---- Settings, Vocabulary, WordVectors
        *[
            Call(f"Settings[{name}]", lambda name=name, **kw: Settings(**{name: kw["value"]}), dict(value=value))
            for name, value in Settings().to_dict().items()
        ],
        Call("Settings.from_dict", Settings.from_dict, dict(d={"hidden": 5}), names=("settings",)),
        Call("Settings.entity_tags", Settings(output="sigmoid", positive_tag="LOC").entity_tags, dict(tags_list=T)),
        Call("Settings.signature", Settings.signature, dict(leading=("self",))),
        Call("Settings.to_dict", Settings().to_dict, {}),
        Call("Settings.validate", Settings().validate, {}),
        Call(
            "Vocabulary",
            Vocabulary,
            dict(index_to_key=["a", "b"], lowercase=True, digits=True, unk="UUUNKKK", start="<s>", end="</s>"),
        ),
        Call(
            "Vocabulary.build",
            Vocabulary.build,
            dict(sentences=S, min_count=1, max_size=None, lowercase=True, digits=True, extra=()),
        ),
        Call("Vocabulary.from_dict", Vocabulary.from_dict, dict(d=tagger.vocab.to_dict())),
        Call(
            "Vocabulary.from_file",
            Vocabulary.from_file,
            dict(path=str(where / "vocab.txt"), encoding="utf-8"),
            paths=("path",),
        ),
        Call("Vocabulary.ids", tagger.vocab.ids, dict(words=["oslo", "x"])),
        Call("Vocabulary.lookup", tagger.vocab.lookup, dict(word="Oslo")),
        Call("Vocabulary.normalize", tagger.vocab.normalize, dict(word="Oslo")),
        Call("Vocabulary.to_dict", tagger.vocab.to_dict, {}),
        Call(
            "WordVectors",
            WordVectors,
            dict(index_to_key=["a", "b"], vectors=np.zeros((2, 3)), key_to_index={}),
        ),
        Call("WordVectors.coverage", w["vectors"].coverage, dict(words=["oslo", "x"], normalize=None)),
        Call("WordVectors.get", w["vectors"].get, dict(word="oslo"), skip_args=("default",)),
        Call(
            "WordVectors.most_similar",
            w["vectors"].most_similar,
            dict(word_or_vector="oslo", topn=3),
            also=(KeyError,),
        ),
        Call(
            "WordVectors.save_word2vec_format",
            w["vectors"].save_word2vec_format,
            dict(path="v.txt", binary=False),
            paths=("path",),
        ),
        # ---- WindowNetwork
        Call(
            "WindowNetwork",
            WindowNetwork,
            dict(
                tables=[("L", 10, 3)],
                window=3,
                hidden=4,
                n_outputs=3,
                activation="tanh",
                output="softmax",
                dtype="float32",
                seed=0,
                initialize=True,
                chars=None,
            ),
        ),
        Call(
            "WindowNetwork.forward",
            w["network"].forward,
            dict(ids=w["ids"], dropout=None),
        ),
        Call(
            "WindowNetwork.backward",
            w["network"].backward,
            dict(fw=None, delta2=None, l2=0.0, train_tables=None),
            fresh=lambda: _backward_args(w),
        ),
        Call("WindowNetwork.char_table", w["chars"].network.char_table, dict(spelled=w["spelled"], keep=False)),
        Call("WindowNetwork.lookup", w["network"].lookup, dict(ids=w["ids"])),
        Call(
            "WindowNetwork.loss_and_grads",
            w["network"].loss_and_grads,
            dict(ids=w["ids"], y=w["y"], l2=0.0, train_tables=None, l2_tables=None, anchors=None, dropout=None),
        ),
        Call("WindowNetwork.predict_proba", w["network"].predict_proba, dict(ids=w["ids"])),
        Call("WindowNetwork.scores", w["network"].scores, dict(ids=w["ids"])),
        Call("WindowNetwork.shapes", w["network"].shapes, {}),
        Call("WindowNetwork.checked_ids", w["network"].checked_ids, dict(ids=w["ids"], name="ids", bounds=True)),
        # ---- WindowTagger
        Call("WindowTagger", WindowTagger, dict(settings=None, hidden=4)),
        Call(
            "WindowTagger.fit",
            lambda **kw: WindowTagger(**_tiny()).fit(**kw),
            dict(
                sentences=S,
                tags=T,
                dev=(S, T),
                documents=None,
                embeddings=None,
                callbacks=(),
                resume=False,
                allow_new_data=False,
                labels=None,
                tokenizer=None,
                verbose=0,
            ),
        ),
        Call("WindowTagger.score", tagger.score, dict(sentences=S, tags=T, labels=None, documents=None)),
        Call("WindowTagger.load", WindowTagger.load, dict(path=model, training_state=True), paths=("path",)),
        Call("WindowTagger.save", tagger.save, dict(path="saved.npz", include_state=True, slim=False), paths=("path",)),
        Call("WindowTagger.get_params", tagger.get_params, dict(deep=True)),
        Call("WindowTagger.set_params", lambda **kw: WindowTagger().set_params(**kw), dict(hidden=5)),
        Call("WindowTagger.unknown_tag", tagger.unknown_tag, dict(tags_list=T)),
        Call("WindowTagger.lookup_tables", tagger.lookup_tables, {}),
        Call("WindowTagger.make_network", tagger.make_network, dict(initialize=False)),
        Call("WindowTagger.parameter_shapes", tagger.parameter_shapes, {}),
        Call("WindowTagger.weights", tagger.weights, {}),
        Call("WindowTagger.check_fitted", tagger.check_fitted, {}),
        Call("WindowTagger.fitted", tagger.fitted, {}),
        Call("WindowTagger.to_bytes", tagger.to_bytes, {}),
        Call(
            "WindowTagger.encode_tokens",
            tagger.encode_tokens,
            dict(sentences=S, documents=None, table=None),
        ),
        Call("WindowTagger.token_table", tagger.token_table, {}),
        Call("WindowTagger.per_token_tables", tagger.per_token_tables, {}),
        *_tagging_calls("WindowTagger", tagger, S, T, text),
        # ---- Ensemble
        Call("Ensemble", Ensemble, dict(members=[tagger, tagger])),
        Call("Ensemble.load", Ensemble.load, dict(path=str(where / "ensemble.npz")), paths=("path",)),
        Call("Ensemble.save", ensemble.save, dict(path="ens.npz"), paths=("path",)),
        Call("Ensemble.to_bytes", ensemble.to_bytes, {}),
        *_tagging_calls("Ensemble", ensemble, S, T, text),
    ]
    return calls


def _tagging_calls(owner: str, model, S, T, text) -> list:
    """The prediction methods a WindowTagger and an Ensemble share (inference.prediction.Tagging)."""
    return [
        Call(
            f"{owner}.predict",
            model.predict,
            dict(sentences=S, scheme=None, constrain=True, min_confidence=0.5, confidences=False, documents=None),
        ),
        Call(f"{owner}.predict_proba", model.predict_proba, dict(sentences=S, constrain=True, documents=None)),
        Call(f"{owner}.predict_entities", model.predict_entities, dict(sentences=S, constrain=True, documents=None)),
        Call(
            f"{owner}.evaluate",
            model.evaluate,
            dict(sentences=S, tags=T, scheme=None, constrain=True, documents=None),
        ),
        Call(
            f"{owner}.tag_text",
            model.tag_text,
            dict(text=text, constrain=True, min_confidence=None, tokenizer=None),
        ),
        Call(
            f"{owner}.pipe",
            lambda **kw: list(model.pipe(**kw)),
            dict(texts=[text, text], batch_size=1, constrain=True, min_confidence=0.5, tokenizer=None),
        ),
        Call(f"{owner}.encode", model.encode, dict(sentences=S, documents=None)),
        Call(
            f"{owner}.decode_sentences",
            model.decode_sentences,
            dict(sentences=S, constrain=True, entities=False, windows=None, documents=None),
        ),
        Call(f"{owner}.scores", model.scores, dict(sentences=S, windows=None, documents=None)),
        Call(f"{owner}.decoder", model.decoder, dict(constrain=True)),
        Call(f"{owner}.check_fitted", model.check_fitted, {}),
        Call(f"{owner}.documents_as_read", model.documents_as_read, dict(documents=None, n_sentences=3)),
    ]


def _gradcheck_problem() -> dict:
    from windowclf.nn.gradcheck import random_problem

    net, ids, y = random_problem(dim=2, window=3, hidden=2, batch=2, seed=0)
    return {"network": net, "ids": ids, "y": y}


def _backward_args(w) -> dict:
    fw = w["network"].forward(w["ids"])
    return {"fw": fw, "delta2": np.zeros((len(w["y"]), w["network"].n_outputs), dtype=w["network"].dtype)}


# ------------------------------------------------------------------------------ the contract

ANSWERS = (TypeError, ValueError)  # windowclf's InputError, ConfigError, ModelFileError are ValueErrors


def _check(entry: Call, replaced: dict) -> None:
    """Call ``entry`` with ``replaced`` arguments; the contract of the module docstring."""
    args = dict(entry.args)
    if entry.fresh is not None:
        args.update(entry.fresh())
    args.update(replaced)
    detail = f"{entry.name}({', '.join(f'{k}={v!r:.60}' for k, v in replaced.items())})"
    try:
        entry.call(**args)
    except ANSWERS + (OSError,) + entry.also as err:
        if isinstance(err, OSError) and not isinstance(err, ANSWERS):
            named = {os.fspath(v) for k, v in replaced.items() if k in entry.paths and isinstance(v, (str, Path))}
            assert os.fspath(err.filename or "") in named, f"{detail}: an OSError about another file: {err!r}"
            return
        if isinstance(err, entry.also) and not isinstance(err, ANSWERS):
            return
        if isinstance(err, windowclf.InputError) and err.path in {
            os.fspath(args[p]) for p in entry.paths if isinstance(args[p], (str, Path))
        }:
            return  # a value of the right kind that the file does not agree with: the file's error
        message = str(err)
        names = set(replaced) | set(entry.names)
        if entry.name.startswith("Settings["):
            names = {entry.name[len("Settings[") : -1]}
        for name, value in replaced.items():  # an error about a file names the file
            if name in entry.paths and isinstance(value, (str, Path)):
                names.add(os.fspath(value))
            elif name in entry.paths and isinstance(value, bytes):
                names.add("<model bytes>")
        assert any(name and name in message for name in names), (
            f"{detail}: {type(err).__name__} does not name the argument: {message[:300]}"
        )
        assert not type(err).__module__.startswith("numpy"), f"{detail}: a numpy error: {err!r}"
    except Exception as err:
        raise AssertionError(f"{detail}: raised {type(err).__name__} from deep inside: {err!s:.300}") from err


@pytest.fixture(scope="module")
def calls(world):
    return _calls(world)


def test_every_public_callable_is_drawn(calls):
    """The table covers every public function of windowclf and every public method of its classes."""
    drawn = {c.name.split("[")[0] for c in calls}
    wanted = set()
    for name in windowclf.__all__:
        obj = getattr(windowclf, name)
        if name in RECORDS or (inspect.isclass(obj) and issubclass(obj, BaseException)):
            continue
        wanted.add(name)
        if inspect.isclass(obj):
            for attr, member in inspect.getmembers(obj):
                if attr.startswith("_") or attr in SKIP_METHODS or isinstance(member, property):
                    continue
                if callable(member):
                    wanted.add(f"{name}.{attr}")
    assert sorted(wanted - drawn) == []


def test_every_valid_call_succeeds(calls, tmp_path, monkeypatch):
    """The table's valid calls are valid: a case's failure is the hostile value's doing."""
    monkeypatch.chdir(tmp_path)
    for entry in calls:
        args = dict(entry.args)
        if entry.fresh is not None:
            args.update(entry.fresh())
        entry.call(**args)


def test_hostile_arguments_raise_errors_that_name_them(calls, world, hostile_examples, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # calls that write (save, export) write here
    values = _values(tmp_path)
    cases = st.sampled_from(calls).flatmap(
        lambda entry: st.tuples(
            st.just(entry),
            st.lists(
                st.tuples(
                    st.sampled_from(sorted(set(entry.args) - set(entry.skip_args)) or ["__none__"]),
                    st.sampled_from(range(len(values))),
                ),
                min_size=1,
                max_size=2,
                unique_by=lambda pair: pair[0],
            ),
        )
    )

    @settings(settings.get_profile("hostile"), max_examples=8 * hostile_examples)
    @given(case=cases)
    def run(case):
        entry, picks = case
        replaced = {name: values[i] for name, i in picks if name != "__none__"}
        if replaced:
            _check(entry, replaced)

    run()


def test_every_argument_with_every_hostile_value(calls, tmp_path, monkeypatch):
    """The exhaustive sweep: each argument of each callable with each hostile value (about 6,000
    calls, a few seconds); the drawn test above tries two at once."""
    monkeypatch.chdir(tmp_path)
    failures = []
    for entry in calls:
        for name in sorted(set(entry.args) - set(entry.skip_args)):
            for value in _values(tmp_path):
                try:
                    _check(entry, {name: value})
                except AssertionError as err:
                    failures.append(str(err).splitlines()[0])
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:80])
