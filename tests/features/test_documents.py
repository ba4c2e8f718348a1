"""Document features: documents from -DOCSTART- lines or the input itself, the same everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from support import SAMPLE, run

from windowclf import WindowTagger, read_conll
from windowclf.errors import InputError
from windowclf.features.documents import document_case_keys
from windowclf.formats.conll import parse


def _with_documents(path, out, every=15):
    """The sample's dev file cut into documents of ``every`` sentences by -DOCSTART- lines."""
    from windowclf.formats.conll import Sentence, write_conll

    dev = list(read_conll(path))
    marked = []
    for i, s in enumerate(dev):
        if i % every == 0:
            marked.append(Sentence(["-DOCSTART-"], ["O"], columns=[["-DOCSTART-"] + ["O"] * (len(s.columns[0]) - 1)]))
        marked.append(s)
    write_conll(out, marked)
    return out


def _docs():
    text = (
        "-DOCSTART- O\n\nJAPAN B-LOC\nWIN O\n\nJapan B-LOC\nbeat O\nSyria B-LOC\n\n"
        "-DOCSTART- O\n\nJAPAN B-ORG\nWIN O\n\n"
    )
    return parse(text)


def test_the_reader_numbers_documents_by_their_docstart_lines():
    assert [s.document for s in _docs()] == [1, 1, 2]
    assert [s.document for s in parse("a O\n\nb O\n")] == [0, 0]


def test_a_words_document_case_comes_from_its_own_document_only():
    sentences = [s.tokens for s in _docs()]
    keys = document_case_keys(sentences, [1, 1, 2])
    assert keys[0][0] == "none"  # "Japan" is a sentence's first word in document 1: it tells nothing
    assert document_case_keys([["JAPAN"], ["in", "Japan"]], [0, 0])[0] == ["Title"]
    assert document_case_keys([["JAPAN"], ["in", "Japan"]], [0, 1])[0] == ["none"]


def _trained(**settings):
    train = list(read_conll(SAMPLE / "train.conll"))
    return WindowTagger(features=["caps", "doccase"], epochs=3, seed=0, **settings).fit(
        [s.tokens for s in train], [s.tags for s in train], documents=[s.document for s in train]
    )


def test_documents_change_a_models_input_and_default_to_one_document_per_call():
    tagger = _trained()
    sentences = [["WORLD", "NEWS"], ["The", "World", "Bank", "said"]]
    together = tagger.encode(sentences)
    apart = tagger.encode(sentences, documents=[0, 1])
    column = tagger.settings.features.index("doccase") + 1  # after the word table
    assert not np.array_equal(together[column], apart[column])
    assert np.array_equal(together[column], tagger.encode(sentences, documents=["d", "d"])[column])
    assert tagger.predict(sentences) == tagger.predict(sentences, documents=[7, 7])


def test_documents_must_be_one_per_sentence():
    tagger = _trained()
    with pytest.raises(InputError, match="2 documents for 3 sentences"):
        tagger.predict([["a"], ["b"], ["c"]], documents=[0, 0])
    with pytest.raises(TypeError):
        tagger.predict([["a"]], documents="a")


def test_evaluate_and_predict_read_conll_documents_as_the_library_does(tmp_path):
    tagger = _trained()
    tagger.save(tmp_path / "m.npz")
    path = _with_documents(SAMPLE / "dev.conll", tmp_path / "dev.conll")
    dev = list(read_conll(path))
    assert len({s.document for s in dev}) > 3
    expected = tagger.evaluate([s.tokens for s in dev], [s.tags for s in dev], documents=[s.document for s in dev])
    assert expected["overall"] != tagger.evaluate([s.tokens for s in dev], [s.tags for s in dev])["overall"]
    result = run("evaluate", "-m", tmp_path / "m.npz", path, "--json")
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["f1"] == pytest.approx(expected["overall"]["f1"], abs=1e-9)
    result = run("predict", "-m", tmp_path / "m.npz", "--input", "conll", path)
    predicted = [
        line.split()[-1] for line in result.output.splitlines() if line.strip() and not line.startswith("-DOCSTART-")
    ]
    tags = tagger.predict([s.tokens for s in dev], documents=[s.document for s in dev])
    assert predicted == [t for sentence in tags for t in sentence]


def test_raw_text_is_one_document_for_predict_as_for_tag_text(tmp_path):
    from windowclf.text.tokenize import split_sentences

    tagger = _trained()
    tagger.save(tmp_path / "m.npz")
    text = (SAMPLE / "example.txt").read_text(encoding="utf-8")
    result = run("predict", "-m", tmp_path / "m.npz", SAMPLE / "example.txt")
    assert result.exit_code == 0, result.output
    predicted = [line.split()[-1] for line in result.output.splitlines() if line.strip()]
    sentences = [[t.text for t in s] for s in split_sentences(text)]
    assert predicted == [t for sentence in tagger.predict(sentences) for t in sentence]


def test_document_per_line_makes_each_line_of_raw_text_a_document_for_predict(tmp_path):
    from windowclf.text.tokenize import split_sentences

    tagger = _trained()
    tagger.save(tmp_path / "m.npz")
    dev = list(read_conll(SAMPLE / "dev.conll"))
    # three sentences a line, some lines blank: a document is a line, not a paragraph
    lines = [" ".join(t for s in dev[i : i + 3] for t in s.tokens) for i in range(0, len(dev), 3)]
    text = "".join(line + ("\n\n" if i % 4 == 3 else "\r\n") for i, line in enumerate(lines))
    (tmp_path / "news.txt").write_bytes(text.encode("utf-8"))
    sentences, documents = [], []
    for number, line in enumerate(text.splitlines()):
        for s in split_sentences(line):
            sentences.append([t.text for t in s])
            documents.append(number)
    assert sentences == [[t.text for t in s] for s in split_sentences(text, "document-per-line")]
    per_line = tagger.predict(sentences, documents=documents)
    assert per_line != tagger.predict(sentences), "the sample must show what a line's document changes"
    result = run("predict", "-m", tmp_path / "m.npz", "--document-per-line", tmp_path / "news.txt")
    assert result.exit_code == 0, result.output
    predicted = [line.split()[-1] for line in result.output.splitlines() if line.strip()]
    assert predicted == [t for sentence in per_line for t in sentence]


def test_resume_refuses_the_same_sentences_cut_into_other_documents_when_the_model_reads_them(tmp_path):
    from windowclf.errors import ConfigError

    train = list(read_conll(SAMPLE / "train.conll"))
    tokens, tags = [s.tokens for s in train], [s.tags for s in train]
    documents = [i // 20 for i in range(len(train))]
    for features, refused in ((["caps", "doccase"], True), (["caps"], False)):
        WindowTagger(features=features, epochs=1, seed=0).fit(tokens, tags, documents=documents).save(
            tmp_path / "m.npz"
        )
        tagger = WindowTagger.load(tmp_path / "m.npz")
        tagger.settings.epochs = 2
        if refused:
            with pytest.raises(ConfigError, match="training data differ"):
                tagger.fit(tokens, tags, documents=[i // 10 for i in range(len(train))], resume=True)
        else:  # the documents are not part of what the model learns from
            tagger.fit(tokens, tags, documents=[i // 10 for i in range(len(train))], resume=True)
        again = WindowTagger.load(tmp_path / "m.npz")
        again.settings.epochs = 2
        again.fit(tokens, tags, documents=documents, resume=True)
        assert len(again.history) == 2
    # the command line reads a file's -DOCSTART- lines into the same fingerprint
    path = _with_documents(SAMPLE / "train.conll", tmp_path / "train.conll", every=20)
    result = run("train", path, "-o", tmp_path / "c.npz", "--features", "caps,doccase", "--epochs", 1, "--no-progress")
    assert result.exit_code == 0, result.output
    resumed = run("train", path, "--resume", tmp_path / "c.npz", "--epochs", 2, "--no-progress")
    assert resumed.exit_code == 0, resumed.output
    other = _with_documents(SAMPLE / "train.conll", tmp_path / "other.conll", every=10)
    refused = run("train", other, "--resume", tmp_path / "c.npz", "--epochs", 3, "--no-progress")
    assert refused.exit_code == 2 and "training data differ" in refused.output
