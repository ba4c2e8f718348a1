"""Raw text holding a NUL character is binary data, refused with the file and line (it was tagged as
prose, and the NUL written into outputs that evaluate then refused), wherever the NUL falls: in the
first block read, or many blocks on."""

from __future__ import annotations

import io

import pytest

from windowclf.errors import InputError
from windowclf.text.reader import text_sentences


@pytest.mark.parametrize("lines_before", [0, 2, 20_000])
def test_a_nul_anywhere_is_binary_data_named_by_its_line(lines_before):
    text = "Anna lives in Oslo.\n" * lines_before + "a \x00 b\nmore text\n"
    with pytest.raises(InputError, match=r"binary data \(a NUL character\)") as err:
        list(text_sentences(io.StringIO(text), "f.txt"))
    assert err.value.path == "f.txt" and err.value.line == lines_before + 1


def test_other_control_characters_stay_text():
    [sentence] = list(text_sentences(io.StringIO("Anna \x1b[1mKeller\x7f ."), "f.txt"))
    assert sentence.tokens[0] == "Anna"
