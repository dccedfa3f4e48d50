"""The text channel: a bag-of-n-grams classifier over the page's visible words, stacked into the model.

Farm templates share wording that no hand-written signal lists (stock bio sentences, link-list
labels, appeal and notice boilerplate, spinner synonyms). A linear model over hashed word 1-2 grams
learns that wording; its P(farm) becomes one more column of the trust model's feature matrix
(``TEXT_FEATURE``), so the gradient-boosted model decides how far to trust it next to the signals.

Stacking without leakage: the column the boosted model trains on is *cross-fitted*
(``cross_fitted_scores``: each row scored by a text model that never saw its story), the same
protocol as scikit-learn's ``TargetEncoder``; at scoring time the text model fitted on all training
rows fills it.

Hashing (no vocabulary) keeps the fitted model small and lets the n-gram counts of a corpus be
computed once (``counts``) and reused by every fit of an experiment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.utils import murmurhash3_32

from spamdetect.features import SignalFeaturizer, as_pages
from spamdetect.page import Page

TEXT_FEATURE = "text_model.farm_score"
MAX_WORDS = 6_000  # a page's first 6k words: its template, its story's start, and a bounded cost
N_FEATURES = 2 ** 18
C = 1.0  # L2 strength of the logistic regression: moderate, so no single n-gram decides a page


def page_words(page: Page) -> list[str]:
    """What the text channel reads: the page's visible words in order (lower-cased, as the signals
    tokenise them, so scoring reuses their work), capped."""
    words: list[str] = []
    for line in page.line_words:
        words.extend(line)
        if len(words) >= MAX_WORDS:
            break
    return words[:MAX_WORDS]


def ngrams(words: list[str]) -> list[str]:
    """Word 1- and 2-grams of a word list (the vectorizer's analyzer)."""
    return [*words, *map(" ".join, zip(words, words[1:]))]


def vectorizer() -> HashingVectorizer:
    """Hashed word 1-2 grams of word lists; raw counts (TF-IDF weighting is learned in the fitted part)."""
    return HashingVectorizer(analyzer=ngrams, n_features=N_FEATURES, alternate_sign=False, norm=None,
                             dtype=np.float32)


def counts(docs: list[list[str]]) -> sparse.csr_matrix:
    """Hashed n-gram counts of word lists (stateless: the same for any model)."""
    return vectorizer().transform([d[:MAX_WORDS] for d in docs]).tocsr()


def fit_on_counts(T: sparse.csr_matrix, y: np.ndarray, *, seed: int = 0) -> Pipeline:
    """TF-IDF weighting plus logistic regression fitted on count rows (no vectorizer in front)."""
    pipe = Pipeline([("tfidf", TfidfTransformer(sublinear_tf=True)),
                     ("clf", LogisticRegression(C=C, max_iter=2000, solver="liblinear", random_state=seed))])
    return pipe.fit(T, y)


def with_vectorizer(fitted: Pipeline) -> Pipeline:
    """The fitted count model as a text -> P(farm) pipeline (the hashing step has no state)."""
    return Pipeline([("hash", vectorizer()), *fitted.steps])


def cross_fitted_scores(T: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, *, folds: int = 5,
                        seed: int = 0) -> np.ndarray:
    """P(farm) of every row from a text model fitted on the other folds (folds grouped by story)."""
    out = np.full(T.shape[0], np.nan)
    n = min(folds, len(np.unique(groups)))
    if n < 2:
        return fit_on_counts(T, y, seed=seed).predict_proba(T)[:, 1]
    for fit_rows, score_rows in GroupKFold(n_splits=n).split(T, y, groups):
        if len(np.unique(y[fit_rows])) < 2:
            out[score_rows] = float(np.mean(y[fit_rows]))
            continue
        out[score_rows] = fit_on_counts(T[fit_rows], y[fit_rows], seed=seed).predict_proba(T[score_rows])[:, 1]
    return out


@dataclass
class TextFit:
    """The text channel fitted on training rows: the pipeline for new pages, and the training rows'
    cross-fitted scores (the column the boosted model learns from)."""

    model: Pipeline
    cross_fitted: np.ndarray


def fit_channel(T: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, *, folds: int = 5, seed: int = 0) -> TextFit:
    """Fit the text channel on count rows ``T`` (``counts``) with labels and story groups."""
    return TextFit(with_vectorizer(fit_on_counts(T, y, seed=seed)),
                   cross_fitted_scores(T, y, groups, folds=folds, seed=seed))


def farm_scores(model: Pipeline, docs: list[list[str]]) -> np.ndarray:
    """P(farm) from a fitted text pipeline (``with_vectorizer``) for each word list."""
    if not docs:
        return np.empty(0)
    return model.predict_proba([d[:MAX_WORDS] for d in docs])[:, 1]


def farm_scores_of_counts(model: Pipeline, T: sparse.spmatrix) -> np.ndarray:
    """P(farm) from a fitted text pipeline for rows already counted (``counts``)."""
    return model[1:].predict_proba(T)[:, 1] if T.shape[0] else np.empty(0)


def top_terms(model: Pipeline, words: list[str], n: int = 3) -> list[str]:
    """The n-grams of this page that push its score furthest towards farm (for reasons)."""
    words = words[:MAX_WORDS]
    x = model.named_steps["tfidf"].transform(model.named_steps["hash"].transform([words])).tocsr()
    weight = x.data * model.named_steps["clf"].coef_[0][x.indices]
    best = [int(x.indices[i]) for i in np.argsort(-weight)[:n] if weight[i] > 0]
    if not best:
        return []
    # hashing is one-way: find the words by hashing this page's own n-grams
    grams = sorted(set(ngrams(words)))
    slots = np.abs(np.array([murmurhash3_32(g, positive=False) for g in grams], dtype=np.int64)) % model.named_steps["hash"].n_features
    return [min((g for g, slot in zip(grams, slots) if slot == col), key=len) for col in best]


class StackedFeaturizer(TransformerMixin, BaseEstimator):
    """Pages -> signal matrix plus the text channel's column (``TEXT_FEATURE``) as the last column.

    ``signals``: a fitted ``SignalFeaturizer``; ``text``: a fitted text pipeline (``with_vectorizer``).
    """

    def __init__(self, signals: SignalFeaturizer, text: Pipeline):
        self.signals = signals
        self.text = text

    @property
    def families(self) -> list[str] | None:
        return self.signals.families

    @property
    def domain_lists(self) -> bool:
        return self.signals.domain_lists

    def fit(self, X=None, y=None):
        return self

    def transform(self, X) -> np.ndarray:
        pages = as_pages(X)
        F = self.signals.transform(pages)
        scores = farm_scores(self.text, [page_words(p) if p is not None else [] for p in pages])
        scores[[p is None for p in pages]] = np.nan
        return np.column_stack([F, scores])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([*self.signals.get_feature_names_out(), TEXT_FEATURE], dtype=object)
