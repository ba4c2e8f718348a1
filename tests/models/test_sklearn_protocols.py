"""WindowTagger as the Python ecosystem expects it: a scikit-learn estimator (clone, stable get_params,
score, tags, repr, cross_val_score, GridSearchCV, check_is_fitted), set_params that never leaves a
trained tagger inconsistent, integer tags with labels=, progress in a notebook, and a lazy pipe()."""

from __future__ import annotations

import io
import itertools
import tracemalloc
from pathlib import Path

import pytest

from windowclf import ConfigError, Entity, Settings, WindowTagger, read_conll

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is in the test extra: pip install 'windowclf[test]'")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.utils.validation import check_is_fitted  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SMALL = dict(dim=10, hidden=12, epochs=2, seed=0)


@pytest.fixture(scope="module")
def data():
    train = list(read_conll(SAMPLE / "train.conll"))
    return [s.tokens for s in train], [s.tags for s in train]


@pytest.fixture(scope="module")
def fitted(data):
    return WindowTagger(**SMALL).fit(*data)


def test_get_params_returns_what_the_constructor_was_given_every_time():
    features = ["caps", "suffix3"]
    tagger = WindowTagger(features=features, scheme="bio", hidden=20)
    params = tagger.get_params()
    assert params["features"] is features and params["scheme"] == "bio" and params["hidden"] == 20
    assert tagger.get_params()["features"] is tagger.get_params()["features"]  # stable: clone's check
    assert set(params) == set(Settings().to_dict())
    assert tagger.settings.scheme == "IOB2"  # what the model uses, canonical


def test_clone_gives_an_unfitted_tagger_with_the_same_settings(fitted):
    again = clone(fitted)
    assert again.get_params() == fitted.get_params() and again.network is None
    with pytest.raises(NotFittedError):
        check_is_fitted(again)
    check_is_fitted(fitted)


def test_repr_shows_the_settings_that_differ_from_the_defaults():
    assert repr(WindowTagger()) == "WindowTagger()"
    assert repr(WindowTagger(hidden=200, window=5, seed=0)) == "WindowTagger(window=5, hidden=200)"
    assert repr(WindowTagger(Settings(decoder="sll"), lr=0.3)) == "WindowTagger(decoder='sll', lr=0.3)"


def test_score_is_the_entity_f1_as_a_fraction(fitted, data):
    sentences, tags = data
    assert fitted.score(sentences, tags) == pytest.approx(fitted.evaluate(sentences, tags)["overall"]["f1"] / 100)
    assert 0 < fitted.score(sentences, tags) <= 1


@pytest.mark.slow
def test_cross_val_score_and_grid_search_run_the_tagger(data):
    sentences, tags = data
    scores = cross_val_score(WindowTagger(**SMALL), sentences, tags, cv=KFold(3))
    assert len(scores) == 3 and all(0 < s <= 1 for s in scores)
    search = GridSearchCV(WindowTagger(**SMALL), {"hidden": [8, 16], "window": [1, 3]}, cv=KFold(2))
    search.fit(sentences, tags)
    assert set(search.best_params_) == {"hidden", "window"}
    assert search.best_estimator_.settings.hidden == search.best_params_["hidden"]
    assert search.best_estimator_.predict([["Anna", "flew", "to", "Oslo"]])


def test_set_params_of_a_setting_the_weights_depend_on_unfits_a_trained_tagger(data, tmp_path):
    tagger = WindowTagger(**SMALL).fit(*data)
    before = tagger.predict([["Anna", "flew", "to", "Oslo"]])
    tagger.set_params(lr=0.05, epochs=3, doc_vote=0.0)  # the schedule and decoding: still the same model
    assert tagger.predict([["Anna", "flew", "to", "Oslo"]]) == before
    for change in ({"scheme": "IOBES"}, {"hidden": 7}, {"features": ["caps", "shape"]}, {"window": 5}):
        broken = WindowTagger(**SMALL).fit(*data).set_params(**change)
        with pytest.raises(ConfigError, match=f"set_params\\({next(iter(change))}=.*call fit"):
            broken.predict([["Anna"]])
        with pytest.raises(ConfigError, match="not trained"):
            broken.save(tmp_path / "m.npz")
        assert not (tmp_path / "m.npz").exists()
        assert broken.fit(*data).predict([["Anna"]])  # fit makes it whole again, with the new setting
    with pytest.raises(ConfigError, match="did you mean hidden"):
        tagger.set_params(hiden=7)
    with pytest.raises(ConfigError, match="did you mean hidden"):
        WindowTagger(hiden=7)


def test_integer_tags_are_read_with_labels_as_the_commands_labels_reads_them(data):
    sentences, tags = data
    labels = ["O", *sorted({t for s in tags for t in s} - {"O"})]
    as_integers = [[labels.index(t) for t in s] for s in tags]
    with pytest.raises(TypeError, match="labels="):
        WindowTagger(**SMALL).fit(sentences, as_integers)
    by_index = WindowTagger(**SMALL).fit(sentences, as_integers, labels=labels)
    by_name = WindowTagger(**SMALL).fit(sentences, tags)
    assert by_index.predict(sentences[:20]) == by_name.predict(sentences[:20])
    assert by_index.evaluate(sentences, as_integers)["counts"] == by_name.evaluate(sentences, tags)["counts"]
    assert by_index.score(sentences, as_integers) == by_name.score(sentences, tags)  # the labels are remembered


def test_fit_prints_the_data_and_its_epoch_lines_when_asked(data, capsys):
    WindowTagger(**SMALL).fit(*data, dev=data, verbose=True)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("training data: 326 sentences") and out[1].startswith("dev data:")
    assert [line.split()[1] for line in out[2:]] == ["1/2", "2/2"] and " * " in out[2]
    assert "\r" not in "".join(out)  # a captured stream is no terminal: no progress frames
    WindowTagger(**SMALL).fit(*data)
    assert capsys.readouterr().out == ""  # quiet unless asked


def test_fit_draws_its_progress_where_the_output_redraws_it(data, monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stdout", stream)
    WindowTagger(**SMALL).fit(*data, verbose=2)
    assert "\repoch 1 [" in stream.getvalue() and "100%" in stream.getvalue()


def test_pipe_tags_a_stream_lazily_as_tag_text_tags_each_text(fitted):
    texts = ["Anna Keller flew from Oslo to Lyon.", "", "Peter Berg works for Siemens in Munich. He left."]
    assert list(fitted.pipe(texts, batch_size=2)) == [fitted.tag_text(t) for t in texts]
    endless = itertools.cycle(texts)  # never ends: pipe must not read it all
    tracemalloc.start()
    first = list(itertools.islice(fitted.pipe(endless, batch_size=4), 300))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(first) == 300 and all(isinstance(e, Entity) for found in first for e in found)
    assert peak < 20 << 20
    with pytest.raises(TypeError, match="tag_text"):
        next(fitted.pipe("one text"))
