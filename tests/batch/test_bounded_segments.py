"""Segments end within MAX_SEGMENT_BYTES whatever the layout (no blank line, one huge line), found from
the bytes alone: a file scanned ahead, streamed a few bytes at a time or fed byte by byte is cut alike."""

from __future__ import annotations

import io
import random

import pytest

from windowclf.batch.segments import MAX_SEGMENT_BYTES, SEGMENT_BYTES, Stream, _Cutter, plan


class _Trickle(io.RawIOBase):
    """A pipe that hands over a few bytes at a time."""

    def __init__(self, data: bytes, rng: random.Random):
        self.source, self.rng = io.BytesIO(data), rng

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self.source.read(min(len(buffer), self.rng.randint(1, 9)))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.mark.parametrize("seed", range(60))
def test_every_reader_cuts_alike_within_the_limit_and_never_inside_a_character(seed, tmp_path):
    rng = random.Random(seed)
    pieces = ["word ", "é", "\n", "\n\n", " \n", "\r\n", ". ", ". The ", "\t", "x", "!\n", "日本", '." A']
    weights = [20, 2, 3 if seed % 3 else 0, 1 if seed % 2 else 0, 1, 1, 3, 2, 1, 10, 1, 1, 1]
    data = "".join(rng.choices(pieces, weights, k=rng.randint(10, 800))).encode()
    spacing = rng.randint(1, 60)
    limit = spacing + 8 + rng.randint(0, 40)
    lines_only = seed % 4 == 0  # CoNLL input
    path = tmp_path / "t.txt"
    path.write_bytes(data)
    planned = plan(path, "utf-8", spacing, limit=limit, lines_only=lines_only)
    cutter, one_by_one = _Cutter(spacing, limit, lines_only), []
    for i in range(len(data)):
        one_by_one += cutter.feed(data[i : i + 1])
    assert [s.start for s in planned[1:]] == [c for c in one_by_one if c < len(data)]
    streamed = Stream(_Trickle(data, rng), "utf-8", spacing, limit=limit, lines_only=lines_only).segments()
    got = [(s, r.read()) for s, r in streamed]
    got = [(s, b) for s, b in got if b or s.start == 0]
    assert [s.start for s, _ in got] == [s.start for s in planned]
    for (segment, chunk), p in zip(got, planned):
        assert chunk == data[p.start : p.stop]
        assert (segment.line, segment.char) == (p.line, p.char)
        chunk.decode("utf-8")  # whole characters
    for p in planned[:-1]:
        assert p.stop - p.start >= spacing
        if lines_only:
            assert data[: p.stop].endswith(b"\n")
        else:
            assert p.stop - p.start <= limit


def test_a_blank_line_in_the_window_ends_the_segment_before_any_line_end():
    data = b"a" * 10 + b"\nline.\nmore\n\nrest of it\n"
    assert _Cutter(8, 40).feed(data) == [data.index(b"\n\n") + 2]


def test_without_a_blank_line_a_line_that_ends_a_sentence_comes_first():
    data = b"a" * 10 + b"\nno end here\nan end.\nmore text here and more\n"
    assert _Cutter(8, 40).feed(data) == [data.index(b"end.\n") + 5]


def test_one_long_line_is_cut_after_a_sentence_end_or_blanks_or_at_the_limit():
    sentence = b"aaaaaaaaaa Oslo is cold. Rome is warm and sunny today"
    assert _Cutter(8, 40).feed(sentence + b"\n")[0] == sentence.index(b"Rome")
    blanks = b"aaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    assert _Cutter(8, 40).feed(blanks)[0] == blanks.index(b"b")
    solid = ("é" * 40).encode()
    cut = _Cutter(8, 40).feed(solid)[0]
    assert 8 <= cut <= 40 and solid[:cut].decode() and solid[cut:].decode()


def test_conll_input_is_never_cut_inside_a_line():
    data = b"x" * 100 + b"\nnext\n"
    assert _Cutter(8, 40, lines_only=True).feed(data) == [101]


def test_a_file_without_blank_lines_is_cut_into_segments_of_bounded_size(tmp_path):
    path = tmp_path / "lines.txt"
    line = b"Anna Keller flew from Oslo to Lyon on Monday .\n"
    path.write_bytes(line * (3 * SEGMENT_BYTES // len(line)))
    segments = plan(path)
    assert len(segments) >= 3
    assert all(SEGMENT_BYTES <= s.stop - s.start <= MAX_SEGMENT_BYTES for s in segments[:-1])
    one_line = tmp_path / "line.txt"
    one_line.write_bytes(line.rstrip(b"\n") * (3 * SEGMENT_BYTES // len(line)))
    assert all(s.stop - s.start <= MAX_SEGMENT_BYTES for s in plan(one_line))
