"""The numpy text channel gives exactly scikit-learn's probabilities and reason quotes."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from spamdetect import text_model
from spamdetect.model import TrustModel
from spamdetect.page import Page, words
from spamdetect.text_predict import FastText, expit


@pytest.fixture(scope="module")
def real_docs(legit_records):
    """Words of real pages from every corpus folder, in html and in text mode."""
    step = max(1, len(legit_records) // 80)
    pages = [Page(html=r.read_bytes(), url=r.url) for r in legit_records[::step]]
    pages += [Page.from_text(p.to_text()) for p in pages[:20]]
    return [text_model.page_words(p) for p in pages]


EDGE_DOCS = [
    [],  # a page without words: the intercept alone
    ["zorblaxqwv", "unheardofword"],  # nothing in the vocabulary
    words("Die Süddeutsche Zeitung berichtet über Straßenbahnen in München. 東京の天気は晴れです。"),
    ["the"] * 7000,  # over MAX_WORDS, one n-gram repeated
]


def test_shipped_text_channel_is_bit_identical_to_scikit_learn(shipped, real_docs):
    assert FastText.supports(shipped.text)
    fast = FastText(shipped.text)
    docs = real_docs + EDGE_DOCS
    assert np.array_equal(fast.farm_scores(docs), text_model.farm_scores(shipped.text, docs))
    assert fast.matches(shipped.text, docs)


def test_expit_is_scipys_to_the_last_bit_where_numpys_exp_is_not_always():
    """On an AVX-512 CPU, 1 / (1 + np.exp(-x)) differs from scipy's expit in ~2% of these values,
    which made the text channel's probabilities 1 ulp off scikit-learn's on such a machine."""
    from scipy.special import expit as scipy_expit

    x = np.random.default_rng(0).normal(0, 30, 20_000)
    x = np.concatenate([x, [0.0, -0.0, -709.0, -709.9, -745.0, -800.0, 800.0, -np.inf, np.inf, -1e308, 1e308]])
    assert [expit(v) for v in x] == scipy_expit(x).tolist()


def test_quoted_terms_are_the_same_as_scikit_learns(shipped, real_docs):
    fast = FastText(shipped.text)
    for doc in real_docs[::3] + EDGE_DOCS:
        assert fast.top_terms(doc, n=8) == text_model.top_terms(shipped.text, doc, n=8)


def test_a_freshly_fitted_channel_matches_too():
    rng = np.random.default_rng(0)
    farm = words("My name is Dr. Ann Lee and I am a creative person who loves writing. Don't miss our ranking.")
    legit = words("The council met on Tuesday to discuss the budget for schools and roads in the coming year.")
    texts, y = [], []
    for g in range(60):
        label = int(rng.integers(0, 2))
        texts.append([f"story{g}"] + (farm if label else legit + farm[: g % 9]))
        y.append(label)
    fit = text_model.fit_channel(text_model.counts(texts), np.array(y), np.arange(60))
    fast = FastText(fit.model)
    assert np.array_equal(fast.farm_scores(texts), text_model.farm_scores(fit.model, texts))


def test_other_settings_are_left_to_scikit_learn(shipped):
    changed = copy.deepcopy(shipped.text)  # set_params would change the shared fitted steps
    changed.set_params(tfidf__sublinear_tf=False)
    assert not FastText.supports(changed)
    assert not FastText.supports(shipped.text[1:])  # no hashing step in front


def test_model_falls_back_to_scikit_learn_when_the_fast_path_disagrees(shipped, monkeypatch):
    model = TrustModel(shipped.pipeline, shipped.threshold, shipped.reference, shipped.meta)
    monkeypatch.setattr(FastText, "matches", lambda self, m, docs: False)
    page = Page.from_text("A headline\n" + "My name is Ann and I am a creative person who loves writing. " * 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = model.score_pages([page])[0]
    assert any("differs from scikit-learn" in str(w.message) for w in caught)
    assert not isinstance(model.scorer.text, FastText)
    monkeypatch.undo()
    assert TrustModel(shipped.pipeline, shipped.threshold, shipped.reference, shipped.meta).score_pages([page])[0] == result
