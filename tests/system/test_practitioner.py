"""What a practitioner expects on day one, through the command line and the library: JSON lines
in both forms, prediction formats, options that would do nothing refused, what train says and
what a model file records, and model files that hold what prediction needs.

(Settings, presets and aliases: tests/config/test_settings_and_presets.py; sentence modes:
tests/text/test_sentence_modes.py.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import PLOT_EXTRA, SAMPLE, run

import windowclf.errors as windowclf_errors
from windowclf import WindowTagger
from windowclf.formats.jsonl import read_jsonl

# --- formats --------------------------------------------------------------------------------------


def test_json_lines_in_both_forms_train_and_evaluate(tmp_path):
    hub = tmp_path / "hub.jsonl"
    hub.write_text(
        '{"tokens": ["Anna", "lives", "in", "Oslo"], "ner_tags": [1, 0, 0, 3]}\n'
        '{"tokens": ["Oslo", "is", "cold"], "ner_tags": [3, 0, 0]}\n',
        encoding="utf-8",
    )
    sents, tags, _ = read_jsonl(hub, labels=["O", "B-PER", "I-PER", "B-LOC"])
    assert tags == [["B-PER", "O", "O", "B-LOC"], ["B-LOC", "O", "O"]]
    spans = tmp_path / "spans.jsonl"
    spans.write_text(
        json.dumps(
            {
                "text": "Anna Keller lives in Oslo. Rome is far.",
                "entities": [[0, 11, "PER"], [21, 25, "LOC"], [27, 31, "LOC"], [2, 3, "X"]],
            }
        )
        + "\n"
        + json.dumps({"text": "Peter works.", "entities": [{"start": 0, "end": 5, "label": "PER"}]})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(windowclf_errors.InputError, match="overlaps"):
        read_jsonl(spans)
    spans.write_text(
        json.dumps(
            {
                "text": "Anna Keller lives in Oslo. Rome is far.",
                "entities": [[0, 11, "PER"], [21, 25, "LOC"], [27, 31, "LOC"], [33, 34, "X"]],
            }
        )
        + "\n"
        + json.dumps({"text": "Peter works.", "entities": [{"start": 0, "end": 5, "label": "PER"}]})
        + "\n",
        encoding="utf-8",
    )
    sents, tags, report = read_jsonl(spans)
    assert sents[0] == ["Anna", "Keller", "lives", "in", "Oslo", "."] and tags[0] == [
        "B-PER",
        "I-PER",
        "O",
        "O",
        "B-LOC",
        "O",
    ]
    assert tags[1] == ["B-LOC", "O", "O", "O"] and tags[2] == ["B-PER", "O", "O"]
    assert report.unaligned == 1 and report.entities == 4  # "s" of "is" is not a token
    model = tmp_path / "m.npz"
    result = run(
        "train",
        hub,
        "--labels",
        "O,B-PER,I-PER,B-LOC",
        "--dev",
        spans,
        "-o",
        model,
        "--epochs",
        2,
        "--no-progress",
        "--dim",
        10,
        "--hidden",
        10,
    )
    assert result.exit_code == 0, result.output
    assert "1 of 5 entities do not fall on token boundaries" in result.stderr
    scored = run("evaluate", "-m", model, spans, "--json")
    assert scored.exit_code == 0 and "f1" in json.loads(scored.stdout.strip().splitlines()[-1])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"tokens": ["a"], "ner_tags": ["O"]}\n{"tokens": ["a", "b"], "ner_tags": ["O"]}\n')
    out = run("train", bad, "-o", tmp_path / "x.npz", "--no-progress")
    assert out.exit_code == 2 and "bad.jsonl:2:" in out.stderr


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fmt") / "m.npz"
    assert (
        run("train", SAMPLE / "train.conll", "-o", path, "--epochs", 3, "--scheme", "IOB2", "--no-progress").exit_code
        == 0
    )
    return path


def test_prediction_formats_entities_and_the_two_json_forms(model_file):
    text = "Anna  Keller flew from\nOslo to Lyon.   Then Peter Berg\tcame .\n"
    inline = run("predict", "-m", model_file, "--format", "inline", input=text).stdout.splitlines()
    assert "Anna  Keller" in inline[0]  # its two spaces kept
    assert all("\n" not in line for line in inline) and len(inline) == 2
    assert "\t" in inline[1]
    entities = [
        json.loads(x) for x in run("predict", "-m", model_file, "--format", "entities", input=text).stdout.splitlines()
    ]
    assert all(text[e["char_start"] : e["char_end"]] == e["text"] and "confidence" in e for e in entities)
    spans = [
        json.loads(x)
        for x in run("predict", "-m", model_file, "--format", "spans-json", input=text).stdout.splitlines()
    ]
    tokens = [
        json.loads(x)
        for x in run("predict", "-m", model_file, "--format", "tokens-json", input=text).stdout.splitlines()
    ]
    assert [len(s["entities"]) for s in spans] == [sum(t.startswith("B-") for t in r["ner_tags"]) for r in tokens]
    for record in spans:
        for start, end, _ in record["entities"]:
            assert record["text"][start:end].strip() == record["text"][start:end]


def test_predict_reads_a_conll_file_as_one_and_says_so(model_file):
    conll = run("predict", "-m", model_file, SAMPLE / "dev.conll")
    assert conll.exit_code == 0
    assert "looks like a CoNLL column file" in conll.stderr
    explicit = run("predict", "-m", model_file, "--input", "conll", SAMPLE / "dev.conll")
    assert conll.stdout == explicit.stdout
    text = run("predict", "-m", model_file, SAMPLE / "example.txt")
    assert "CoNLL" not in text.stderr


def test_predict_takes_one_sentence_or_paragraph_per_line(model_file):
    text = "Barack Obama visited Paris\nAngela Merkel stayed in Berlin\n"
    default = run("predict", "-m", model_file, "--format", "json", input=text).stdout.splitlines()
    per_line = run(
        "predict", "-m", model_file, "--format", "json", "--sentence-per-line", input=text
    ).stdout.splitlines()
    assert len(default) == 1 and len(per_line) == 2
    assert [json.loads(x)["tokens"][-1] for x in per_line] == ["Paris", "Berlin"]
    paragraphs = run("predict", "-m", model_file, "--format", "json", "--paragraph-per-line", input=text)
    assert len(paragraphs.stdout.splitlines()) == 2


# --- options that would do nothing, and what train says ---------------------------------------------


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--patience", "2"], "--patience stops on dev F1"),
        (["--keep-pretrained-vocab"], "--keep-pretrained-vocab chooses which words of --embeddings"),
        (["--no-keep-pretrained-vocab"], "--no-keep-pretrained-vocab chooses which words of --embeddings"),
        (["--freeze-embeddings", "--lr-embeddings", "0.01"], "--lr-embeddings does nothing"),
        (["--epochs", "0"], "--epochs 0 trains nothing"),
    ],
)
def test_options_that_would_be_ignored_are_errors(tmp_path, args, fragment):
    result = run("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--no-progress", *args)
    assert result.exit_code == 2 and fragment in result.stderr, result.output
    assert not (tmp_path / "m.npz").exists()


def test_train_says_what_it_reads_where_the_time_goes_and_why_it_stopped(tmp_path):
    result = run(
        "train",
        SAMPLE / "train.conll",
        "--dev",
        SAMPLE / "dev.conll",
        "-o",
        tmp_path / "runs" / "m.npz",
        "--epochs",
        30,
        "--patience",
        1,
        "--lr",
        2.0,
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    assert "training data: " in result.stdout and "326 sentences, 4,113 tokens" in result.stdout
    assert "entities (LOC, MISC, ORG, PER)" in result.stdout and "dev data: " in result.stdout
    assert result.stderr == ""
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert all("(train " in line and ", dev " in line for line in epoch_lines)
    # saved when dev F1 improves (the * of a new best), and only then
    assert all((", save " in line) == (" * " in line) for line in epoch_lines)
    assert len(epoch_lines) < 30 and "stopped early after epoch" in result.stdout


def test_the_model_records_what_it_was_made_from(tmp_path, monkeypatch):
    import hashlib

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = tmp_path / "c.toml"
    config.write_text("hidden = 12\nepochs = 1\n", encoding="utf-8")
    model = tmp_path / "m.npz"
    result = run(
        "train",
        SAMPLE / "train.conll",
        "--dev",
        SAMPLE / "dev.conll",
        "-o",
        model,
        "--config",
        config,
        "--preset",
        "default",
        "--no-progress",
    )
    assert result.exit_code == 0, result.output
    made = WindowTagger.load(model).provenance
    assert made["train"] == {
        "name": str(SAMPLE / "train.conll"),
        "sha256": hashlib.sha256((SAMPLE / "train.conll").read_bytes()).hexdigest(),
    }
    assert made["dev"]["name"].endswith("dev.conll") and made["settings_file"]["name"] == str(config)
    assert made["preset"] == "default" and made["created"] == "2023-11-14T22:13:20+00:00"
    assert {"windowclf", "numpy", "python"} <= set(made)
    info = run("info", model).stdout
    assert "made from:" in info and "train.conll (sha256 " in info


def test_json_offsets_index_the_text_as_read_with_bom_and_crlf(model_file, tmp_path):
    path = tmp_path / "news.txt"
    path.write_bytes("\ufeffAnna Keller flew to Oslo .\r\nThen Peter Berg came .\r\n".encode("utf-8"))
    out = run("predict", "-m", model_file, "--format", "json", path)
    with open(path, encoding="utf-8-sig", newline="") as f:
        text = f.read()
    entities = [e for line in out.stdout.splitlines() for e in json.loads(line)["entities"]]
    assert entities
    for e in entities:
        assert text[e["char_start"] : e["char_end"]] == e["text"]


# --- model files ----------------------------------------------------------------------------------


def test_the_pretrained_matrix_is_stored_as_its_changed_rows_and_comes_back_bit_for_bit(tmp_path):
    from windowclf import WordVectors
    from windowclf.models.container import load_model_file

    rng = np.random.default_rng(0)
    sents = [["Anna", "lives", "in", "Oslo", "."]] * 20
    tags = [["PER", "O", "O", "LOC", "O"]] * 20
    words = [f"w{i}" for i in range(3000)] + ["anna", "lives", "in", "oslo", "."]
    vectors = WordVectors(words, rng.normal(size=(len(words), 8)).astype(np.float32))
    tagger = WindowTagger(dim=8, hidden=6, epochs=2, seed=0, keep_pretrained_vocab=True)
    tagger.fit(sents, tags, embeddings=vectors)
    tagger.save(tmp_path / "m.npz")
    arrays, meta = load_model_file(tmp_path / "m.npz")
    assert "initial/L" not in arrays and 0 < meta["initial_rows"] < 20  # the few rows training moved
    back = WindowTagger.load(tmp_path / "m.npz")
    assert back.initial_vectors.tobytes() == tagger.initial_vectors.tobytes()
    full = (tmp_path / "m.npz").stat().st_size
    result = run("export-model", "-m", tmp_path / "m.npz", "-o", tmp_path / "slim.npz")
    assert result.exit_code == 0, result.output
    slim_arrays, slim_meta = load_model_file(tmp_path / "slim.npz")
    assert not any(k.startswith(("state/", "initial/")) for k in slim_arrays) and "state" not in slim_meta
    assert (tmp_path / "slim.npz").stat().st_size < full
    assert WindowTagger.load(tmp_path / "slim.npz").predict(sents[:1]) == tagger.predict(sents[:1])


def test_train_slim_writes_a_prediction_only_model(tmp_path):
    from windowclf.models.container import load_model_file

    result = run("train", SAMPLE / "train.conll", "-o", tmp_path / "m.npz", "--epochs", 2, "--slim", "--no-progress")
    assert result.exit_code == 0, result.output
    arrays, meta = load_model_file(tmp_path / "m.npz")
    assert "state" not in meta and not any(k.startswith("state/") for k in arrays)
    again = run("train", SAMPLE / "train.conll", "--resume", tmp_path / "m.npz", "--epochs", 3, "--no-progress")
    assert again.exit_code == 2 and "no training state" in again.stderr


def test_info_reads_the_metadata_and_headers_but_no_array(model_file, monkeypatch):
    from windowclf.models import container as persistence

    def refuse(*args, **kwargs):
        raise AssertionError("info read an array")

    monkeypatch.setattr(persistence.ModelFile, "read", refuse)
    monkeypatch.setattr(persistence.ModelFile, "read_all", refuse)
    result = run("info", model_file)
    assert result.exit_code == 0, result.output
    assert "parameters:" in result.stdout and "W1 " in result.stdout
    assert run("info", "--toml", model_file).exit_code == 0


def test_plot_takes_a_model_file_for_its_history(model_file, tmp_path):
    pytest.importorskip("matplotlib", reason=PLOT_EXTRA)
    result = run("plot", model_file, "-o", tmp_path / "curves.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tagging_loads_only_the_weights(tmp_path):
    from windowclf.models import container as persistence

    sents = [["Anna", "lives", "in", "Oslo", "."]] * 20
    tags = [["PER", "O", "O", "LOC", "O"]] * 20
    tagger = WindowTagger(epochs=2, seed=0, optimizer="adagrad").fit(sents, tags)
    tagger.save(tmp_path / "m.npz")
    read = []
    original = persistence.ModelFile.read

    def spy(self, name):
        read.append(name)
        return original(self, name)

    import unittest.mock

    with unittest.mock.patch.object(persistence.ModelFile, "read", spy):
        light = WindowTagger.load(tmp_path / "m.npz", training_state=False)
    assert read and all(name.startswith("param/") for name in read)
    assert light.training_state is None and light.predict(sents[:2]) == tagger.predict(sents[:2])
    assert WindowTagger.load(tmp_path / "m.npz").training_state is not None
