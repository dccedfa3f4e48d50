"""Threshold choice and evaluation metrics (spamdetect.evaluate), plus the plots render."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from spamdetect import plots
from spamdetect.evaluate import choose_threshold, compute_metrics, misclassified


def _synthetic(n_legit=2000, n_farm=800, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n_legit, int), np.ones(n_farm, int)]
    p = np.r_[rng.beta(1, 6, n_legit), rng.beta(4, 2, n_farm)]
    return y, p


def _fpr(y, p, t):
    return float((p[y == 0] >= t).mean())


def _recall(y, p, t):
    return float((p[y == 1] >= t).mean())


@pytest.mark.parametrize("max_fpr", [0.0, 0.001, 0.01, 0.05, 0.2])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_threshold_respects_fpr_bound_on_synthetic_scores(max_fpr, seed):
    y, p = _synthetic(seed=seed)
    t = choose_threshold(y, p, max_fpr=max_fpr)
    assert _fpr(y, p, t) <= max_fpr


@pytest.mark.parametrize("max_fpr", [0.001, 0.01, 0.05])
def test_threshold_is_the_lowest_admissible_so_recall_is_maximal(max_fpr):
    y, p = _synthetic(seed=3)
    t = choose_threshold(y, p, max_fpr=max_fpr)
    # any lower cut that still catches more pages would break the bound
    lower = np.nextafter(t, -np.inf)
    assert _fpr(y, p, lower) > max_fpr
    # no admissible candidate (a score in the data) has higher recall
    for cand in np.unique(p):
        if _fpr(y, p, cand) <= max_fpr:
            assert _recall(y, p, cand) <= _recall(y, p, t)


def test_threshold_hand_checked_case():
    # legit scores 0.1 0.2 0.3 0.9; 25% FPR allows one false positive -> cut just above 0.3
    y = [0, 0, 0, 0, 1, 1]
    p = [0.1, 0.2, 0.3, 0.9, 0.35, 0.25]
    t = choose_threshold(y, p, max_fpr=0.25)
    assert 0.3 < t < 0.3 + 1e-12
    m = compute_metrics(y, p, t)
    assert m["fpr"] == pytest.approx(0.25)
    assert m["recall"] == pytest.approx(0.5)  # 0.35 caught, 0.25 missed


def test_threshold_with_ties_on_legit_scores_stays_within_bound():
    y = [0] * 10 + [1] * 3
    p = [0.5] * 10 + [0.9, 0.5, 0.1]
    t = choose_threshold(y, p, max_fpr=0.1)
    assert t > 0.5
    assert _fpr(np.array(y), np.array(p), t) == 0.0


def test_threshold_floating_point_budget_counts_exactly():
    # 0.29 * 100 == 28.999999999999996 in floats; the budget is still 29 false positives
    y = np.r_[np.zeros(100, int), np.ones(1, int)]
    p = np.r_[np.linspace(0, 0.5, 71), np.linspace(0.6, 0.88, 29), [0.95]]
    t = choose_threshold(y, p, max_fpr=0.29)
    assert t == pytest.approx(0.5, abs=1e-9)
    assert _fpr(y, p, t) == pytest.approx(0.29)


def test_threshold_needs_legit_pages_and_sane_bound():
    with pytest.raises(ValueError):
        choose_threshold([1, 1], [0.2, 0.9])
    with pytest.raises(ValueError):
        choose_threshold([0, 1], [0.2, 0.9], max_fpr=1.5)


def test_threshold_allowing_every_legit_page_returns_zero():
    assert choose_threshold([0, 1], [0.4, 0.9], max_fpr=1.0) == 0.0


def test_metric_names_are_present_and_stable():
    y, p = _synthetic(n_legit=400, n_farm=200)
    rng = np.random.default_rng(5)
    family = np.where(y == 1, rng.choice(["spun", "fake author"], y.size), None)
    variant = np.where(y == 1, "farm", rng.choice(["legit", "legit_wire"], y.size))
    mode = rng.choice(["html", "text"], y.size)
    m = compute_metrics(y, p, 0.5, family=family, variant=variant, mode=mode)
    expected = {
        "roc_auc", "pr_auc", "f1", "precision", "recall", "brier", "fpr", "fpr_real_legit",
        "recall_family_spun", "recall_family_fake_author",
        "roc_auc_html", "roc_auc_text", "fpr_real_legit_html", "fpr_real_legit_text",
    }
    assert expected <= set(m)
    assert all(isinstance(v, float) for v in m.values())
    assert not any(k.startswith("recall_family_None") for k in m)


def test_metrics_hand_checked_small_case():
    y = [0, 0, 0, 0, 1, 1, 1, 1]
    p = [0.1, 0.2, 0.6, 0.3, 0.7, 0.8, 0.4, 0.9]
    family = [None, None, None, None, "a", "a", "b", "b"]
    variant = ["legit", "legit", "legit_hard", "legit", "farm", "farm", "farm", "farm"]
    mode = ["html", "text", "html", "text", "html", "text", "html", "text"]
    m = compute_metrics(y, p, 0.5, family=family, variant=variant, mode=mode)
    # predicted farm: 0.6 (legit_hard), 0.7, 0.8, 0.9 -> TP 3, FP 1, FN 1 (0.4)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(3 / 4)
    assert m["fpr"] == pytest.approx(1 / 4)
    assert m["fpr_real_legit"] == 0.0  # the only FP is not a real unmodified page
    assert m["recall_family_a"] == 1.0
    assert m["recall_family_b"] == 0.5
    # pairs (farm, legit): 15 of 16 ordered correctly (0.4 < 0.6 is the one inversion)
    assert m["roc_auc"] == pytest.approx(15 / 16)
    assert m["brier"] == pytest.approx(np.mean((np.array(p) - np.array(y)) ** 2))
    # html rows: legit 0.1, 0.6; farm 0.7, 0.4 -> 3 of 4 pairs right
    assert m["roc_auc_html"] == pytest.approx(3 / 4)
    assert m["roc_auc_text"] == 1.0
    assert m["fpr_real_legit_html"] == 0.0 and m["fpr_real_legit_text"] == 0.0
    assert m["fpr_html"] == pytest.approx(0.5)


def test_metrics_accept_pandas_series_with_missing_groups():
    y = pd.Series([0, 1, 0, 1])
    p = pd.Series([0.1, 0.9, 0.2, 0.8])
    fam = pd.Series([np.nan, "x", pd.NA, "x"], dtype=object)
    m = compute_metrics(y, p, 0.5, family=fam, variant=pd.Series(["legit", "farm", "legit", "farm"]))
    assert m["recall_family_x"] == 1.0
    assert m["fpr_real_legit"] == 0.0


def test_metrics_with_one_class_are_nan_not_errors():
    m = compute_metrics([0, 0, 0], [0.1, 0.2, 0.9], 0.5)
    assert math.isnan(m["roc_auc"]) and math.isnan(m["recall"])
    assert m["fpr"] == pytest.approx(1 / 3)


def test_metrics_reject_mismatched_lengths_and_nan_scores():
    with pytest.raises(ValueError):
        compute_metrics([0, 1], [0.1], 0.5)
    with pytest.raises(ValueError):
        compute_metrics([0, 1], [0.1, float("nan")], 0.5)


def test_misclassified_lists_false_positives_and_negatives_worst_first():
    frame = pd.DataFrame({"id": list("abcd")})
    out = misclassified(frame, [0, 0, 1, 1], [0.9, 0.1, 0.2, 0.6], 0.5)
    assert list(out["id"]) == ["a", "c"]
    assert list(out["error"]) == ["false_positive", "false_negative"]


def test_plots_write_readable_pngs(tmp_path):
    y, p = _synthetic(n_legit=300, n_farm=100)
    t = choose_threshold(y, p, max_fpr=0.01)
    imp = pd.Series([0.3, 0.1, -0.01], index=["link_lists.unrelated_share", "author.fake_bio", "dates.gap_days"])
    paths = [
        plots.roc_curve_png(y, p, tmp_path / "roc.png", threshold=t),
        plots.pr_curve_png(y, p, tmp_path / "pr.png", threshold=t),
        plots.calibration_png(y, p, tmp_path / "cal.png"),
        plots.importance_png(imp, tmp_path / "sub" / "imp.png", errors=imp.abs() / 10),
        plots.confusion_png(y, p, t, tmp_path / "cm.png"),
    ]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000  # a real figure with text, not an empty canvas
