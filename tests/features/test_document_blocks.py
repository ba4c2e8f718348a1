"""The one rule for documents: marked documents cut into blocks, unmarked data read as blocks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from windowclf.features.documents import document_blocks, document_chunks


def partition(blocks) -> list:
    """The sentences of each block, as sets of indices in order of first appearance."""
    groups: dict = {}
    for i, block in enumerate(blocks):
        groups.setdefault(block, []).append(i)
    return list(groups.values())


def test_unmarked_data_is_read_as_consecutive_blocks():
    assert document_blocks([0] * 7, 3) == [0, 0, 0, 1, 1, 1, 2]
    assert document_blocks([0] * 4, 1) == [0, 1, 2, 3]  # each sentence its own document
    assert document_blocks([], 3) == []


def test_marked_documents_are_cut_at_the_size_and_counted_each_from_its_start():
    marks = ["a"] * 5 + ["b"] * 2 + ["c"] * 4
    assert partition(document_blocks(marks, 2)) == [[0, 1], [2, 3], [4], [5, 6], [7, 8], [9, 10]]
    # a document shorter than the size is one block, whatever its neighbours
    assert partition(document_blocks(marks, 10)) == [[0, 1, 2, 3, 4], [5, 6], [7, 8, 9, 10]]


def test_without_a_size_documents_are_as_marked_and_unmarked_data_is_one():
    assert document_blocks([0] * 5, None) == [0] * 5
    assert partition(document_blocks([3, 3, 4, 3], None)) == [[0, 1, 3], [2]]


@settings(max_examples=200, deadline=None)
@given(
    runs=st.lists(st.integers(1, 9), min_size=0, max_size=12),
    size=st.one_of(st.none(), st.integers(1, 5)),
    least=st.integers(1, 7),
)
def test_chunks_read_alone_read_the_documents_of_the_whole(runs, size, least):
    # contiguous marked documents (a file's -DOCSTART- runs, raw text's lines), or one unmarked run
    marks = [doc for doc, n in enumerate(runs) for _ in range(n)]
    items = list(range(len(marks)))
    chunks = list(document_chunks(items, marks.__getitem__, size, least))
    assert [i for chunk in chunks for i in chunk] == items
    assert all(len(chunk) >= least for chunk in chunks[:-1])
    if size is None:
        assert len(chunks) <= 1
    whole = partition(document_blocks(marks, size))
    offset, alone = 0, []
    for chunk in chunks:
        blocks = document_blocks([marks[i] for i in chunk], size)
        alone += [[offset + i for i in group] for group in partition(blocks)]
        offset += len(chunk)
    assert alone == whole
    # and no chunk is longer than it must be: it ends at the first block end after `least` items
    for chunk in chunks[:-1]:
        assert size is not None and len(chunk) < least + size
