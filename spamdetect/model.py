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
from functools import partial
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

from spamdetect import reasons as reasons_mod
from spamdetect import text_model
from spamdetect.features import SignalFeaturizer, page_features, page_from_row
from spamdetect.page import Page
from spamdetect.text_predict import FastText
from spamdetect.tree_predict import FastCalibrated

FARM, TRUSTWORTHY = "farm", "trustworthy"
TEXT_MODE_FEATURE = "text_quality.is_text_mode"
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
    training (e.g. the domain-list lookups when they are switched off).
    """

    def __init__(self, feature_names: list[str], drop: tuple[str, ...] = ()):
        self.feature_names = feature_names
        self.drop = drop

    def fit(self, X, y=None):
        X = np.asarray(X, dtype=np.float64)
        seen = ~np.all(np.isnan(X), axis=0)
        self.keep_ = np.array([seen[i] and n not in self.drop for i, n in enumerate(self.feature_names)])
        return self

    def transform(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, self.keep_]

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(self.feature_names, dtype=object)[self.keep_]


def fit_pipeline(F: np.ndarray, y: np.ndarray, groups: np.ndarray, *, families: list[str] | None = None,
                 domain_lists: bool = False, calibration: str = "isotonic", folds: int = 5,
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
    select = ModelColumns(list(featurizer.get_feature_names_out()), UNMODELLED_FEATURES).fit(F)
    cv = list(GroupKFold(n_splits=folds).split(F, y, groups))
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

    # ----- probabilities ------------------------------------------------------------

    def farm_proba_features(self, F: np.ndarray) -> np.ndarray:
        """P(farm) from a feature matrix (skips the featurizer)."""
        steps = self.pipeline.named_steps
        X = steps["select"].transform(F)
        fast = self._fast_classifier(X)
        return fast.farm_proba(X) if fast is not None else steps["clf"].predict_proba(X)[:, 1]

    def _fast_classifier(self, X: np.ndarray) -> FastCalibrated | None:
        """The classifier as ``tree_predict.FastCalibrated``: the same probabilities at a third of
        the cost on a batch of pages (see ``_fast_stand_in``)."""
        return self._fast_stand_in("_fast", self.pipeline.named_steps["clf"], FastCalibrated, X)

    def _fast_text(self, docs: list[list[str]]) -> FastText | None:
        """The text channel as ``text_predict.FastText``: the same probabilities at half the cost,
        and reason quotes at a quarter (see ``_fast_stand_in``)."""
        return self._fast_stand_in("_fast_text_cache", self.text, FastText, docs)

    def _fast_stand_in(self, key: str, fitted, fast_type, sample):
        """``fast_type(fitted)``, numpy in place of a fitted scikit-learn step, built on first use
        and checked once against scikit-learn on the first non-empty batch (``sample``); kept in
        ``self.__dict__[key]`` while ``fitted`` is the model's. None (scikit-learn computes) for a
        step ``fast_type`` does not support, or on a mismatch, with a warning."""
        cached = self.__dict__.get(key)
        if cached is not None and cached[0] is fitted:
            return cached[1]
        fast = fast_type(fitted) if fast_type.supports(fitted) else None
        if fast is not None and not len(sample):
            return fast  # nothing to check it on yet: used for this empty batch, not kept
        if fast is not None and not fast.matches(fitted, sample):
            warnings.warn(f"{fast_type.__name__} differs from scikit-learn; using scikit-learn", RuntimeWarning)
            fast = None
        self.__dict__[key] = (fitted, fast)
        return fast

    def __getstate__(self) -> dict:
        # the compiled classifiers are rebuilt on demand; pickles (e.g. to worker processes) stay lean
        state = self.__dict__.copy()
        state.pop("_fast", None)
        state.pop("_fast_text_cache", None)
        return state

    def _signal_row(self, page: Page) -> list[float]:
        fz = self.featurizer
        values = page_features(page, fz.families, fz.domain_lists)
        return [values.get(n, np.nan) for n in self.feature_names]

    def _add_text_scores(self, F: np.ndarray, pages: list[Page]) -> list[list[str]] | None:
        """Fill the text channel's column (the last) in place, in one call for all pages; returns
        the pages' words (reasons quote them), or None for a model without a text channel."""
        if self.text is None:
            return None
        docs = [text_model.page_words(p) for p in pages]
        if docs:
            fast = self._fast_text(docs)
            F[:, -1] = fast.farm_scores(docs) if fast is not None else text_model.farm_scores(self.text, docs)
        return docs

    # ----- reasons --------------------------------------------------------------------

    def farm_log_odds_features(self, F: np.ndarray) -> np.ndarray:
        """Uncalibrated log-odds of farm from the first calibration fold's boosted model.

        Reasons use these rather than calibrated probabilities: isotonic calibration is flat near
        0 and 1, so a blatant farm's probability would not move when one sign is taken away.
        One fold's model is enough to rank the families and costs a fifth of all five.
        """
        steps = self.pipeline.named_steps
        return steps["clf"].calibrated_classifiers_[0].estimator.decision_function(steps["select"].transform(F))

    def contributions(self, F: np.ndarray) -> list[dict[str, float]]:
        """For each row, how much each reason group pushes the page towards farm (in log-odds).

        Two views, batched in one predict: occlusion (the page with the group set to the typical
        legit value of its mode: how much is lost) and insertion (a typical legit page given just
        this group: how much it alone adds). The larger counts, so signs that repeat each other
        on a blatant farm are each still credited.
        """
        names = self.feature_names
        groups = reasons_mod.groups_for(names)
        if not len(F) or not groups:
            return [{} for _ in range(len(F))]
        text_col = names.index(TEXT_MODE_FEATURE) if TEXT_MODE_FEATURE in names else None
        modes = ["text" if text_col is not None and row[text_col] == 1.0 else "html" for row in F]
        refs = np.vstack([self.reference["html"], self.reference["text"]])
        R = refs[[1 if m == "text" else 0 for m in modes]]  # each row's reference
        masks = np.zeros((len(groups), F.shape[1]), dtype=bool)
        for g, cols in enumerate(groups.values()):
            masks[g, cols] = True
        # per row and group: the row with the group's columns from the reference (occluded), and
        # the reference with the group's columns from the row (inserted), in that order
        occluded = np.where(masks[None], R[:, None], F[:, None])
        inserted = np.where(masks[None], F[:, None], R[:, None])
        rows = np.stack([occluded, inserted], axis=2).reshape(-1, F.shape[1])
        # One predict for everything: each call costs a fixed ~7 ms (tree by tree) on top of its rows.
        scored = self.farm_log_odds_features(np.vstack([refs, F, rows]))
        ref_score = dict(zip(("html", "text"), scored[:2]))
        base = scored[2:2 + len(F)]
        scores = scored[2 + len(F):].reshape(len(F), len(groups), 2)
        out = []
        for i, mode in enumerate(modes):
            drop = base[i] - scores[i, :, 0]
            gain = scores[i, :, 1] - ref_score[mode]
            out.append(dict(zip(groups, np.maximum(drop, gain).tolist())))
        return out

    def _terms_finder(self, docs: list[list[str]]):
        """``top_terms(words)`` of the text channel, fast when ``_fast_text`` is."""
        fast = self._fast_text(docs)
        return fast.top_terms if fast is not None else partial(text_model.top_terms, self.text)

    # ----- scoring --------------------------------------------------------------------

    def score_features(self, F: np.ndarray, *, with_reasons: bool = True,
                       docs: list[list[str]] | None = None) -> list[dict]:
        """Trust, label and reasons for rows of a feature matrix (``docs``: the rows' words,
        ``text_model.page_words``, to quote the text channel's farm-like words in the reasons)."""
        p = self.farm_proba_features(F) if len(F) else np.array([])
        contribs = self.contributions(F) if with_reasons else [{} for _ in range(len(F))]
        names = self.feature_names
        terms = self._terms_finder(docs) if with_reasons and docs is not None and self.text is not None else None
        out = []
        for i in range(len(F)):
            values = dict(zip(names, F[i]))
            label = FARM if p[i] >= self.threshold else TRUSTWORTHY
            reasons = []
            if with_reasons:
                details = None
                if terms is not None:
                    details = {"text_model": partial(_quoted_terms, terms, docs[i])}
                reasons = reasons_mod.explain(values, contribs[i], farm=label == FARM, details=details)
            out.append({"trust": round(float(1.0 - p[i]), 4), "label": label, "reasons": reasons})
        return out

    def score_pages(self, pages: list[Page | None], *, with_reasons: bool = True) -> list[dict]:
        """Score pages; a page whose signals fail gets an error record, the others still score."""
        rows, ok, errors = [], [], {}
        for i, page in enumerate(pages):
            if page is None:
                errors[i] = "no page"
                continue
            try:
                rows.append(self._signal_row(page))
                ok.append(i)
            except Exception as exc:  # noqa: BLE001 - isolate the failure to this record
                errors[i] = f"signals failed: {type(exc).__name__}: {exc}"[:300]
        F = np.array(rows, dtype=np.float64).reshape(len(rows), len(self.feature_names))
        docs = self._add_text_scores(F, [pages[i] for i in ok])
        scored = self.score_features(F, with_reasons=with_reasons, docs=docs) if rows else []
        out: list[dict] = [{} for _ in pages]
        for i, result in zip(ok, scored):
            page = pages[i]
            if page.notes:
                result["reasons"] = result["reasons"] + [f"note: {n}" for n in page.notes]
            out[i] = {**result, "error": None}
        for i, msg in errors.items():
            out[i] = {"trust": None, "label": None, "reasons": [], "error": msg}
        return out

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
        ids = [str(r["id"]) if r.get("id") is not None and not _isnan(r.get("id")) else str(i)
               for i, r in enumerate(records)]
        urls = [r.get("url") if isinstance(r.get("url"), str) else None for r in records]
        # object dtype keeps None as None (pandas 3 would turn it into NaN in a string column)
        columns = {"id": ids, "url": urls, **{k: [r[k] for r in results] for k in ("trust", "label", "reasons", "error")}}
        return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})

    def explain(self, page: Page) -> dict:
        """Score one page and show every signal's value and every group's contribution."""
        F = np.array([self._signal_row(page)], dtype=np.float64)
        result = self.score_features(F, docs=self._add_text_scores(F, [page]))[0]
        contrib = self.contributions(F)[0]
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
        return path

    @classmethod
    def load(cls, path: str | Path) -> "TrustModel":
        data = joblib.load(path)
        return cls(data["pipeline"], data["threshold"], data["reference"], data.get("meta", {}))


def _quoted_terms(top_terms, words: list[str]) -> str:
    return ", ".join(f"'{t}'" for t in top_terms(words))


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


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
