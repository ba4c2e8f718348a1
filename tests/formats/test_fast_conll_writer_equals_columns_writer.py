"""The raw-text pipeline's CoNLL writer: a sentence of tokens and tags (the fast form) is written
byte for byte as the same sentence given as columns (the plain form)."""

import io

from windowclf.formats.writers import Tagged, write_conll


def test_write_conll_of_tokens_equals_the_columns_form():
    s = Tagged(["John", "Smith", "visited", "Paris", "."], ["B-PER", "I-PER", "O", "B-LOC", "O"])
    columns = Tagged(s.tokens, s.tags, columns=[[t] for t in s.tokens])
    fast, plain = io.StringIO(), io.StringIO()
    write_conll(fast, s)
    write_conll(plain, columns)
    assert fast.getvalue() == plain.getvalue() == "John\tB-PER\nSmith\tI-PER\nvisited\tO\nParis\tB-LOC\n.\tO\n\n"
