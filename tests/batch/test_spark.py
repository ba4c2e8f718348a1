"""The README's Spark recipe: the same shard function under Spark, where pyspark is importable."""

from __future__ import annotations

import io
import os

import pytest

pyspark = pytest.importorskip(
    "pyspark",
    reason="pyspark is not installed (not a windowclf extra; pip install pyspark, with a Java runtime, to run this)",
)

from support import make_text, predict_cli  # noqa: E402

from windowclf.batch.segments import SEGMENT_BYTES  # noqa: E402
from windowclf.batch.shards import TagOptions, join_parts, model_ref, plan_blocks, tag_shard  # noqa: E402

pytestmark = pytest.mark.slow  # a local Spark session


@pytest.fixture(scope="module")
def spark():
    session = (
        pyspark.sql.SparkSession.builder.master("local[2]")
        .appName("windowclf-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    yield session.sparkContext
    session.stop()


def test_map_partitions_over_files_and_blocks_writes_what_predict_prints(spark, tiny_model, tmp_path):
    files = []
    for i, size in enumerate((40_000, int(2.2 * SEGMENT_BYTES))):
        path = tmp_path / f"doc{i}.txt"
        path.write_bytes(make_text(size, seed=30 + i))
        files.append(str(path))
    ref, options, out = model_ref(tiny_model, send="path"), TagOptions(), tmp_path / "out"
    out.mkdir()
    blocks = [b for f in files for b in plan_blocks(f, options, 1)]

    def tag(partition):  # the README's recipe: each task tags its blocks with tag_shard
        for block in partition:
            name = f"{os.path.basename(block.path)}.{block.index:05d}"
            yield tag_shard(ref, block, os.path.join(str(out), name), options)

    reports = spark.parallelize(blocks, len(blocks)).mapPartitions(tag).collect()
    assert len(reports) == len(blocks)
    for f in files:
        joined = io.BytesIO()  # each file's parts in block order (the README's recipe)
        join_parts(sorted((r for r in reports if r["input"] == f), key=lambda r: r["block"]), joined, options)
        assert joined.getvalue() == predict_cli(tiny_model, f)
