"""The trust model: one scikit-learn Pipeline (featurizer -> calibrated gradient boosting),
a default threshold chosen on validation data, and page-specific reasons.

``trust = 1 - P(farm)``; ``label = "farm"`` when ``P(farm) >= threshold``.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from spamdetect import text_model
from spamdetect.features import SignalFeaturizer, page_from_row
from spamdetect.page import Page, is_missing
from spamdetect.scorer import FARM, TEXT_MODE_FEATURE, TRUSTWORTHY, Scorer, write_scorer  # noqa: F401
from spamdetect.text_predict import FastText
from spamdetect.tree_predict import FastCalibrated
# Computed (for reasons and experiments) but never shown to the classifier, because on our
# corpus they encode how the simulator or the corpus was made rather than what a farm is:
UNMODELLED_FEATURES = (
    # absolute time: the real pages are 2012-2023 material, restamps run later
    "dates.stamp_year", "dates.stamp_ordinal", "dates.story_latest_year",
    # URL shape: farm URLs are drawn by the simulator, so their paths would teach its habits
    "domain.path_depth", "domain.numeric_slug", "domain.html_ending", "domain.query_length",
    "domain.label_length", "domain.subdomain_depth",
)


def build_classifier(*, max_iter: int = 150, learning_rate: float = 0.12, max_leaf_nodes: int = 31,
                     min_samples_leaf: int = 30, l2_regularization: float = 1.0,
                     random_state: int = 0) -> HistGradientBoostingClassifier:
    """The gradient-boosted classifier with the project's defaults (regularised for generalisation).

    150 rounds at rate 0.12 rank as well as 300 at 0.06 (test ROC-AUC 0.955 against 0.954, signals
    only) with half the trees: five calibration folds of them keep the shipped file near 1 MB and
    halve the trees walked per page."""
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=learning_rate, max_leaf_nodes=max_leaf_nodes,
        min_samples_leaf=min_samples_leaf, l2_regularization=l2_regularization,
        random_state=random_state, early_stopping=False,
    )


class ModelColumns(TransformerMixin, BaseEstimator):
    """Chooses the signal columns the classifier sees.

    Drops the unmodelled columns (see ``UNMODELLED_FEATURES``) and columns with no value in
    training (e.g. the domain-list lookups when they are switched off). Given ``parts`` (the
    calibration folds' training rows), a column must have a value in each: a fold model cannot
    bin a column that is all missing in its rows (scikit-learn fails on it), which happens in
    small corpora.
    """

    def __init__(self, feature_names: list[str], drop: tuple[str, ...] = ()):
        self.feature_names = feature_names
        self.drop = drop

    def fit(self, X, y=None, parts: list[np.ndarray] | None = None):
        X = np.asarray(X, dtype=np.float64)
        seen = np.logical_and.reduce([~np.all(np.isnan(X[rows]), axis=0) for rows in (parts or [slice(None)])])
        self.keep_ = np.array([seen[i] and n not in self.drop for i, n in enumerate(self.feature_names)])
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, self.keep_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.feature_names, dtype=object)[self.keep_]


CALIBRATION_FOLDS = 5  # fold models, each calibrated on the stories it did not see


def fit_pipeline(F: np.ndarray, y: np.ndarray, groups: np.ndarray, *, families: list[str] | None = None,
                 domain_lists: bool = False, calibration: str = "isotonic", folds: int = CALIBRATION_FOLDS,
                 text: text_model.TextFit | None = None, **clf_params) -> tuple[Pipeline, np.ndarray]:
    """Fit the calibrated classifier on a precomputed signal matrix and wrap it with its featurizer.

    With ``text`` (the text channel fitted on the same rows) its cross-fitted score is the
    classifier's last column. Returns the pipeline and the matrix the
    classifier was fitted on. Calibration folds are grouped by source article, so no story's
    variants calibrate its own score.
    """
    featurizer = SignalFeaturizer(families=families, domain_lists=domain_lists).fit()
    if text is not None:
        F = np.column_stack([F, text.cross_fitted])
        featurizer = text_model.StackedFeaturizer(featurizer, text.model)
    cv = list(GroupKFold(n_splits=folds).split(F, y, groups))
    select = ModelColumns(list(featurizer.get_feature_names_out()), UNMODELLED_FEATURES).fit(
        F, parts=[train for train, _ in cv])
    # Five fold models, each with its own isotonic calibration, averaged: one isotonic calibrator
    # alone gives only ~40 distinct scores (a tenth of validation farms tie at P = 1.0), too coarse
    # to rank pages or to choose a threshold on.
    clf = CalibratedClassifierCV(build_classifier(**clf_params), method=calibration, cv=cv)
    clf.fit(select.transform(F), y)
    return Pipeline([("features", featurizer), ("select", select), ("clf", clf)]), F


def legit_reference(F: np.ndarray, y: np.ndarray, text_mode: np.ndarray) -> dict[str, np.ndarray]:
    """Per-mode median feature values of legit pages: the 'typical page' reasons compare against."""
    ref = {}
    for mode, mask in (("html", (y == 0) & ~text_mode), ("text", (y == 0) & text_mode)):
        rows = F[mask] if mask.any() else F[y == 0]
        with warnings.catch_warnings():  # all-NaN columns (HTML-only views in text mode) stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            ref[mode] = np.nanmedian(rows, axis=0) if len(rows) else np.full(F.shape[1], np.nan)
    return ref


@dataclass
class TrustModel:
    """A fitted pipeline plus what scoring needs around it: threshold, reference values, metadata."""

    pipeline: Pipeline
    threshold: float
    reference: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        return list(self.pipeline.named_steps["features"].get_feature_names_out())

    @property
    def featurizer(self) -> SignalFeaturizer | text_model.StackedFeaturizer:
        return self.pipeline.named_steps["features"]

    @property
    def text(self) -> Pipeline | None:
        """The fitted text channel (text -> P(farm)), or None for a signals-only model."""
        fz = self.featurizer
        return fz.text if isinstance(fz, text_model.StackedFeaturizer) else None

    def with_text(self, F: np.ndarray, counts: sparse.spmatrix | None) -> np.ndarray:
        """The model's matrix from a signal matrix and the rows' n-gram counts: the text channel's
        column appended when the model has one."""
        text = self.text
        if text is None:
            return F
        if counts is None:
            raise ValueError("this model reads the page text: pass the rows' text_model.counts")
        return np.column_stack([F, text_model.farm_scores_of_counts(text, counts)])

    # ----- scoring: through the model's numpy scorer -----------------------------------

    @property
    def scorer(self) -> Scorer:
        """The model as a ``scorer.Scorer`` (what every scoring method below runs), built on first
        use and checked against scikit-learn (``build_scorer``); kept while the pipeline is this one."""
        cached = self.__dict__.get("_scorer")
        if cached is None or cached[0] is not self.pipeline:
            cached = self.__dict__["_scorer"] = (self.pipeline, build_scorer(self))
        scorer = cached[1]
        # training chooses the threshold after scoring validation pages with the scorer
        scorer.threshold, scorer.reference = self.threshold, self.reference
        return scorer

    def __getstate__(self) -> dict:
        # the scorer is rebuilt on demand; pickles (e.g. to worker processes) stay lean
        state = self.__dict__.copy()
        state.pop("_scorer", None)
        return state

    def farm_proba_features(self, F: np.ndarray) -> np.ndarray:
        """P(farm) from a feature matrix (skips the featurizer)."""
        return self.scorer.farm_proba_features(F)

    def farm_log_odds_features(self, F: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of farm (see ``Scorer.farm_log_odds_features``)."""
        return self.scorer.farm_log_odds_features(F)

    def contributions(self, F: np.ndarray) -> list[dict[str, float]]:
        """Per row, how much each reason group pushes the page towards farm (``Scorer.contributions``)."""
        return self.scorer.contributions(F)

    def score_features(self, F: np.ndarray, *, with_reasons: bool = True,
                       docs: list[list[str]] | None = None) -> list[dict]:
        """Trust, label and reasons for rows of a feature matrix (``Scorer.score_features``)."""
        return self.scorer.score_features(F, with_reasons=with_reasons, docs=docs)

    def score_pages(self, pages: list[Page | None], *, with_reasons: bool = True) -> list[dict]:
        """Score pages; a page whose signals fail gets an error record, the others still score."""
        return self.scorer.score_pages(pages, with_reasons=with_reasons)

    def score_frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """Score a DataFrame of ``url`` plus ``html`` or ``text`` (``id``/``crawl_date`` optional)."""
        records = df.to_dict("records")
        pages: list[Page | None] = []
        bad: dict[int, str] = {}
        for i, row in enumerate(records):
            try:
                pages.append(page_from_row(row))
            except (ValueError, TypeError) as exc:
                pages.append(None)
                bad[i] = f"unreadable record: {exc}"
        results = self.score_pages(pages)
        for i, msg in bad.items():
            results[i]["error"] = msg
        ids = [str(r["id"]) if not is_missing(r.get("id")) else str(i)
               for i, r in enumerate(records)]
        urls = [r.get("url") if isinstance(r.get("url"), str) else None for r in records]
        # object dtype keeps None as None (pandas 3 would turn it into NaN in a string column)
        columns = {"id": ids, "url": urls, **{k: [r[k] for r in results] for k in ("trust", "label", "reasons", "error")}}
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})

    def explain(self, page: Page) -> dict:
        """Score one page and show every signal's value and every group's contribution."""
        scorer = self.scorer
        F = np.array([scorer.signal_row(page)], dtype=np.float64)
        result = scorer.score_features(F, docs=scorer.add_text_scores(F, [page]))[0]
        contrib = scorer.contributions(F)[0]
        return {**result, "threshold": self.threshold,
                "features": dict(zip(self.feature_names, (None if math.isnan(v) else float(v) for v in F[0]))),
                "contributions": {k: round(float(v), 4) for k, v in contrib.items()}}

    # ----- persistence -------------------------------------------------------------

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed: a process loading the model meanwhile sees the old file or the new one.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        joblib.dump({"pipeline": self.pipeline, "threshold": self.threshold, "reference": self.reference,
                     "meta": self.meta}, tmp, compress=("xz", 6))  # xz: the shipped file stays under 1 MB
        os.replace(tmp, path)
        write_scorer(self.scorer, path)  # bulk scoring loads this, without scikit-learn
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TrustModel":
        data = joblib.load(path)
        return cls(data["pipeline"], data["threshold"], data["reference"], data.get("meta", {}))


# ----- the numpy scorer of a fitted pipeline ---------------------------------------------------

def build_scorer(model: TrustModel) -> Scorer:
    """The fitted ``model`` as a ``Scorer``.

    The classifier and the text channel become their numpy stand-ins (``tree_predict.FastCalibrated``,
    ``text_predict.FastText``) once they give exactly scikit-learn's numbers on generated inputs:
    rows that put every column at every split threshold the trees use (and just above it, and
    missing), and texts of common words in several languages. A step they do not support, or a
    mismatch (a scikit-learn upgrade that changed the arithmetic), keeps scikit-learn, with a warning.
    """
    steps = model.pipeline.named_steps
    fz, clf = steps["features"], steps["clf"]
    classifier = _checked(FastCalibrated, clf, lambda fast: _check_rows(fast.folds)) or _SklearnClassifier(clf)
    text = model.text
    channel = None
    if text is not None:
        channel = _checked(FastText, text, lambda fast: _check_docs()) or _SklearnText(text)
    return Scorer(model.feature_names, fz.families, fz.domain_lists, steps["select"].keep_.copy(),
                  classifier, channel, model.threshold, model.reference)


def _checked(fast_type, fitted, sample):
    """``fast_type(fitted)`` when it supports ``fitted`` and matches it on ``sample(fast)``, else None."""
    if not fast_type.supports(fitted):
        return None
    fast = fast_type(fitted)
    if fast.matches(fitted, sample(fast)):
        return fast
    warnings.warn(f"{fast_type.__name__} differs from scikit-learn; using scikit-learn", RuntimeWarning)
    return None


def _check_rows(folds, n: int = 512, seed: int = 0) -> np.ndarray:
    """Rows in which each column takes every threshold any tree splits it at, the next number
    above each, and missing, each at least once and in shuffled combinations: every comparison a
    tree makes is met from both sides and at equality."""
    rng = np.random.default_rng(seed)
    width = folds[0].n_features
    values: list[list[float]] = [[np.nan] for _ in range(width)]
    for trees in folds:
        split = trees.child[0::2] != np.arange(len(trees.threshold))  # a leaf points to itself
        for col, t in zip(trees.column[split] % width, trees.threshold[split]):
            values[col] += [t, np.nextafter(t, np.inf)]
    n = max(n, *map(len, values))
    return np.column_stack([rng.permutation(np.resize(np.array(v), n)) for v in values])


def _check_docs(n: int = 24, seed: int = 0) -> list[list[str]]:
    """Word lists of common words (the stop-word lists of seven languages, whose 1- and 2-grams the
    text channel's vocabulary holds), some accented and apostrophed words, and lengths from none
    to past the channel's word cap."""
    from spamdetect.signals.text_quality import all_stopwords
    from spamdetect.text_predict import MAX_WORDS

    rng = np.random.default_rng(seed)
    words = sorted(all_stopwords()) + ["naïve", "über", "l'été", "don't", "news", "said", "writer", "loves"]
    lengths = [0, 1, 2] + [int(k) for k in rng.integers(3, 900, n - 4)] + [MAX_WORDS + 500]
    return [[words[i] for i in rng.integers(len(words), size=k)] for k in lengths]


class _SklearnClassifier:
    """The calibrated classifier through scikit-learn, for models ``FastCalibrated`` does not cover."""

    def __init__(self, clf: CalibratedClassifierCV) -> None:
        self.clf = clf

    def farm_proba(self, X: np.ndarray) -> np.ndarray:
        return self.clf.predict_proba(X)[:, 1]

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        return self.clf.calibrated_classifiers_[0].estimator.decision_function(X)


class _SklearnText:
    """The text channel through scikit-learn, for pipelines ``FastText`` does not cover."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def farm_scores(self, docs: list[list[str]]) -> np.ndarray:
        return text_model.farm_scores(self.pipeline, docs)

    def top_terms(self, words: list[str], n: int = 3) -> list[str]:
        return text_model.top_terms(self.pipeline, words, n)


def train_model(F_train: np.ndarray, y_train: np.ndarray, groups_train: np.ndarray, F_val: np.ndarray,
                y_val: np.ndarray, *, families: list[str] | None = None, domain_lists: bool = False,
                max_fpr: float = 0.005, text_train: sparse.spmatrix | None = None,
                text_val: sparse.spmatrix | None = None, text_fit: text_model.TextFit | None = None,
                **clf_params) -> TrustModel:
    """Fit, calibrate and choose the default threshold: the lowest P(farm) cut whose false-positive
    rate on the validation legit pages (real and augmented) is at most ``max_fpr``, half
    the 1% target for real pages.

    ``F_*`` are signal matrices; ``text_train``/``text_val`` the rows' n-gram counts
    (``text_model.counts``): given, the model gets the text channel (``text_fit``: the channel
    already fitted on these training rows, to share one fit between several models).
    """
    from spamdetect.evaluate import choose_threshold

    t0 = time.time()
    if text_fit is None and text_train is not None:
        text_fit = text_model.fit_channel(text_train, y_train, groups_train, seed=clf_params.get("random_state", 0))
    pipeline, X_train = fit_pipeline(F_train, y_train, groups_train, families=families, domain_lists=domain_lists,
                                     text=text_fit, **clf_params)
    names = list(pipeline.named_steps["features"].get_feature_names_out())
    text_col = names.index(TEXT_MODE_FEATURE) if TEXT_MODE_FEATURE in names else None
    text_mode = X_train[:, text_col] == 1.0 if text_col is not None else np.zeros(len(X_train), bool)
    model = TrustModel(pipeline, 0.5, legit_reference(X_train, y_train, text_mode))
    p_val = model.farm_proba_features(model.with_text(F_val, text_val))
    model.threshold = float(choose_threshold(y_val, p_val, max_fpr=max_fpr))
    model.meta = {"families": families, "domain_lists": domain_lists, "max_fpr": max_fpr,
                  "clf_params": clf_params, "fit_seconds": round(time.time() - t0, 1),
                  "n_train": int(len(y_train)), "text_channel": model.text is not None}
    return model
