"""windowclf on Dask, on a LocalCluster of 2 worker processes on 127.0.0.1 started and stopped here."""

from __future__ import annotations

import glob
import os
import signal
import threading
import time

import pytest
from click.testing import CliRunner
from support import DASK_EXTRA, SAMPLE, make_text, predict_cli

distributed = pytest.importorskip("distributed", reason=DASK_EXTRA)
dask = pytest.importorskip("dask", reason=DASK_EXTRA)
pytest.importorskip("dask.bag", reason=DASK_EXTRA)  # dask.bag.from_sequence below

from windowclf.batch.on_dask import _quiet_profiler, _stop_profiler, sweep, tag_bag, tag_files, tagging_config  # noqa: E402
from windowclf.batch.segments import SEGMENT_BYTES  # noqa: E402
from windowclf.cli.main import main  # noqa: E402
from windowclf.errors import InputError, ModelFileError  # noqa: E402
from windowclf.formats.conll import read_conll  # noqa: E402
from windowclf.models.tagger import WindowTagger  # noqa: E402

pytestmark = pytest.mark.slow  # a LocalCluster of 2 worker processes

TIMEOUT = 120  # seconds any one job may take here


@pytest.fixture(scope="module")
def client():
    with dask.config.set(tagging_config()):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0", silence_logs=40
        )
    client = distributed.Client(cluster, timeout=60)
    client.wait_for_workers(2, timeout=60)
    yield client
    client.close()
    cluster.close(timeout=60)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Three inputs: a small one, one of several segments (CRLF), and one with a byte-order mark."""
    where = tmp_path_factory.mktemp("corpus")
    files = [
        (where / "small.txt", make_text(30_000, seed=20)),
        (where / "big.txt", make_text(int(3.2 * SEGMENT_BYTES), seed=21, crlf=True)),
        (where / "bom.txt", make_text(200_000, seed=22, bom=True)),
    ]
    for path, data in files:
        path.write_bytes(data)
    return [str(p) for p, _ in files]


@pytest.fixture(scope="module")
def expected(tiny_model, corpus):
    return [predict_cli(tiny_model, path) for path in corpus]


def _leftovers(out_dir) -> list:
    return sorted(glob.glob(os.path.join(out_dir, "**", ".*"), recursive=True))


@pytest.mark.parametrize("block_bytes", [0, 1, 2 * SEGMENT_BYTES, None])
def test_outputs_are_the_bytes_predict_writes_for_each_file_in_order(
    client, tiny_model, corpus, expected, tmp_path, block_bytes
):
    records = tag_files(corpus, tmp_path, tiny_model, client, block_bytes=block_bytes, timeout=TIMEOUT)
    assert [r["input"] for r in records] == corpus  # record i is input i
    for path, record, want in zip(corpus, records, expected):
        assert record["output"] == os.path.basename(path) + ".conll"
        assert (tmp_path / record["output"]).read_bytes() == want
    assert records[1]["blocks"] == {0: 1, 1: 4, 2 * SEGMENT_BYTES: 2}.get(block_bytes, records[1]["blocks"])
    assert _leftovers(tmp_path) == []


def test_a_worker_killed_mid_job_is_retried_and_the_output_is_the_same(client, tiny_model, corpus, expected, tmp_path):
    pids = client.run(os.getpid)
    killed = []

    def kill_once_writing():  # SIGKILL a worker while it writes a part (its temporary file exists)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and not killed:
            if glob.glob(str(tmp_path / ".windowclf-parts" / ".*.tmp")):
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            time.sleep(0.005)

    watcher = threading.Thread(target=kill_once_writing, daemon=True)
    watcher.start()
    records = tag_files(corpus, tmp_path, tiny_model, client, block_bytes=1, timeout=TIMEOUT)
    watcher.join(5)
    assert killed, "no worker was killed mid-task"
    client.wait_for_workers(2, timeout=60)  # the nanny starts another
    assert killed[0] not in client.run(os.getpid).values()
    for record, want in zip(records, expected):
        assert (tmp_path / record["output"]).read_bytes() == want
    assert _leftovers(tmp_path) == []


def test_bad_input_raises_what_tagging_the_file_alone_raises(client, tiny_model, corpus, tmp_path):
    data = bytearray(make_text(int(2.2 * SEGMENT_BYTES), seed=23))
    data[-300] = 0xFF
    bad = tmp_path / "bad.txt"
    bad.write_bytes(bytes(data))
    single = CliRunner().invoke(main, ["predict", "-m", str(tiny_model), str(bad)])
    assert single.exit_code == 2
    with pytest.raises(InputError) as err:
        tag_files(
            [corpus[0], str(bad), corpus[2]], tmp_path / "out", tiny_model, client, block_bytes=1, timeout=TIMEOUT
        )
    assert f"Error: {err.value}" == single.stderr.strip()
    assert (tmp_path / "out" / "small.txt.conll").exists() and not (tmp_path / "out" / "bad.txt.conll").exists()
    assert _leftovers(tmp_path / "out") == []


def test_a_missing_or_corrupt_model_fails_before_any_task_is_scheduled(client, tiny_model, corpus, tmp_path):
    corrupt = tmp_path / "corrupt.npz"
    corrupt.write_bytes(tiny_model.read_bytes()[: len(tiny_model.read_bytes()) // 2])

    def transitions(dask_scheduler):
        return dask_scheduler.transition_counter

    before = client.run_on_scheduler(transitions)
    for model in (tmp_path / "missing.npz", corrupt):
        with pytest.raises(ModelFileError, match=str(model)):
            tag_files(corpus, tmp_path / "out", model, client, timeout=TIMEOUT)
    assert client.run_on_scheduler(transitions) == before
    assert not (tmp_path / "out").exists()


def test_predict_workers_command_writes_what_predict_prints(tiny_model, corpus, expected, tmp_path):
    result = CliRunner().invoke(
        main, ["predict", "-m", str(tiny_model), "--workers", "2", "--output-dir", str(tmp_path), *corpus]
    )
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and "tokens" in result.stderr  # a log gets the summary, no bar frames
    for path, want in zip(corpus, expected):
        assert (tmp_path / (os.path.basename(path) + ".conll")).read_bytes() == want


def test_tag_bag_tags_each_token_list_in_order(client, tiny_model):
    sentences = [s.tokens for s in read_conll(SAMPLE / "dev.conll")]
    bag = dask.bag.from_sequence(sentences, npartitions=7)
    tagged = client.compute(tag_bag(bag, tiny_model)).result(timeout=TIMEOUT)
    assert tagged == WindowTagger.load(tiny_model).predict(sentences)


def test_tag_bag_of_documents_tags_each_document_whole_and_alone(client, tmp_path):
    train = list(read_conll(SAMPLE / "train.conll"))
    tagger = WindowTagger(features=["caps", "doccase"], doc_vote=2.0, epochs=2, seed=3)
    tagger.fit([s.tokens for s in train], [s.tags for s in train])
    sentences = [s.tokens for s in read_conll(SAMPLE / "dev.conll")]
    documents = [sentences[i : i + 9] for i in range(0, len(sentences), 9)]
    ids = [d for d, doc in enumerate(documents) for _ in doc]
    want = tagger.predict(sentences, documents=ids)
    assert want != tagger.predict(sentences)  # the documents change the tags: the test can tell
    model = tmp_path / "doc.npz"
    tagger.save(model)
    bag = dask.bag.from_sequence(documents, npartitions=3)  # partitions of several documents each
    tagged = client.compute(tag_bag(bag, str(model), documents=True)).result(timeout=TIMEOUT)
    assert len(tagged) == len(documents) and [len(t) for t in tagged] == [len(d) for d in documents]
    assert [tags for document in tagged for tags in document] == want


def test_a_tagger_travels_as_its_model_file(client, tiny_model):
    tagger = WindowTagger.load(tiny_model)
    sentence = [["Anna", "Keller", "flew", "to", "Oslo", "."]]
    assert client.submit(lambda t: t.predict(sentence), tagger).result(timeout=TIMEOUT) == tagger.predict(sentence)


def test_workers_tag_on_one_blas_and_one_scoring_thread_without_the_profiler(client, tiny_model, tmp_path):
    def threads():
        from threadpoolctl import threadpool_info

        from windowclf.batch import on_dask
        from windowclf.inference import prediction

        on_dask._worker_setup()
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"], prediction._SCORE_THREADS

    for blas, scoring in client.run(threads).values():
        assert set(blas) == {1} and scoring == 1

    def profiling(dask_worker):
        return "profile" in dask_worker.periodic_callbacks and dask_worker.periodic_callbacks["profile"].is_running()

    with _quiet_profiler(client):  # a job stops every worker's profiler while it runs
        assert not any(client.run(profiling).values())
    client.run(_stop_profiler)  # and each task stops its own worker's (one restarted mid-job starts with it on)
    time.sleep(0.2)
    assert not any(client.run(profiling).values())


def test_sweep_trains_each_configuration_in_one_task_and_keeps_the_best_dev_f1(client):
    train = list(read_conll(SAMPLE / "train.conll"))
    dev = list(read_conll(SAMPLE / "dev.conll"))
    configs = [{"dim": 10, "hidden": 10, "epochs": 1, "lr": 0.001}, {"dim": 20, "hidden": 30, "epochs": 2}]
    best, table = sweep(
        [s.tokens for s in train],
        [s.tags for s in train],
        ([s.tokens for s in dev], [s.tags for s in dev]),
        configs,
        client,
        seeds=(0, 1),
    )
    assert [(r["settings"]["dim"], r["settings"]["seed"]) for r in table] == [(10, 0), (10, 1), (20, 0), (20, 1)]
    winner = max(table, key=lambda r: r["dev_f1"])
    model = WindowTagger.load(best)
    assert model.best["f1"] == winner["dev_f1"] and model.settings.seed == winner["settings"]["seed"]
