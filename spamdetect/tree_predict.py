"""Fast prediction for the shipped classifier: all trees of a boosted model walked at once with numpy.

scikit-learn predicts tree by tree, and each tree call costs ~20 us of fixed overhead, so a
150-tree model costs ~3.5 ms per call whatever the batch size: for the 32-page batches the scorer
sees, that overhead is most of the model's time (five calibration folds, plus the reason
attributions). Here each model's trees become flat node arrays and every (row, tree) pair
descends one level per numpy step.

The results are the same numbers scikit-learn computes (same comparisons, and leaf values added
tree by tree onto the baseline in the same order); ``FastCalibrated.matches`` checks that on
sample rows before the fast path is trusted, so a scikit-learn upgrade that changes the model
internals falls back to scikit-learn instead of silently changing scores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # built from scikit-learn objects, but scoring with them needs only numpy
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier


class FastTrees:
    """The trees of a fitted binary ``HistGradientBoostingClassifier`` (numeric features only).

    Layout: every node of every tree in one set of arrays. A leaf points to itself on both sides,
    so rows that reached a leaf just stay there and no step needs to sort them out. Missing
    values follow the side each split learned for them: a split that sends them left reads the
    feature from a copy of the rows with NaN as -inf (which every threshold lets pass left),
    the other splits read NaN, which compares False and goes right.
    """

    def __init__(self, model: HistGradientBoostingClassifier):
        trees = [iteration[0].nodes for iteration in model._predictors]
        sizes = [len(t) for t in trees]
        offsets = np.cumsum([0] + sizes[:-1])
        nodes = np.concatenate(trees)
        own = np.arange(len(nodes))
        leaf = nodes["is_leaf"].astype(bool)
        shift = np.repeat(offsets, sizes)  # local child index -> global
        left = np.where(leaf, own, nodes["left"] + shift)
        right = np.where(leaf, own, nodes["right"] + shift)
        self.n_features = int(model.n_features_in_)
        # child[2 * node + went_left]
        self.child = np.stack([right, left], axis=1).ravel().astype(np.intp)
        column = np.where(leaf, 0, nodes["feature_idx"] + self.n_features * nodes["missing_go_to_left"])
        self.column = column.astype(np.intp)
        self.threshold = nodes["num_threshold"].astype(np.float64)
        self.value = nodes["value"].astype(np.float64)
        self.baseline = float(model._baseline_prediction.ravel()[0])
        # Trees are walked shallowest first, so the ones already at their leaves are a prefix
        # that each further step skips; ``rank`` puts them back in the model's order for the sum.
        depths = np.array([int(t["depth"].max()) for t in trees])
        order = np.argsort(depths, kind="stable")
        self.roots = offsets[order].astype(np.intp)
        self.rank = np.argsort(order, kind="stable")
        self.finished = np.searchsorted(depths[order], np.arange(int(depths.max()) + 1), side="right")

    @staticmethod
    def supports(model) -> bool:
        """Binary, numeric-only, fitted HistGradientBoostingClassifier (what this module can walk)."""
        from sklearn.ensemble import HistGradientBoostingClassifier

        return (isinstance(model, HistGradientBoostingClassifier) and hasattr(model, "_predictors")
                and model.n_trees_per_iteration_ == 1 and model.is_categorical_ is None
                and getattr(model, "_preprocessor", None) is None)

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Raw log-odds per row, as ``model.decision_function``."""
        X = np.asarray(X, dtype=np.float64)
        n, n_trees = X.shape[0], len(self.roots)
        both = np.hstack([X, np.where(np.isnan(X), -np.inf, X)]).ravel()
        # entry e is tree e // n (in walking order) on row e % n
        node = np.repeat(self.roots, n)
        row_start = np.tile(np.arange(n, dtype=np.intp) * (2 * self.n_features), n_trees)
        for depth in range(len(self.finished) - 1):
            done = n * self.finished[depth]  # trees no deeper than this are at their leaves
            walking = node[done:]
            went_left = both[row_start[done:] + self.column[walking]] <= self.threshold[walking]
            node[done:] = self.child[2 * walking + went_left]
        terms = np.empty((n_trees + 1, n))
        terms[0] = self.baseline
        terms[1:] = self.value[node].reshape(n_trees, n)[self.rank]
        # a running sum adds tree by tree onto the baseline, as scikit-learn does: same rounding
        return np.add.accumulate(terms, axis=0)[-1]


class FastCalibrated:
    """``CalibratedClassifierCV`` (isotonic or sigmoid, binary) over boosted trees, predicted with ``FastTrees``."""

    def __init__(self, clf: CalibratedClassifierCV):
        self.folds = [FastTrees(cc.estimator) for cc in clf.calibrated_classifiers_]
        self.calibrators = [_as_arrays(cc.calibrators[0]) for cc in clf.calibrated_classifiers_]

    @staticmethod
    def supports(clf) -> bool:
        from sklearn.calibration import CalibratedClassifierCV

        return (isinstance(clf, CalibratedClassifierCV) and hasattr(clf, "calibrated_classifiers_")
                and len(clf.classes_) == 2 and clf.method in ("isotonic", "sigmoid")
                and all(FastTrees.supports(cc.estimator) and len(cc.calibrators) == 1
                        and list(cc.estimator.classes_) == list(clf.classes_)
                        for cc in clf.calibrated_classifiers_))

    def farm_proba(self, X: np.ndarray) -> np.ndarray:
        """P(class 1) per row, as ``clf.predict_proba(X)[:, 1]``."""
        mean = np.zeros((X.shape[0], 2))
        for trees, calibrator in zip(self.folds, self.calibrators):
            proba = np.zeros((X.shape[0], 2))
            proba[:, 1] = calibrator.predict(trees.decision_function(X))
            proba[:, 0] = 1.0 - proba[:, 1]
            proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        mean /= len(self.folds)
        return mean[:, 1]

    def log_odds(self, X: np.ndarray) -> np.ndarray:
        """The first fold's uncalibrated log-odds (what reasons compare), as its ``decision_function``."""
        return self.folds[0].decision_function(X)

    def matches(self, clf: CalibratedClassifierCV, X: np.ndarray) -> bool:
        """Whether this gives exactly scikit-learn's probabilities and first-fold decisions on ``X``."""
        first = clf.calibrated_classifiers_[0].estimator
        return (np.array_equal(self.farm_proba(X), clf.predict_proba(X)[:, 1])
                and np.array_equal(self.log_odds(X), first.decision_function(X)))


class _Isotonic:
    """A fitted ``IsotonicRegression(out_of_bounds="clip")`` as its breakpoints: ``predict`` is
    linear interpolation between them (scikit-learn's ``interp1d`` over ``X_thresholds_``), clipped
    to the end values, which is what ``np.interp`` computes, without importing scipy."""

    def __init__(self, iso) -> None:
        self.x, self.y = iso.X_thresholds_.astype(np.float64), iso.y_thresholds_.astype(np.float64)

    def predict(self, decision: np.ndarray) -> np.ndarray:
        return np.interp(decision, self.x, self.y)


def _as_arrays(calibrator):
    """Isotonic calibration as ``_Isotonic``; any other calibrator is kept as scikit-learn's."""
    from sklearn.isotonic import IsotonicRegression

    if isinstance(calibrator, IsotonicRegression) and calibrator.out_of_bounds == "clip" and len(calibrator.X_thresholds_) > 1:
        return _Isotonic(calibrator)
    return calibrator

