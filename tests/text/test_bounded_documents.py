"""Documents of a file reach a model in pieces of at most MAX_DOCUMENT_CHARS characters of tokens
(text.inputs.bounded_documents), for predict and tag_text alike."""

from __future__ import annotations

import pytest
from support import SAMPLE, run

import windowclf.text.inputs as inputs
from windowclf.formats.conll import read_conll
from windowclf.models.tagger import WindowTagger
from windowclf.text.inputs import bounded_documents
from windowclf.text.tokenize import split_sentences


def test_a_document_past_the_limit_goes_on_in_its_next_piece():
    sentences = [["ab", "cd"], ["e"], ["fgh"], ["i"], ["j"]]
    assert bounded_documents(sentences, [0, 0, 0, 1, 0], limit=4) == [(0, 0), (0, 1), (0, 1), (1, 0), (0, 2)]
    pieces: dict = {}  # a stream, sentence by sentence: the same pieces
    streamed = [bounded_documents([s], [d], limit=4, pieces=pieces)[0] for s, d in zip(sentences, [0, 0, 0, 1, 0])]
    assert streamed == bounded_documents(sentences, [0, 0, 0, 1, 0], limit=4)


@pytest.fixture(scope="module")
def reading_model():
    train = list(read_conll(SAMPLE / "train.conll"))
    return WindowTagger(dim=16, hidden=20, epochs=2, seed=0, features=["caps", "doccase"], doc_vote=2.0).fit(
        [s.tokens for s in train], [s.tags for s in train]
    )


def test_predict_and_tag_text_read_a_long_text_in_the_same_pieces(reading_model, tmp_path, monkeypatch):
    monkeypatch.setattr(inputs, "MAX_DOCUMENT_CHARS", 400)
    text = "\n".join(" ".join(s.tokens) for s in read_conll(SAMPLE / "dev.conll"))
    path = tmp_path / "news.txt"
    path.write_text(text, encoding="utf-8")
    reading_model.save(tmp_path / "m.npz")
    result = run("predict", "-m", tmp_path / "m.npz", "--jobs", "1", path)
    assert result.exit_code == 0, result.output
    predicted = [line.split("\t")[-1] for line in result.stdout.splitlines() if line.strip()]
    sentences = [[t.text for t in s] for s in split_sentences(text)]
    documents = bounded_documents(sentences, [0] * len(sentences))
    assert len(set(documents)) > 3
    expected = reading_model.predict(sentences, documents=documents)
    assert predicted == [t for s in expected for t in s]
    assert expected != reading_model.predict(sentences), "the pieces must change something for the test to see"
    found = {(e.char_start, e.char_end, e.label) for e in reading_model.tag_text(text)}
    spans = split_sentences(text)
    mine = {
        (spans[i][e.token_start].start, spans[i][e.token_end - 1].end, e.label)
        for i, ents in enumerate(reading_model.predict_entities(sentences, documents=documents))
        for e in ents
    }
    assert found == mine
