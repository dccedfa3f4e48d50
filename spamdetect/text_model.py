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
# what the channel reads, and the ranking of its quotes, live with its numpy prediction (no scikit-learn)
from spamdetect.text_predict import MAX_WORDS, ngrams, page_words, rank_terms  # noqa: F401

TEXT_FEATURE = "text_model.farm_score"
# 2^20 slots: at 2^18 hash collisions put nearly every slot in use by some legitimate page, and
# the legit vocabulary filtered nothing
N_FEATURES = 2 ** 20
MIN_STORIES = 10  # an n-gram is learned only once legitimate pages of this many stories use it (LegitVocabulary)
C = 1.0  # L2 strength of the logistic regression: moderate, so no single n-gram decides a page


def vectorizer() -> HashingVectorizer:
    """Hashed word 1-2 grams of word lists; raw counts (TF-IDF weighting is learned in the fitted part)."""
    return HashingVectorizer(analyzer=ngrams, n_features=N_FEATURES, alternate_sign=False, norm=None,
                             dtype=np.float32)


def counts(docs: list[list[str]]) -> sparse.csr_matrix:
    """Hashed n-gram counts of word lists (stateless: the same for any model)."""
    return vectorizer().transform([d[:MAX_WORDS] for d in docs]).tocsr()


class LegitVocabulary(TransformerMixin, BaseEstimator):
    """Keeps the n-gram columns that legitimate training pages of at least ``min_stories`` different
    stories use (``groups``: each row's story; without them every row counts as its own story).

    A farm-only n-gram is, on our corpus, mostly the simulator's own invention (its generated names,
    streets, job titles): learning it would teach the simulator, not farms. One story's own words
    (its names, its publisher's boilerplate) would teach that story: its html and text renderings
    and augmented copies are several rows, so rows are not counted, stories are. Wording farms
    share with publishers but use differently ("my name is", "don't miss", "recommendation") stays.
    The threshold is capped at a tenth of the legitimate stories, so a small training set keeps
    a vocabulary.
    """

    def __init__(self, min_stories: int = MIN_STORIES):
        self.min_stories = min_stories

    def fit(self, T: sparse.spmatrix, y: np.ndarray, groups: np.ndarray | None = None):
        legit = np.asarray(y) == 0
        rows = sparse.csr_matrix(T)[legit].tocoo()
        story = (np.unique(np.asarray(groups)[legit], return_inverse=True)[1] if groups is not None
                 else np.arange(legit.sum()))
        cols = np.unique(np.stack([rows.col, story[rows.row]]), axis=1)[0]  # one entry per (column, story)
        n_stories = story.max() + 1 if len(story) else 0
        need = min(self.min_stories, max(1, n_stories // 10))
        self.columns_ = np.flatnonzero(np.bincount(cols, minlength=T.shape[1]) >= need).astype(np.int32)
        if not len(self.columns_):  # no legitimate rows at all: one (empty) column keeps the pipeline valid
            self.columns_ = np.zeros(1, np.int32)
        return self

    def transform(self, T: sparse.spmatrix) -> sparse.csr_matrix:
        return sparse.csr_matrix(T)[:, self.columns_]


def fit_on_counts(T: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray | None = None, *, seed: int = 0,
                  min_stories: int = MIN_STORIES) -> Pipeline:
    """Legit vocabulary, TF-IDF weighting and logistic regression fitted on count rows (no
    vectorizer in front); ``groups``: each row's story, for the vocabulary."""
    pipe = Pipeline([("vocab", LegitVocabulary(min_stories)), ("tfidf", TfidfTransformer(sublinear_tf=True)),
                     ("clf", LogisticRegression(C=C, max_iter=2000, solver="liblinear", random_state=seed))])
    return pipe.fit(T, y, vocab__groups=groups)


def with_vectorizer(fitted: Pipeline) -> Pipeline:
    """The fitted count model as a text -> P(farm) pipeline (the hashing step has no state)."""
    return Pipeline([("hash", vectorizer()), *fitted.steps])


def cross_fitted_scores(T: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, *, folds: int = 5,
                        seed: int = 0, min_stories: int = MIN_STORIES) -> np.ndarray:
    """P(farm) of every row from a text model fitted on the other folds (folds grouped by story)."""
    out = np.full(T.shape[0], np.nan)
    n = min(folds, len(np.unique(groups)))
    if n < 2:
        return fit_on_counts(T, y, groups, seed=seed, min_stories=min_stories).predict_proba(T)[:, 1]
    for fit_rows, score_rows in GroupKFold(n_splits=n).split(T, y, groups):
        if len(np.unique(y[fit_rows])) < 2:
            out[score_rows] = float(np.mean(y[fit_rows]))
            continue
        fitted = fit_on_counts(T[fit_rows], y[fit_rows], groups[fit_rows], seed=seed, min_stories=min_stories)
        out[score_rows] = fitted.predict_proba(T[score_rows])[:, 1]
    return out


@dataclass
class TextFit:
    """The text channel fitted on training rows: the pipeline for new pages, and the training rows'
    cross-fitted scores (the column the boosted model learns from)."""

    model: Pipeline
    cross_fitted: np.ndarray


def fit_channel(T: sparse.csr_matrix, y: np.ndarray, groups: np.ndarray, *, folds: int = 5, seed: int = 0) -> TextFit:
    """Fit the text channel on count rows ``T`` (``counts``) with labels and story groups."""
    return TextFit(with_vectorizer(fit_on_counts(T, y, groups, seed=seed)),
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
    """The n-grams of this page that push its score furthest towards farm (for reasons); n-grams of
    stop words only ("the", "i am") are left out: they say nothing to a reader. Ties (n-grams
    sharing a hash slot) go alphabetically."""
    words = words[:MAX_WORDS]
    hasher, vocab = model.named_steps["hash"], model.named_steps["vocab"].columns_
    x = model[1:-1].transform(hasher.transform([words])).tocsr()  # columns: positions in vocab
    push = np.zeros(len(vocab))
    push[x.indices] = x.data * model.named_steps["clf"].coef_[0][x.indices]
    # hashing is one-way: find each n-gram's slot by hashing it as the vectorizer does
    grams = list(set(ngrams(words)))
    slots = np.abs(np.array([murmurhash3_32(g, positive=False) for g in grams], dtype=np.int64)) % hasher.n_features
    at = np.minimum(np.searchsorted(vocab, slots), len(vocab) - 1)
    return rank_terms(grams, np.where(vocab[at] == slots, push[at], 0.0), n)


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
