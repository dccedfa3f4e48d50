"""The numpy tree walker gives exactly scikit-learn's numbers, on the shipped model and on a fresh one."""

from __future__ import annotations

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from spamdetect.model import TrustModel
from spamdetect.tree_predict import FastCalibrated, FastTrees


def _rows(model: TrustModel, n: int = 200, seed: int = 0) -> np.ndarray:
    """Rows around the legit reference: typical values, scaled ones, and a share of missing values."""
    rng = np.random.default_rng(seed)
    ref = np.nan_to_num(model.reference["html"], nan=0.0)
    F = ref * rng.lognormal(0.0, 1.0, size=(n, len(ref))) + rng.normal(0.0, 1.0, size=(n, len(ref)))
    F[rng.random(F.shape) < 0.15] = np.nan
    return model.pipeline.named_steps["select"].transform(F)


def test_shipped_model_probabilities_are_bit_identical_to_scikit_learn(shipped):
    clf = shipped.pipeline.named_steps["clf"]
    X = _rows(shipped)
    assert FastCalibrated.supports(clf)
    fast = FastCalibrated(clf)
    assert np.array_equal(fast.farm_proba(X), clf.predict_proba(X)[:, 1])
    first = clf.calibrated_classifiers_[0].estimator
    assert np.array_equal(fast.folds[0].decision_function(X), first.decision_function(X))


def test_missing_values_follow_the_side_each_split_learned():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 4))
    y = (X[:, 0] + (np.isnan(X[:, 1]) | (X[:, 1] > 0.5)) > 0.3).astype(int)
    X[rng.random(X.shape) < 0.3] = np.nan  # missing in training too, so splits learn a side for NaN
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y)
    Xt = rng.normal(size=(300, 4))
    Xt[rng.random(Xt.shape) < 0.4] = np.nan
    Xt[:5] = np.nan  # rows with nothing known
    assert np.array_equal(FastTrees(model).decision_function(Xt), model.decision_function(Xt))


def test_a_model_with_categorical_features_is_left_to_scikit_learn():
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.integers(0, 4, 300), rng.normal(size=300)])
    y = (X[:, 0] == 2).astype(int)
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]).fit(X, y)
    assert not FastTrees.supports(model)
    clf = CalibratedClassifierCV(HistGradientBoostingClassifier(max_iter=5, categorical_features=[0]), cv=2).fit(X, y)
    assert not FastCalibrated.supports(clf)
