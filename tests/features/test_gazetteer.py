"""The gazetteer feature: the training data's own entity strings, each document's left out in training."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from click.testing import CliRunner
from support import SAMPLE

from windowclf import WindowTagger, read_conll
from windowclf.cli.main import main
from windowclf.errors import ModelFileError
from windowclf.features.gazetteer import MAX_WORDS, Gazetteer
from windowclf.training.resume import ResumeError

SENTENCES = [
    ["New", "York", "beat", "York", "."],
    ["Paris", "and", "New", "York", "Times"],
    ["Jordan", "met", "Jordan", "."],
    ["Jordan", "left", "New", "York", "."],
]
TAGS = [
    ["B-ORG", "I-ORG", "O", "B-LOC", "O"],
    ["B-LOC", "O", "B-ORG", "I-ORG", "I-ORG"],
    ["B-PER", "O", "B-LOC", "O"],
    ["B-LOC", "O", "B-LOC", "I-LOC", "O"],
]


def test_longest_string_first_left_to_right_and_the_most_frequent_type():
    g = Gazetteer.build(SENTENCES, TAGS)
    assert g.types == ["LOC", "ORG", "PER"]
    assert g.counts[("New", "York")] == {"ORG": 1, "LOC": 1}
    assert g.counts[("Jordan",)] == {"PER": 1, "LOC": 2}
    keys = g.keys([["In", "New", "York", "Times", "and", "New", "York", ",", "Jordan", "jordan"]])
    # the three-word string wins over New York; a tie (New York: LOC 1, ORG 1) goes to the first type
    assert keys == [["none", "B-ORG", "I-ORG", "I-ORG", "none", "B-LOC", "I-LOC", "none", "B-LOC", "none"]]
    assert g.keys([[]]) == [[]]
    vocab = g.key_vocabulary()
    assert vocab.index_to_key[:7] == ["none", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def test_training_leaves_out_each_documents_own_entities():
    g = Gazetteer.build(SENTENCES, TAGS)
    documents = ["a", "a", "b", "c"]
    own = g.keys(SENTENCES, documents, TAGS)
    # document a: New York only as the other documents tagged it (LOC in c); "York" and the
    # Times string are a's alone, so they match nothing
    assert own[0] == ["B-LOC", "I-LOC", "none", "none", "none"]
    assert own[1] == ["none", "none", "B-LOC", "I-LOC", "none"]
    # document b: Jordan as c tagged it; document c: as b tagged it (PER 1 against LOC 1: LOC first)
    assert own[2] == ["B-LOC", "none", "B-LOC", "none"]
    assert own[3] == ["B-LOC", "none", "B-ORG", "I-ORG", "none"]
    # without its own tags (new text) every string counts
    assert g.keys(SENTENCES, documents)[0] == ["B-LOC", "I-LOC", "none", "B-LOC", "none"]


def test_training_data_in_one_document_leaves_out_each_sentences_own():
    g = Gazetteer.build(SENTENCES, TAGS)
    one = g.keys(SENTENCES, None, TAGS)
    assert one == g.keys(SENTENCES, [7] * 4, TAGS)
    assert one[2] == ["B-LOC", "none", "B-LOC", "none"]  # its own PER and LOC left out: c's LOC
    assert one[1][0] == "none"  # Paris is tagged in sentence 1 only


def test_a_word_in_capitals_matches_as_its_capitalized_form_as_the_vote_reads_it():
    g = Gazetteer.build(
        [["JAPAN", "beat", "New", "York", "Times", "US", "U.S."]],
        [["B-LOC", "O", "B-ORG", "I-ORG", "I-ORG", "B-LOC", "B-LOC"]],
    )
    assert g.match == "capitals" and ("Japan",) in g.counts and ("New", "York", "Times") in g.counts
    # a headline's capitals match the capitalized string, and back; lowercase words never join
    assert g.keys([["Japan", "and", "NEW", "YORK", "TIMES", "japan", "Us", "U.S.", "u.s."]]) == [
        ["B-LOC", "none", "B-ORG", "I-ORG", "I-ORG", "none", "B-LOC", "B-LOC", "none"]
    ]
    # leaving a document's own entities out compares words the same way
    assert g.keys([["Japan"], ["JAPAN"]], ["a", "b"], [["B-LOC"], ["O"]]) == [["none"], ["B-LOC"]]
    # model files from before the match field compared words as written, and still do
    old = Gazetteer.from_dict({"types": ["LOC"], "entries": [[["JAPAN"], {"LOC": 1}]]})
    assert old.match == "written" and old.keys([["JAPAN", "Japan"]]) == [["B-LOC", "none"]]
    assert Gazetteer.from_dict(g.to_dict()).keys([["JAPAN"]]) == [["B-LOC"]]


def test_strings_longer_than_max_words_are_left_out():
    long = [f"W{i}" for i in range(MAX_WORDS + 1)]
    tags = [["B-ORG"] + ["I-ORG"] * MAX_WORDS, ["B-MISC"] + ["I-MISC"] * (MAX_WORDS - 1)]
    g = Gazetteer.build([long, long[:MAX_WORDS]], tags)
    assert list(g.counts) == [tuple(long[:MAX_WORDS])]


def _trained(tmp_path, **settings):
    train = list(read_conll(SAMPLE / "train.conll"))
    dev = list(read_conll(SAMPLE / "dev.conll"))
    tagger = WindowTagger(window=3, hidden=20, epochs=2, seed=0, features=["caps", "gazetteer"], **settings)
    tagger.fit([s.tokens for s in train], [s.tags for s in train], dev=([s.tokens for s in dev], [s.tags for s in dev]))
    return tagger, train, dev


def test_fit_reads_the_left_out_keys_and_new_text_the_whole_gazetteer(tmp_path, monkeypatch):
    calls = []
    encode = WindowTagger.encode

    def spy(self, sentences, documents=None, *, own_tags=None):
        calls.append(own_tags is not None)
        return encode(self, sentences, documents, own_tags=own_tags)

    monkeypatch.setattr(WindowTagger, "encode", spy)
    tagger, train, _ = _trained(tmp_path)
    assert calls == [True, False]  # the training sentences with their own tags, then the dev sentences
    monkeypatch.undo()
    sentences, tags = [s.tokens for s in train], [s.tags for s in train]
    column = [t[0] for t in tagger.lookup_tables()].index("gazetteer")
    centre = tagger.settings.window // 2
    vocab = tagger.feature_vocabs["gazetteer"]
    left_out = tagger.encode(sentences, own_tags=tags)[column][:, centre]
    whole = tagger.encode(sentences)[column][:, centre]
    # on the sample, every word of a training entity matches in the whole gazetteer; left out, fewer do
    assert np.all(
        whole[np.concatenate([np.array([t != "O" for t in ts]) for ts in tags])] != vocab.key_to_index["none"]
    )
    assert np.sum(left_out != vocab.key_to_index["none"]) < np.sum(whole != vocab.key_to_index["none"])
    # the sample has no document markers: it is read as blocks of document_sentences sentences,
    # and each block's own entities are left out
    blocks = tagger.documents_as_read(None, len(sentences))
    assert len(set(blocks)) > 1
    expected = tagger.gazetteer.keys(sentences, blocks, tags)
    assert left_out.tolist() == [vocab.key_to_index[k] for ks in expected for k in ks]


@pytest.mark.parametrize(
    "tags, positive, strings",
    [
        # a 0/1 file: 0 is no entity, each run of 1 one entity (conlleval alone would read runs of 0 as "0")
        (
            [["0", "1", "1", "0", "0"], ["1", "0", "0", "1"]],
            "1",
            {("Bank", "of"): {"1": 1}, ("Paris",): {"1": 1}, ("Rome",): {"1": 1}},
        ),
        # a one-vs-rest LOC model: the entities of its own class only
        (
            [["O", "B-LOC", "I-LOC", "O", "B-PER"], ["B-LOC", "O", "B-ORG", "I-ORG"]],
            "LOC",
            {("Bank", "of"): {"LOC": 1}, ("Paris",): {"LOC": 1}},
        ),
    ],
)
def test_a_one_vs_rest_models_gazetteer_holds_the_entities_of_its_class(monkeypatch, tags, positive, strings):
    sentences = [["the", "Bank", "of", "Spain", "said"], ["Paris", "and", "Rome", "Rome"]]
    seen = []
    encode = WindowTagger.encode

    def spy(self, sentences, documents=None, *, own_tags=None):
        seen.append(own_tags)
        return encode(self, sentences, documents, own_tags=own_tags)

    monkeypatch.setattr(WindowTagger, "encode", spy)
    tagger = WindowTagger(
        output="sigmoid", positive_tag=positive, features=["gazetteer"], epochs=1, dim=4, hidden=3, min_count=1
    ).fit(sentences, tags)
    assert tagger.gazetteer.counts == strings
    assert tagger.gazetteer.types == [positive]
    assert seen[0] == tagger.settings.entity_tags(tags)  # left out in training from the same view
    assert all(t in ("O", positive) for ts in seen[0] for t in ts)


def test_the_gazetteer_is_saved_loaded_and_predicts_the_same(tmp_path):
    tagger, _, dev = _trained(tmp_path, decoder="sll", scheme="IOBES")
    tagger.save(tmp_path / "m.npz")
    again = WindowTagger.load(tmp_path / "m.npz")
    assert again.gazetteer.counts == tagger.gazetteer.counts and again.gazetteer.types == tagger.gazetteer.types
    sentences = [s.tokens for s in dev]
    assert again.predict(sentences) == tagger.predict(sentences)
    # a damaged gazetteer is one ModelFileError naming the file
    data = (tmp_path / "m.npz").read_bytes()
    for damage in (
        {"types": "LOC", "entries": []},
        {"types": ["LOC"], "entries": [[["New"], {"ORG": 1}]]},
        {"types": ["LOC"], "entries": [[["W"] * (MAX_WORDS + 1), {"LOC": 1}]]},
        {"types": ["LOC"], "entries": [[["New"], {"LOC": 0}]]},
        None,
        {"types": ["LOC"], "match": "lowercase", "entries": []},
        {"types": ["LOC"], "match": ["written"], "entries": []},
    ):
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                if name != "metadata.json":
                    dst.writestr(name, src.read(name))
            meta = json.loads(src.read("metadata.json"))
            meta["gazetteer"] = damage
            dst.writestr("metadata.json", json.dumps(meta))
        (tmp_path / "bad.npz").write_bytes(out.getvalue())
        with pytest.raises(ModelFileError, match=r"bad\.npz.*gazetteer"):
            WindowTagger.load(tmp_path / "bad.npz")


def test_its_training_documents_are_part_of_the_training_data(tmp_path):
    train = list(read_conll(SAMPLE / "train.conll"))
    sentences, tags = [s.tokens for s in train], [s.tags for s in train]
    # (resume equals one run: tests/training/test_training_guarantees.py)
    documents = [i // 40 for i in range(len(sentences))]
    first = WindowTagger(epochs=1, window=3, hidden=10, features=["gazetteer"])
    first.fit(sentences, tags, documents=documents)
    first.save(tmp_path / "one.npz")
    # the documents decide what is left out, so other documents are other training data
    other = WindowTagger.load(tmp_path / "one.npz")
    other.settings.epochs = 2
    with pytest.raises(ResumeError, match="training data"):
        other.fit(sentences, tags, documents=[0] * len(sentences), resume=True)
    other.fit(sentences, tags, documents=documents, resume=True)
    assert other.history[-1]["epoch"] == 2


def test_cli_trains_with_it_and_gradcheck_checks_its_table(tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "train",
            str(SAMPLE / "train.conll"),
            "-o",
            str(tmp_path / "m.npz"),
            "--epochs",
            "1",
            "--features",
            "caps,gazetteer",
        ],
    )
    assert result.exit_code == 0, result.output
    assert 'features = ["caps", "gazetteer"]' in runner.invoke(main, ["info", "--toml", str(tmp_path / "m.npz")]).output
    strings = len(WindowTagger.load(tmp_path / "m.npz").gazetteer.counts)
    info = runner.invoke(main, ["info", str(tmp_path / "m.npz")]).output
    assert f"gazetteer:   {strings:,} entity strings of the training data" in info
    check = runner.invoke(main, ["gradcheck", "--features", "caps,gazetteer", "--decoder", "sll"])
    assert check.exit_code == 0, check.output
    assert "E_gazetteer" in check.output and "FAIL" not in check.output
    bad = runner.invoke(
        main, ["train", str(SAMPLE / "train.conll"), "-o", str(tmp_path / "b.npz"), "--features", "gazeteer"]
    )
    assert bad.exit_code != 0 and "gazetteer" in bad.output and "Traceback" not in bad.output
