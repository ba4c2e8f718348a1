"""The command line: every command, its errors (one line, exit 2), and its reference outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import click
import numpy as np
import pytest
from support import PLOT_EXTRA, REPO, TEST_DATA, run

import windowclf.models.tagger
from windowclf.cli.main import main
from windowclf.config.settings import Settings
from windowclf.errors import DivergenceError
from windowclf.formats.vectors import load_vectors
from windowclf.models.tagger import WindowTagger

CLI_DATA = TEST_DATA / "cli"
# A small network, so that training in the fixtures takes seconds.
TINY = ["--scheme", "IOB2", "--dim", "20", "--hidden", "30", "--seed", "0", "--no-progress"]


def assert_one_line_error(result, exit_code, *fragments):
    assert result.exit_code == exit_code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.fixture(scope="session")
def trained(sample, tmp_path_factory):
    """(model path, train result) of a tiny model trained for 3 epochs on the sample corpus."""
    model = tmp_path_factory.mktemp("model") / "tiny.npz"
    result = run(
        "train", sample / "train.conll", "--dev", sample / "dev.conll", "-o", model, "--epochs", 3, "--lr", 0.1, *TINY
    )
    assert result.exit_code == 0, result.output
    return model, result


@pytest.fixture(scope="session")
def model(trained):
    return trained[0]


# ------------------------------------------------------------------------------ help


COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_every_command_has_help_with_an_example(name, flag):
    result = run(name, flag)
    assert result.exit_code == 0
    assert main.commands[name].help and "Example" in main.commands[name].help
    assert "Example" in result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_has_help_with_an_example(name):
    for param in main.commands[name].params:
        if isinstance(param, click.Option) and param.name != "help":
            assert param.help and "Example" in param.help, f"{name} {param.opts}"


def test_group_help_lists_every_command():
    result = run("-h")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output


def test_train_has_an_option_for_every_setting():
    names = {p.name for p in main.commands["train"].params}
    missing = {f.name for f in fields(Settings)} - names
    assert not missing, f"Settings fields without a train option: {missing}"


# ------------------------------------------------------------------------------ train


def test_train_prints_one_line_per_epoch_and_logs_every_epoch(trained):
    model, result = trained
    epoch_lines = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert len(epoch_lines) == 3
    assert all("loss" in line and "F1" in line and "words/s" in line for line in epoch_lines)
    records = [json.loads(line) for line in Path(f"{model}.log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert all(set(r["dev"]) >= {"precision", "recall", "f1"} for r in records)


def test_train_keeps_the_best_epoch_by_dev_f1(trained):
    model, _ = trained
    records = [json.loads(line) for line in Path(f"{model}.log.jsonl").read_text().splitlines()]
    best = max(records, key=lambda r: r["dev"]["f1"])
    tagger = WindowTagger.load(model)
    assert tagger.best["epoch"] == best["epoch"]
    assert tagger.best["f1"] == pytest.approx(best["dev"]["f1"])


def _fail_on_epoch(monkeypatch, epoch, error):
    real = windowclf.models.tagger.run_epoch
    calls = []

    def run_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == epoch:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(windowclf.models.tagger, "run_epoch", run_epoch)


def test_ctrl_c_saves_the_best_model_so_far_and_exits_130(sample, tmp_path, monkeypatch):
    _fail_on_epoch(monkeypatch, 2, KeyboardInterrupt())
    model = tmp_path / "m.npz"
    result = run("train", sample / "dev.conll", "-o", model, "--epochs", 5, *TINY)
    assert result.exit_code == 130
    assert result.stderr.count("\n") == 1 and "Interrupted" in result.stderr and str(model) in result.stderr
    assert "Traceback" not in result.output
    assert len(WindowTagger.load(model).history) == 1


def test_divergence_is_one_line_exit_1_and_keeps_the_last_good_model(sample, tmp_path, monkeypatch):
    _fail_on_epoch(monkeypatch, 2, DivergenceError("training loss became nan; lower the learning rate (--lr)"))
    model = tmp_path / "m.npz"
    result = run("train", sample / "dev.conll", "-o", model, "--epochs", 5, *TINY)
    assert_one_line_error(result, 1, "nan", str(model))
    assert len(WindowTagger.load(model).history) == 1


def test_resume_continues_to_the_new_epoch_total(sample, tmp_path):
    model = tmp_path / "m.npz"
    assert run("train", sample / "dev.conll", "-o", model, "--epochs", 1, *TINY).exit_code == 0
    result = run("train", sample / "dev.conll", "--resume", model, "--epochs", 2, "--no-progress")
    assert result.exit_code == 0, result.output
    with open(f"{model}.log.jsonl") as log:
        assert [r["epoch"] for r in map(json.loads, log)] == [1, 2]
    assert [h["epoch"] for h in WindowTagger.load(model).history] == [1, 2]


def test_resume_refuses_to_change_the_network(sample, model):
    result = run("train", sample / "dev.conll", "--resume", model, "--epochs", 9, "--window", 5)
    assert result.exit_code == 2
    assert "--window cannot change" in result.stderr


def test_train_starts_from_pretrained_vectors(sample, tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\nthe 1 2 3 4\n, 0.5 0.5 0.5 0.5\n. -1 0 1 0\n")
    model = tmp_path / "m.npz"
    result = run("train", sample / "dev.conll", "-o", model, "--epochs", 1, "--embeddings", vectors, *TINY)
    assert result.exit_code == 0, result.output
    tagger = WindowTagger.load(model)
    assert tagger.settings.dim == 4
    assert tagger.initial_vectors[tagger.vocab.key_to_index["the"]].tolist() == [1, 2, 3, 4]


def test_export_changed_only_writes_the_rows_training_moved(sample, tmp_path):
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 4\nthe 1 2 3 4\n, 0.5 0.5 0.5 0.5\nzzz-unseen -1 0 1 0\n")
    model, out = tmp_path / "m.npz", tmp_path / "changed.txt"
    assert (
        run(
            "train",
            sample / "dev.conll",
            "-o",
            model,
            "--epochs",
            1,
            "--embeddings",
            vectors,
            "--keep-pretrained-vocab",
            *TINY,
        ).exit_code
        == 0
    )
    assert run("export-embeddings", "-m", model, "-o", out, "--changed-only").exit_code == 0
    tagger, wv = WindowTagger.load(model), load_vectors(out, format="word2vec")
    assert "the" in wv.index_to_key and "zzz-unseen" not in wv.index_to_key
    for word, vector in zip(wv.index_to_key, wv.vectors):
        assert not np.array_equal(vector, tagger.initial_vectors[tagger.vocab.key_to_index[word]])


def test_train_reads_cs224d_vector_pairs(sample, tmp_path):
    (tmp_path / "vocab.txt").write_text("UUUNKKK\nthe\nparis\n")
    (tmp_path / "wordVectors.txt").write_text("0 0 0\n1 2 3\n4 5 6\n")
    model = tmp_path / "m.npz"
    result = run(
        "train",
        sample / "dev.conll",
        "-o",
        model,
        "--epochs",
        1,
        "--embeddings",
        tmp_path / "wordVectors.txt",
        "--embeddings-format",
        "cs224d",
        "--embeddings-vocab",
        tmp_path / "vocab.txt",
        *TINY,
    )
    assert result.exit_code == 0, result.output
    tagger = WindowTagger.load(model)
    assert tagger.initial_vectors[tagger.vocab.key_to_index["the"]].tolist() == [1, 2, 3]


@pytest.mark.parametrize("args", [[], ["-o", "m.npz", "--embeddings-vocab", "vocab.txt"]])
def test_train_usage_errors_exit_2(sample, args):
    assert run("train", sample / "dev.conll", *args).exit_code == 2


def test_train_bad_setting_is_one_line_exit_2(sample, tmp_path):
    result = run("train", sample / "dev.conll", "-o", tmp_path / "m.npz", "--window", 4)
    assert_one_line_error(result, 2, "window")


def test_train_malformed_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("Oslo B-LOC\nis O extra\n")
    result = run("train", bad, "-o", tmp_path / "m.npz")
    assert_one_line_error(result, 2, f"{bad}:2:")


def test_train_missing_file_is_one_line_exit_2(tmp_path):
    result = run("train", tmp_path / "nope.conll", "-o", tmp_path / "m.npz")
    assert_one_line_error(result, 2, "nope.conll")


# ------------------------------------------------------------------------------ predict


def test_predict_inline_brackets_entities(model, sample):
    result = run("predict", "-m", model, "--format", "inline", sample / "example.txt")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines and all(line.count("[") == line.count("]") for line in lines)
    assert any("[" in line for line in lines), "the tiny model found no entity in example.txt"


def test_predict_conll_is_token_tab_tag_with_blank_lines(model):
    result = run("predict", "-m", model, input="John Smith visited Paris. Then he left.\n")
    assert result.exit_code == 0
    sentences = result.stdout.split("\n\n")
    assert [s.split("\n")[0].split("\t")[0] for s in sentences[:2]] == ["John", "Then"]
    assert all(len(line.split("\t")) == 2 for line in result.stdout.splitlines() if line)


def test_predict_json_offsets_slice_back_to_the_text(model, sample, tmp_path):
    text = (sample / "example.txt").read_text(encoding="utf-8")
    text += "\r\n\r\nMüller flew from Zürich to São Paulo with Anna Schmidt 😀 on Monday.\r\n"
    path = tmp_path / "input.txt"
    path.write_bytes(text.encode("utf-8"))
    result = run("predict", "-m", model, "--format", "json", path)
    assert result.exit_code == 0
    n_entities = 0
    for line in result.stdout.splitlines():
        record = json.loads(line)
        assert text[record["char_start"] : record["char_end"]] == record["text"]
        assert [text[s:e] for s, e in record["offsets"]] == record["tokens"]
        for entity in record["entities"]:
            assert text[entity["char_start"] : entity["char_end"]] == entity["text"]
            first, last = record["offsets"][entity["token_start"]], record["offsets"][entity["token_end"] - 1]
            assert (entity["char_start"], entity["char_end"]) == (first[0], last[1])
            n_entities += 1
    assert n_entities > 0


def test_predict_streams_in_chunks_with_the_same_result(model, sample):
    whole = run("predict", "-m", model, sample / "example.txt")
    chunked = run("predict", "-m", model, "--chunk-size", 1, sample / "example.txt")
    assert chunked.exit_code == 0 and chunked.stdout == whole.stdout


def test_predict_conll_input_then_evaluate_pred_equals_evaluate_with_the_model(model, sample, tmp_path):
    predicted = run("predict", "-m", model, "--input", "conll", sample / "dev.conll")
    assert predicted.exit_code == 0
    pred_file = tmp_path / "pred.conll"
    pred_file.write_text(predicted.stdout)
    from_file = run("evaluate", "--pred", pred_file)
    with_model = run("evaluate", "-m", model, sample / "dev.conll")
    assert with_model.exit_code == 0 and from_file.stdout == with_model.stdout


def test_predict_scheme_converts_the_output_tags(model):
    result = run("predict", "-m", model, "--scheme", "IOBES", input="John Smith visited Paris.\n")
    tags = {line.split("\t")[1] for line in result.stdout.splitlines() if line}
    assert tags <= {"O"} | {f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC", "ORG", "MISC")}


def test_predict_sigmoid_json_carries_probabilities(sample, tmp_path):
    model = tmp_path / "loc.npz"
    trained = run(
        "train", sample / "dev.conll", "-o", model, "--epochs", 1, "--output", "sigmoid", "--positive-tag", "LOC", *TINY
    )
    assert trained.exit_code == 0, trained.output
    result = run("predict", "-m", model, "--format", "json", input="Paris is in France.\n")
    record = json.loads(result.stdout.splitlines()[0])
    assert len(record["probabilities"]) == len(record["tokens"])
    assert all(0 <= p <= 1 for p in record["probabilities"])
    assert set(record["tags"]) <= {"O", "LOC"}


def test_predict_into_a_closed_pipe_exits_quietly(model, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("John Smith visited Paris. He met Anna in Oslo.\n\n" * 5000)
    code = "import sys; from windowclf.cli.main import main; sys.argv[0] = 'windowclf'; main()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "predict", "-m", str(model), str(big)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=60) in (0, 141)
    assert stderr == b""


def test_predict_bad_model_file_is_one_line_exit_2(tmp_path):
    fake = tmp_path / "fake.npz"
    fake.write_text("not a model")
    result = run("predict", "-m", fake, input="Hello.\n")
    assert_one_line_error(result, 2, str(fake))


def test_predict_undecodable_text_is_one_line_exit_2(model, tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("Zürich is in Switzerland.\n".encode("latin-1"))
    assert_one_line_error(run("predict", "-m", model, path), 2, "--encoding")
    assert run("predict", "-m", model, "--encoding", "latin-1", path).exit_code == 0


# ------------------------------------------------------------------------------ evaluate


def test_evaluate_pred_matches_conlleval_byte_for_byte():
    result = run("evaluate", "--pred", CLI_DATA / "conlleval_input.txt")
    assert result.exit_code == 0
    assert result.stdout_bytes == (CLI_DATA / "conlleval_report.txt").read_bytes()


def test_evaluate_json_token_f1_and_confusion():
    result = run("evaluate", "--pred", CLI_DATA / "conlleval_input.txt", "--json", "--token-f1", "--confusion")
    report = json.loads(result.stdout)
    assert (report["gold"], report["predicted"], report["correct"]) == (17, 17, 7)
    assert set(report["token_f1"]) == {"precision", "recall", "f1"}
    labels, matrix = report["confusion"]["labels"], np.array(report["confusion"]["matrix"])
    assert labels[0] == "O" and matrix.sum() == 52


def test_evaluate_text_adds_token_f1_and_confusion_after_the_report():
    result = run("evaluate", "--pred", CLI_DATA / "conlleval_input.txt", "--token-f1", "--confusion")
    golden = (CLI_DATA / "conlleval_report.txt").read_text()
    assert result.stdout.startswith(golden)
    assert "Mean F1:" in result.stdout and "gold \\ pred" in result.stdout


def test_evaluate_tag_outside_the_scheme_names_file_and_line(tmp_path):
    path = tmp_path / "pred.conll"
    path.write_text("Oslo B-LOC B-LOC\nis O O\n\nRome B-LOC S-LOC\n")
    assert_one_line_error(run("evaluate", "--pred", path, "--scheme", "IOB2"), 2, f"{path}:4:", "S-LOC")


def test_evaluate_malformed_tag_is_refused_in_any_scheme(tmp_path):
    path = tmp_path / "pred.conll"
    path.write_text("Oslo B- B-LOC\n")
    assert_one_line_error(run("evaluate", "--pred", path), 2, f"{path}:1:")


@pytest.mark.parametrize("args", [["--pred", "x", "-m", "y"], ["-m", "y"], []])
def test_evaluate_needs_a_model_and_gold_or_pred(args):
    assert run("evaluate", *args).exit_code == 2


# ------------------------------------------------------------------------------ the rest


def test_gradcheck_passes_and_prints_every_parameter():
    result = run("gradcheck", "--features", "caps,suffix3", "--activation", "sigmoid")
    assert result.exit_code == 0, result.output
    names = {line.split()[0] for line in result.stdout.splitlines()}
    assert names == {"W1", "b1", "W2", "b2", "L", "E_caps", "E_suffix3"}
    assert all(line.endswith("ok") for line in result.stdout.splitlines())


def test_gradcheck_sigmoid_output_passes():
    assert run("gradcheck", "--output", "sigmoid").exit_code == 0


def test_gradcheck_through_dropout_masks_passes(monkeypatch):
    import windowclf.nn.gradcheck

    seen = {}
    real = windowclf.nn.gradcheck.check_gradients

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(windowclf.nn.gradcheck, "check_gradients", spy)
    result = run("gradcheck", "--dropout-input", "0.3", "--dropout-hidden", "0.5")
    assert result.exit_code == 0, result.output
    assert seen["dropout"] == (0.3, 0.5)
    assert all(line.endswith("ok") for line in result.stdout.splitlines())


def test_gradcheck_exits_1_above_tolerance(monkeypatch):
    import windowclf.nn.gradcheck

    monkeypatch.setattr(windowclf.nn.gradcheck, "check_gradients", lambda *a, **k: {"W1": 1e-3, "b1": 1e-9})
    result = run("gradcheck")
    assert_one_line_error(result, 1, "W1")
    assert "FAIL" in result.stdout


def test_gradcheck_checks_sll_with_its_transitions_and_exits_1_on_failure():
    result = run("gradcheck", "--decoder", "sll", "--dropout-hidden", "0.5")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert {"A", "A0", "W1", "L"} <= set(names)
    assert all(line.endswith("ok") for line in result.stdout.splitlines())
    failed = run("gradcheck", "--eps", "0.5")
    assert failed.exit_code == 1 and "FAIL" in failed.stdout
    for bad in ("nan", "inf", "0", "2"):  # not a step at all: a usage error, before any work
        assert run("gradcheck", "--eps", bad).exit_code == 2


def test_export_embeddings_writes_word2vec_text(model, tmp_path):
    out = tmp_path / "tuned.txt"
    result = run("export-embeddings", "-m", model, "-o", out)
    assert result.exit_code == 0
    tagger = WindowTagger.load(model)
    wv = load_vectors(out, format="word2vec")
    assert wv.index_to_key == tagger.vocab.index_to_key
    np.testing.assert_array_equal(wv.vectors, tagger.vectors)


def test_export_changed_only_needs_pretrained_vectors(model, tmp_path):
    result = run("export-embeddings", "-m", model, "-o", tmp_path / "x.txt", "--changed-only")
    assert result.exit_code == 2 and "--embeddings" in result.stderr


def test_info_reports_tags_scheme_and_training(model):
    result = run("info", model)
    assert result.exit_code == 0
    assert "IOB2" in result.stdout and "B-PER" in result.stdout and "epochs:      3 trained" in result.stdout
    summary = json.loads(run("info", model, "--json").stdout)
    assert summary["epochs_trained"] == 3 and summary["settings"]["hidden"] == 30


def test_plot_without_matplotlib_says_how_to_install(model, monkeypatch, tmp_path):
    for name in ("matplotlib", "matplotlib.backends.backend_agg", "matplotlib.figure"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import matplotlib` fail, loaded or not
    result = run("plot", f"{model}.log.jsonl", "-o", tmp_path / "curves.png")
    assert_one_line_error(result, 1, "matplotlib is needed for plots: pip install 'windowclf[plot]'")


def test_plot_writes_curves_and_confusion(model, sample, tmp_path):
    pytest.importorskip("matplotlib", reason=PLOT_EXTRA)
    out = tmp_path / "curves.png"
    result = run("plot", f"{model}.log.jsonl", "-o", out, "--confusion", model, sample / "dev.conll")
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the confusion model may be an ensemble file, as for predict and evaluate
    assert run("ensemble", "-o", tmp_path / "ens.npz", model, model).exit_code == 0
    result = run(
        "plot",
        f"{model}.log.jsonl",
        "-o",
        tmp_path / "ens.png",
        "--confusion",
        tmp_path / "ens.npz",
        sample / "dev.conll",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ens.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_bad_log_names_the_line(tmp_path):
    pytest.importorskip("matplotlib", reason=PLOT_EXTRA)
    log = tmp_path / "m.log.jsonl"
    log.write_text('{"epoch": 1, "train_loss": 0.5}\nnot json\n')
    assert_one_line_error(run("plot", log, "-o", tmp_path / "x.png"), 2, f"{log}:2:")


@pytest.mark.slow
def test_scripts_run_trains_evaluates_and_tags_the_sample():
    proc = subprocess.run(["bash", str(REPO / "scripts" / "run")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = proc.stdout.split("== conlleval")[1]
    overall_f1 = float(report.split("FB1:")[1].split()[0])
    assert overall_f1 > 50, report
    assert "[" in proc.stdout.split("== windowclf predict")[1]
