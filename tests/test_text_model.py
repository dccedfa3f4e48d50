"""The text channel: hashed n-gram counts, cross-fitted scores without leakage, reasons' words."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from spamdetect import text_model
from spamdetect.features import SignalFeaturizer
from spamdetect.page import Page, words

FARM = words("My name is Dr. Ann Lee and I am a creative person who loves writing. Don't miss our ranking of stories.")
LEGIT = words("The council met on Tuesday to discuss the budget for schools and roads in the coming year.")


def _corpus(n: int = 160, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    texts, y, groups = [], [], []
    for g in range(n):
        label = int(rng.integers(0, 2))
        story = [f"story{g}"] * 5  # a word only this story's rows share
        # publishers use farm wording too, only rarely; "zorblax" is a name only the farms use
        legit = LEGIT + (FARM[:12] if g % 4 == 0 else [])
        for _ in range(2):  # two renderings per story, like the corpus's html and text rows
            texts.append(story + (FARM + ["zorblax"] if label else legit))
            y.append(label)
            groups.append(g)
    return texts, np.array(y), np.array(groups)


def test_cross_fitted_scores_never_come_from_a_model_that_saw_the_story():
    """Labels that follow only the story's own word: a memorising text model scores its training rows
    perfectly, the cross-fitted column must be no better than chance."""
    rng = np.random.default_rng(1)
    texts = [[f"story{g}", "shared", "words", "of", "every", "page"] for g in range(80) for _ in range(2)]
    groups = np.repeat(np.arange(80), 2)
    y = np.repeat(rng.integers(0, 2, 80), 2)
    T = text_model.counts(texts)
    # min_stories=1: the vocabulary would otherwise drop the story words before any model sees them
    in_sample = text_model.fit_on_counts(T, y, groups, min_stories=1).predict_proba(T)[:, 1]
    crossed = text_model.cross_fitted_scores(T, y, groups, min_stories=1)
    assert roc_auc_score(y, in_sample) > 0.99
    assert roc_auc_score(y, crossed) < 0.7


def test_text_channel_learns_farm_wording_and_quotes_it():
    texts, y, groups = _corpus()
    fit = text_model.fit_channel(text_model.counts(texts), y, groups)
    p = text_model.farm_scores(fit.model, [FARM, LEGIT])
    assert p[0] > 0.8 > 0.2 > p[1]
    assert roc_auc_score(y, fit.cross_fitted) > 0.95
    page = ["local", "news", *FARM]
    terms = text_model.top_terms(fit.model, page)
    assert terms and set(terms) <= set(text_model.ngrams(page))
    assert "creative person" in text_model.top_terms(fit.model, page, n=40)
    # a word no legitimate page uses is the simulator's invention: never learned, never quoted
    assert "zorblax" not in text_model.top_terms(fit.model, [*page, "zorblax"], n=100)
    assert text_model.farm_scores(fit.model, [[*LEGIT, "zorblax"]])[0] == text_model.farm_scores(fit.model, [LEGIT])[0]
    assert text_model.top_terms(fit.model, ["the", "council", "met"]) == []


def test_legit_vocabulary_counts_stories_not_rows():
    """A word many rows of one legitimate story use (its renderings, its augmented copies) is that
    story's, not the language of publishers: it is learned only once enough stories use it."""
    rows = [["council", "budget", "wordpress"]] * 12 + [["council", "roads"]] * 3 + [[f"other{i}", "budget"] for i in range(9)]
    rows += [[f"filler{i}"] for i in range(90)]  # 100 stories in all: the threshold is not capped
    y = np.zeros(len(rows), int)
    groups = np.array([0] * 12 + [1, 2, 3] + list(range(4, 13)) + list(range(13, 103)))
    vocab = text_model.LegitVocabulary(min_stories=10).fit(text_model.counts(rows), y, groups)
    kept = set(vocab.columns_.tolist())

    def col(g):
        return int(text_model.counts([[g]]).indices[0])

    assert col("budget") in kept  # 10 stories: story 0 and the nine others
    assert col("wordpress") not in kept and col("council") not in kept  # 12 and 15 rows, but 1 and 4 stories
    assert col("wordpress") in set(text_model.LegitVocabulary(min_stories=10).fit(text_model.counts(rows), y).columns_.tolist())


def test_counts_of_texts_equal_the_fitted_pipelines_own_hashing():
    texts, y, groups = _corpus(20)
    fit = text_model.fit_channel(text_model.counts(texts), y, groups)
    np.testing.assert_allclose(text_model.farm_scores_of_counts(fit.model, text_model.counts(texts[:5])),
                               text_model.farm_scores(fit.model, texts[:5]))


def test_stacked_featurizer_appends_the_text_score_and_keeps_bad_rows_nan():
    texts, y, groups = _corpus(20)
    fit = text_model.fit_channel(text_model.counts(texts), y, groups)
    fz = text_model.StackedFeaturizer(SignalFeaturizer().fit(), fit.model)
    pages = [Page.from_text("A headline\n" + " ".join(FARM)), None]
    X = fz.transform(pages)
    names = list(fz.get_feature_names_out())
    assert names[-1] == text_model.TEXT_FEATURE and X.shape == (2, len(names))
    assert X[0, -1] == text_model.farm_scores(fit.model, [text_model.page_words(pages[0])])[0]
    assert np.isnan(X[1]).all()


def test_numbers_are_left_out_so_years_never_become_farm_words():
    """The corpus's farms are restamped later than its real stories: a year must not be a feature."""
    page = Page.from_text("Storm hits coast 2025\nThe 3 crews worked until 2024-05-01 on route 66 and ２０２６, covid-19.")
    assert text_model.page_words(page) == ["storm", "hits", "coast", "the", "crews", "worked", "until", "on", "route",
                                           "and"]
