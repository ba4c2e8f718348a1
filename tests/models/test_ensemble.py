"""Ensembles: k models averaged as one, their one model file, and the commands that read it."""

from __future__ import annotations

import json
import os
import pickle
import pickletools

import numpy as np
import pytest
from support import SAMPLE, run

import windowclf.inference.prediction
from windowclf import Ensemble, load_any
from windowclf.errors import ConfigError, ModelFileError
from windowclf.formats.conll import read_conll
from windowclf.inference.decoding import Decoder
from windowclf.models.container import ModelFile, save_model_file
from windowclf.models.tagger import WindowTagger
from windowclf.nn.functions import sigmoid, softmax

TRAIN = list(read_conll(SAMPLE / "train.conll"))
DEV = list(read_conll(SAMPLE / "dev.conll"))
SENTENCES, TAGS = [s.tokens for s in TRAIN], [s.tags for s in TRAIN]
DEV_SENTENCES, DEV_TAGS = [s.tokens for s in DEV], [s.tags for s in DEV]

# Each kind of model, as two members that differ in everything an ensemble lets differ.
KINDS = {
    "sll": dict(decoder="sll", scheme="IOBES"),
    "softmax": dict(scheme="IOB2"),
    "sigmoid": dict(output="sigmoid", positive_tag="LOC"),
}
SHAPES = [
    dict(seed=0, window=3, dim=10, hidden=20, features=["caps"]),
    dict(seed=1, window=5, dim=12, hidden=16, features=["caps", "suffix3"], lowercase=False),
]


def fit(dtype="float32", **settings) -> WindowTagger:
    return WindowTagger(epochs=2, dtype=dtype, **settings).fit(SENTENCES, TAGS)


@pytest.fixture(scope="module")
def models() -> dict:
    """kind -> two trained float64 members of different shapes and vocabularies."""
    return {kind: [fit("float64", **shape, **settings) for shape in SHAPES] for kind, settings in KINDS.items()}


@pytest.fixture(scope="module")
def files(models, tmp_path_factory) -> dict:
    """Model and ensemble files: m0.npz, m1.npz (softmax), one.npz (ensemble of m0), two.npz."""
    where = tmp_path_factory.mktemp("ensemble")
    a, b = models["softmax"]
    a.save(where / "m0.npz")
    b.save(where / "m1.npz")
    Ensemble([a]).save(where / "one.npz")
    Ensemble([a, b]).save(where / "two.npz")
    models["sll"][0].save(where / "sll.npz")
    Ensemble([models["sll"][0]]).save(where / "sll-one.npz")
    return {p.stem: p for p in where.iterdir()}


def one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# ------------------------------------------------------------------------- averaging


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_an_ensemble_of_one_model_predicts_what_the_model_predicts(kind):
    model = fit(**SHAPES[0], **KINDS[kind])  # float32, the default
    alone, one = (
        model.predict(DEV_SENTENCES, confidences=True),
        Ensemble([model]).predict(DEV_SENTENCES, confidences=True),
    )
    assert [tags for tags, _ in one] == [tags for tags, _ in alone]
    assert [[(e.label, e.token_start, e.token_end) for e in c] for _, c in one] == [
        [(e.label, e.token_start, e.token_end) for e in c] for _, c in alone
    ]
    if kind == "sll":  # the same chain, bit for bit
        assert one == alone
        for p, q in zip(Ensemble([model]).predict_proba(DEV_SENTENCES), model.predict_proba(DEV_SENTENCES)):
            assert p.dtype == q.dtype and np.array_equal(p, q)
    else:  # log(mean p) of one model is log softmax(z2), to rounding
        for (_, c), (_, d) in zip(one, alone):
            assert all(abs(x.confidence - y.confidence) <= 1e-12 for x, y in zip(c, d))
    assert (
        Ensemble([model]).evaluate(DEV_SENTENCES, DEV_TAGS)["counts"]
        == model.evaluate(DEV_SENTENCES, DEV_TAGS)["counts"]
    )


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_two_models_average_what_their_decoders_read_and_decode_it(kind, models):
    a, b = models[kind]
    ensemble = Ensemble([a, b])
    full = [s for s in DEV_SENTENCES if s]
    lengths = [len(s) for s in full]
    z = [m.scores(full).astype(np.float64) for m in (a, b)]  # each member with its own vocabularies
    if kind == "sll":
        E = (z[0] + z[1]) / 2
        A, A0 = ((a.network.params[n].astype(np.float64) + b.network.params[n]) / 2 for n in ("A", "A0"))
        decoder = Decoder(a.tags, "IOBES", transitions=(A, A0))
    elif kind == "softmax":
        p = (softmax(z[0]) + softmax(z[1])) / 2
        E, decoder = np.log(p), Decoder(a.tags, "IOB2")
        unconstrained = np.concatenate(ensemble.predict_proba(full, constrain=False))
        np.testing.assert_allclose(unconstrained, p, rtol=0, atol=1e-12)
    else:
        h = (sigmoid(z[0][:, 0]) + sigmoid(z[1][:, 0])) / 2
        E, decoder = (np.log(h) - np.log1p(-h))[:, None], Decoder(a.tags, "IO", output="sigmoid")
        np.testing.assert_allclose(np.concatenate(ensemble.predict_proba(full))[:, 1], h, rtol=0, atol=1e-12)
    flat = decoder.decode(E, lengths)
    expected = np.split(np.array(a.tags)[flat], np.cumsum(lengths)[:-1])
    got = ensemble.predict(full, confidences=True)
    assert [tags for tags, _ in got] == [list(t) for t in expected]
    for (_, entities), found in zip(got, decoder.entities(E, lengths, flat)):
        assert [(e.token_start, e.token_end) for e in entities] == [(s, e) for _, s, e, _ in found]
        assert all(abs(e.confidence - c) <= 1e-12 for e, (_, _, _, c) in zip(entities, found))
    np.testing.assert_allclose(
        np.concatenate(ensemble.predict_proba(full)), decoder.marginals(E, lengths), rtol=0, atol=1e-12
    )
    assert Ensemble([Ensemble([a]), b]).members == (a, b)  # an ensemble given as a member adds its models


def test_scores_do_not_depend_on_the_thread_count(models, monkeypatch):
    ensemble = Ensemble(models["softmax"])
    two = ensemble.scores(DEV_SENTENCES)
    monkeypatch.setattr(windowclf.inference.prediction, "_SCORE_THREADS", 1)
    assert np.array_equal(ensemble.scores(DEV_SENTENCES), two)


def test_evaluate_tag_text_and_call_run_on_the_averaged_model(models):
    ensemble = Ensemble(models["softmax"])
    result = ensemble.evaluate(DEV_SENTENCES, DEV_TAGS)  # through evaluation.Scorer and encode
    assert result["predicted"] == ensemble.predict(DEV_SENTENCES, scheme="IOB2")
    text = "Anna Keller flew from Oslo to Lyon."
    assert ensemble(text) == ensemble.tag_text(text)
    assert ensemble.predict_entities([[], ["Oslo"]])[0] == []


# ------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "change, fragment",
    [
        (dict(scheme="IOBES"), "its scheme (IOBES, not IOB2)"),
        (dict(scheme="IOB2", decoder="sll"), "its decoder (sll, not softmax)"),
        (dict(output="sigmoid", positive_tag="LOC"), "its output (sigmoid, not softmax)"),
        (dict(scheme="IOB2", doc_vote=2.0), "its doc_vote (2.0, not 0.0)"),
        ("tags", "its tags (not B-MISC I-MISC)"),
    ],
)
def test_models_that_predict_differently_are_refused_naming_the_difference(change, fragment, models):
    first = models["softmax"][0]
    if change == "tags":  # trained without the MISC type
        other = WindowTagger(epochs=1, scheme="IOB2").fit(
            SENTENCES, [[t if "MISC" not in t else "O" for t in tags] for tags in TAGS]
        )
    else:
        other = fit(**{**SHAPES[1], **change})
    with pytest.raises(
        ConfigError, match="model 2 differs from model 1 in " + fragment.replace("(", r"\(").replace(")", r"\)")
    ):
        Ensemble([first, other])


def test_other_positive_tags_empty_lists_and_untrained_models_are_refused(models):
    loc, per = models["sigmoid"][0], fit(**SHAPES[0], output="sigmoid", positive_tag="PER")
    with pytest.raises(ConfigError, match=r"its positive tag \(PER, not LOC\)"):
        Ensemble([loc, per])
    with pytest.raises(ConfigError, match="at least one"):
        Ensemble([])
    with pytest.raises(ConfigError, match="not trained"):
        Ensemble([loc, WindowTagger()])
    with pytest.raises(TypeError, match="list of models"):
        Ensemble(loc)


# ------------------------------------------------------------------------- the file


def test_an_ensemble_file_round_trips_to_identical_predictions(models, files, tmp_path):
    ensemble = Ensemble(models["sll"])
    path = tmp_path / "sll-two.npz"
    ensemble.save(path)
    with ModelFile(path) as f:
        assert sorted(f.headers)[0].startswith("member0/param/") and all(
            name.split("/")[1] == "param" for name in f.headers
        )
        assert [m["settings"]["window"] for m in f.metadata["ensemble"]["members"]] == [3, 5]
    for again in (Ensemble.load(path), load_any(path), load_any(path.read_bytes())):
        assert isinstance(again, Ensemble)
        assert again.predict(DEV_SENTENCES, confidences=True) == ensemble.predict(DEV_SENTENCES, confidences=True)
        assert all(
            np.array_equal(p, q)
            for p, q in zip(again.predict_proba(DEV_SENTENCES), ensemble.predict_proba(DEV_SENTENCES))
        )
    assert again.to_bytes() == path.read_bytes()  # saving is deterministic
    assert isinstance(load_any(files["m0"]), WindowTagger)
    single = Ensemble.load(files["m0"])  # a single model's file: an ensemble of that model
    assert len(single.members) == 1 and single.predict(DEV_SENTENCES) == models["softmax"][0].predict(DEV_SENTENCES)
    with pytest.raises(ModelFileError, match=r"an ensemble of 2 models .*load_any or Ensemble.load"):
        WindowTagger.load(path)


def _damaged(tmp_path, name, arrays, meta):
    path = tmp_path / name
    save_model_file(path, arrays, meta)
    return path


def test_a_damaged_ensemble_file_is_one_model_file_error_naming_it(models, files, tmp_path, monkeypatch):
    arrays, meta = Ensemble(models["softmax"])._contents()
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(files["two"].read_bytes()[: files["two"].stat().st_size // 2])
    wrong_shape = dict(arrays, **{"member1/param/W1": np.zeros((3, 4))})
    lying = json.loads(json.dumps(meta))
    lying["ensemble"]["members"][1]["settings"]["hidden"] = 7
    disagreeing = json.loads(json.dumps(meta))
    disagreeing["ensemble"]["members"][1]["tags"][1] = "B-FOO"
    cases = {
        "truncated": (truncated, "truncated|zip"),
        "wrong-shape": (
            _damaged(tmp_path, "shape.npz", wrong_shape, meta),
            r"member 1: array param/W1 has shape \(3, 4\), expected \(16, ",
        ),
        "lying": (
            _damaged(tmp_path, "lying.npz", arrays, lying),
            r"member 1: array param/\w+ has shape .*16.*expected .*7",
        ),
        "missing": (
            _damaged(tmp_path, "missing.npz", {k: v for k, v in arrays.items() if k != "member0/param/b2"}, meta),
            "member 0: missing array param/b2",
        ),
        "stray": (
            _damaged(tmp_path, "stray.npz", dict(arrays, **{"member2/param/W1": np.zeros(2)}), meta),
            "unexpected array in model file: member2/param/W1",
        ),
        "disagreeing": (
            _damaged(tmp_path, "disagree.npz", arrays, disagreeing),
            "member 1 differs from member 0 in its tags",
        ),
        "no-members": (_damaged(tmp_path, "empty.npz", {}, {"ensemble": {"members": []}}), "ensemble.members"),
    }
    reads = []
    monkeypatch.setattr(ModelFile, "read", lambda self, name: reads.append(name))
    for case, (path, message) in cases.items():
        for load in (load_any, Ensemble.load):
            with pytest.raises(ModelFileError, match=message) as caught:
                load(path)
            assert str(caught.value).startswith(f"{path}: "), case
    assert reads == []  # every shape, and the members' agreement, checked before any array is read
    monkeypatch.undo()
    for path, _ in cases.values():
        one_line_error(run("predict", "-m", path, SAMPLE / "example.txt"), str(path))
        one_line_error(run("info", path), str(path))


def test_an_ensemble_pickles_as_its_model_file_and_nothing_else(models):
    ensemble = Ensemble(models["sigmoid"])
    payload = pickle.dumps(ensemble)
    names = [arg for op, arg, _ in pickletools.genops(payload) if isinstance(arg, str) and len(arg) < 40]
    assert "windowclf.models.ensemble" in names and "load" in names and "numpy" not in " ".join(names)
    again = pickle.loads(payload)
    assert again.predict(DEV_SENTENCES, confidences=True) == ensemble.predict(DEV_SENTENCES, confidences=True)
    assert pickle.dumps(again) == payload


# ------------------------------------------------------------------------- commands


def test_the_ensemble_command_writes_a_file_predict_evaluate_and_info_read(files, tmp_path):
    out = tmp_path / "runs" / "ens.npz"
    result = run("ensemble", "-o", out, files["m0"], files["m1"])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip().splitlines() == [f"wrote {out}: an ensemble of 2 models, {out.stat().st_size:,} bytes"]
    assert out.read_bytes() == files["two"].read_bytes()
    ensemble = load_any(out)
    predicted = run("predict", "-m", out, "--input", "conll", SAMPLE / "dev.conll")
    assert predicted.exit_code == 0, predicted.output
    assert [line.split("\t")[-1] for line in predicted.stdout.split("\n\n")[0].splitlines()] == ensemble.predict(
        DEV_SENTENCES[:1]
    )[0]
    report = run("evaluate", "-m", out, SAMPLE / "dev.conll")
    assert report.exit_code == 0 and report.stdout.startswith("processed ")
    info = run("info", out)
    assert info.exit_code == 0 and info.stdout.startswith(
        f"ensemble:    {out}: 2 models, tagging with the mean of the probabilities"
    )
    assert info.stdout.count("member ") >= 2
    summary = json.loads(run("info", "--json", out).stdout)
    assert summary["ensemble"] and len(summary["members"]) == 2 and summary["tags"] == ensemble.tags
    one_line_error(run("info", "--toml", out), "--toml", "an ensemble of 2 models")
    nested = run("ensemble", "-o", tmp_path / "three.npz", out, files["m0"])  # an ensemble adds its models
    assert nested.exit_code == 0 and "an ensemble of 3 models" in nested.stderr


def test_evaluate_of_a_one_model_ensemble_prints_the_models_report(files):
    for model, ensemble, flags in (
        (files["m0"], files["one"], ()),
        (files["sll"], files["sll-one"], ("--calibration", "--token-f1")),
    ):
        alone = run("evaluate", "-m", model, SAMPLE / "dev.conll", *flags)
        joined = run("evaluate", "-m", ensemble, SAMPLE / "dev.conll", *flags)
        assert alone.exit_code == joined.exit_code == 0
        assert joined.stdout == alone.stdout


def test_an_output_that_is_one_of_the_inputs_is_refused_without_changing_it(files, tmp_path):
    before = files["m1"].read_bytes()
    one_line_error(run("ensemble", "-o", files["m1"], files["m0"], files["m1"]), "is the input MODEL 2")
    link = tmp_path / "link.npz"
    link.symlink_to(files["m1"])
    one_line_error(run("ensemble", "-o", link, files["m0"], files["m1"]), "is the input MODEL 2")
    assert files["m1"].read_bytes() == before


def test_models_that_disagree_are_refused_by_the_command_naming_the_file(files, tmp_path):
    result = run("ensemble", "-o", tmp_path / "bad.npz", files["m0"], files["sll"])
    one_line_error(result, f"{files['sll']}: differs from {files['m0']} in its decoder (sll, not softmax)")
    assert not (tmp_path / "bad.npz").exists()


def test_resume_and_exports_of_an_ensemble_are_one_line_errors(files, tmp_path):
    resumed = run(
        "train",
        SAMPLE / "train.conll",
        "--resume",
        files["two"],
        "-o",
        tmp_path / "r.npz",
        "--epochs",
        "3",
        "--no-progress",
    )
    one_line_error(resumed, str(files["two"]), "an ensemble of 2 models")
    for command in ("export-embeddings", "export-model"):
        one_line_error(
            run(command, "-m", files["two"], "-o", tmp_path / "x.out"), str(files["two"]), "an ensemble of 2 models"
        )
    assert sorted(os.listdir(tmp_path)) == []


def test_predict_into_an_output_dir_tags_with_an_ensemble_as_predict_does(files, tmp_path):
    example = SAMPLE / "example.txt"
    printed = run("predict", "-m", files["two"], "--format", "json", example)
    written = run("predict", "-m", files["two"], "--format", "json", "--output-dir", tmp_path / "out", example)
    assert printed.exit_code == written.exit_code == 0, written.output
    assert (tmp_path / "out" / "example.txt.jsonl").read_text(encoding="utf-8") == printed.stdout
