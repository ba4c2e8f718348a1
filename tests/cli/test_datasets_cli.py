"""train and evaluate read a Hugging Face dataset folder (save_to_disk) with its ClassLabel names:
no --labels; what cannot be read is one line naming the folder (and the row)."""

from __future__ import annotations

import json
import sys

import pytest
from support import DATASETS_EXTRA, read_sample, run

from windowclf import WindowTagger

datasets = pytest.importorskip("datasets", reason=DATASETS_EXTRA)

LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]


def saved(path, sentences, tags, labels=LABELS, splits=None):
    """Save a Dataset of the sentences (tags as ClassLabel indices) at ``path``; with ``splits``, a
    DatasetDict of those split names."""
    index = {name: i for i, name in enumerate(labels)}
    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=labels)),
        }
    )
    rows = {"tokens": sentences, "ner_tags": [[index[t] for t in ts] for ts in tags]}
    data = datasets.Dataset.from_dict(rows, features=features)
    if splits:
        data = datasets.DatasetDict(dict.fromkeys(splits, data))
    data.save_to_disk(str(path))
    return path


def jsonl(path, sentences, tags, labels=LABELS):
    index = {name: i for i, name in enumerate(labels)}
    with open(path, "w", encoding="utf-8") as f:
        for s, ts in zip(sentences, tags):
            f.write(json.dumps({"tokens": s, "ner_tags": [index[t] for t in ts]}) + "\n")
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    where = tmp_path_factory.mktemp("hub")
    train_s, train_t = read_sample("train.conll")
    dev_s, dev_t = read_sample("dev.conll")
    return {
        "train": saved(where / "train", train_s[:150], train_t[:150]),
        "dev": saved(where / "dev", dev_s[:60], dev_t[:60], LABELS[::-1]),  # another label order
        "dev.jsonl": jsonl(where / "dev.jsonl", dev_s[:60], dev_t[:60]),
        "where": where,
    }


@pytest.fixture(scope="module")
def model(corpus):
    path = corpus["where"] / "ner.npz"
    result = run("train", corpus["train"], "--dev", corpus["dev"], "-o", path, "--epochs", "2", "--dim", "20")
    assert result.exit_code == 0, result.output
    assert f"training data: {corpus['train']}: 150 sentences" in result.output
    return path


def test_train_reads_the_folders_label_names_and_the_model_remembers_them(model):
    tagger = WindowTagger.load(model)
    assert tagger.training_input["format"] == "dataset"
    assert tagger.training_input["labels"] == LABELS
    assert tagger.best["f1"] is not None  # the dev folder, in its own label order, was scored


def test_evaluate_of_the_folder_prints_what_evaluate_of_the_same_json_lines_prints(model, corpus):
    from_folder = run("evaluate", "-m", model, corpus["dev"])
    from_jsonl = run("evaluate", "-m", model, corpus["dev.jsonl"], "--labels", ",".join(LABELS))
    assert from_folder.exit_code == 0 and from_jsonl.exit_code == 0, from_folder.output + from_jsonl.output
    assert "processed" in from_folder.output
    assert from_folder.output == from_jsonl.output


def test_a_dataset_dict_a_plain_folder_and_a_bad_row_are_one_line_each(corpus, tmp_path, model):
    train_s, train_t = read_sample("train.conll")
    both = saved(tmp_path / "both", train_s[:5], train_t[:5], splits=("train", "validation"))
    plain = tmp_path / "plain"
    plain.mkdir()
    narrow = tmp_path / "narrow"  # label indices beyond the names: written by hand through Value ints
    datasets.Dataset.from_dict({"tokens": [["Anna", "sings"]], "ner_tags": [[0, 7]]}).save_to_disk(str(narrow))
    cases = {
        both: f"a DatasetDict of splits train, validation; give one split's folder, e.g. {both / 'train'}",
        plain: "a folder, not a tagged file nor a dataset saved with save_to_disk (no dataset_info.json and "
        "state.json)",
        narrow: "row 0: tags[1] is label index 7, outside the 2 labels",
    }
    for path, message in cases.items():
        result = run("train", path, "-o", tmp_path / "m.npz", "--labels", "O,B-PER", "--epochs", "1", reraise=False)
        assert result.exit_code == 2, result.output
        assert result.output == f"Error: {path}: {message}\n"
        assert not (tmp_path / "m.npz").exists()
    refused = run("predict", "-m", model, corpus["dev"], reraise=False)
    assert refused.exit_code == 2 and "a Hugging Face dataset folder; predict tags text" in refused.output


def test_without_the_datasets_library_a_folder_is_one_line_naming_the_extra(corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "datasets", None)  # import datasets raises ImportError
    result = run("train", corpus["train"], "-o", tmp_path / "m.npz", reraise=False)
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {corpus['train']}: a Hugging Face dataset saved with save_to_disk; reading it needs the "
        "datasets library: pip install 'windowclf[datasets]'\n"
    )
