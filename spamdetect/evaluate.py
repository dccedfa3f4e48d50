"""Evaluation: the operating threshold and the metrics every experiment reports.

Conventions: ``y_true`` is 1 for a farm page and 0 for a legitimate one; ``p_farm`` is the
model's P(farm); a page is labelled "farm" when ``p_farm >= threshold`` (as in
``TrustModel.score_features``). Metric names are stable: later experiments compare runs by them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

# The variant of real, unmodified publisher pages; other legit variants (e.g. pages we
# rewrote to look farm-like on the surface) are harder and reported separately.
REAL_LEGIT_VARIANT = "legit"

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _arrays(y_true, p_farm) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=int).ravel()
    p = np.asarray(p_farm, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y_true and p_farm differ in length: {y.shape[0]} vs {p.shape[0]}")
    if np.isnan(p).any():
        raise ValueError("p_farm contains NaN; drop rows that failed to score first")
    return y, p


def choose_threshold(y_true, p_farm, *, max_fpr: float = 0.01) -> float:
    """The lowest threshold whose false-positive rate on legit pages is at most ``max_fpr``.

    With "farm" meaning ``p_farm >= t``, the false-positive rate only falls as ``t`` rises and
    so does recall on farms, so the lowest admissible ``t`` maximises recall under the FPR
    constraint. With ``n`` legit pages at most ``k = floor(max_fpr * n)`` of them may reach
    ``t``; the smallest such ``t`` is the next float above the (k+1)-th highest legit score
    (ties only lower the count), i.e. "strictly above that legit page". Farm scores do not move
    the threshold, only the legit distribution does. If every legit page may be a false
    positive (``k >= n``), returns 0.0.

    The threshold hugs a legit score, so on new data the FPR scatters around ``max_fpr``;
    choose it on held-out (not training) scores.
    """
    y, p = _arrays(y_true, p_farm)
    if not 0.0 <= max_fpr <= 1.0:
        raise ValueError(f"max_fpr must lie in [0, 1], got {max_fpr}")
    legit = np.sort(p[y == 0])[::-1]
    if legit.size == 0:
        raise ValueError("no legit pages (y_true == 0): the false-positive rate is undefined")
    k = math.floor(max_fpr * legit.size + 1e-9)  # tolerance: 0.01 * 300 must allow 3, not 2
    if k >= legit.size:
        return 0.0
    return float(np.nextafter(legit[k], np.inf))


def _safe_auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < y.size else float("nan")


def _fpr(y: np.ndarray, pred: np.ndarray) -> float:
    legit = y == 0
    return float(pred[legit].mean()) if legit.any() else float("nan")


def metric_key(name: str) -> str:
    """A metric-name-safe version of a family or mode name (MLflow allows ``[A-Za-z0-9_.-/ ]``)."""
    return _NAME_UNSAFE.sub("_", str(name)).strip("_") or "unknown"


def _labels(values, n: int, what: str) -> np.ndarray | None:
    """Per-row group labels as an object array, missing values (None/NaN/pd.NA) as None."""
    if values is None:
        return None
    raw = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values, dtype=object)
    arr = np.array([None if (v is None or (not isinstance(v, str) and pd.isna(v))) else v for v in raw.ravel()],
                   dtype=object)
    if arr.shape[0] != n:
        raise ValueError(f"{what} has {arr.shape[0]} rows, expected {n}")
    return arr


def compute_metrics(
    y_true,
    p_farm,
    threshold: float,
    *,
    family: Sequence | None = None,
    variant: Sequence | None = None,
    mode: Sequence | None = None,
) -> dict[str, float]:
    """All evaluation metrics for one set of scores at one operating threshold.

    Always: ``roc_auc``, ``pr_auc`` (average precision, farm = positive), ``precision``,
    ``recall``, ``f1`` (at ``threshold``), ``brier``, ``fpr`` (share of all legit pages called
    farm), ``threshold``, ``n``, ``n_farm``, ``n_legit``.
    With ``variant`` (per row, e.g. "legit" for real unmodified pages): ``fpr_real_legit``,
    the FPR on legit rows whose variant is exactly "legit".
    With ``family`` (per row, the farm family; ignored on legit rows): ``recall_family_<name>``.
    With ``mode`` (per row, "html"/"text"): ``roc_auc_<mode>``, ``recall_<mode>``, ``fpr_<mode>``
    and, with ``variant`` too, ``fpr_real_legit_<mode>``.
    Undefined values (e.g. AUC with one class present) are NaN, never an exception.
    """
    y, p = _arrays(y_true, p_farm)
    pred = p >= threshold
    n_farm = int(y.sum())
    tp = int((pred & (y == 1)).sum())
    n_pred = int(pred.sum())
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_farm if n_farm else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if n_farm and (precision + recall) > 0 else 0.0
    out: dict[str, float] = {
        "roc_auc": _safe_auc(y, p),
        "pr_auc": float(average_precision_score(y, p)) if n_farm else float("nan"),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "brier": float(brier_score_loss(y, p, pos_label=1)) if y.size else float("nan"),
        "fpr": _fpr(y, pred),
        "threshold": float(threshold),
        "n": float(y.size),
        "n_farm": float(n_farm),
        "n_legit": float(y.size - n_farm),
    }

    variants = _labels(variant, y.size, "variant")
    real = (variants == REAL_LEGIT_VARIANT) if variants is not None else None
    if real is not None:
        out["fpr_real_legit"] = _fpr(y[real], pred[real]) if real.any() else float("nan")

    families = _labels(family, y.size, "family")
    if families is not None:
        for fam in sorted({f for f, t in zip(families, y) if t == 1 and f is not None}, key=str):
            rows = (families == fam) & (y == 1)
            out[f"recall_family_{metric_key(fam)}"] = float(pred[rows].mean())

    modes = _labels(mode, y.size, "mode")
    if modes is not None:
        for m in sorted({m for m in modes if m is not None}, key=str):
            rows = modes == m
            key = metric_key(m)
            out[f"roc_auc_{key}"] = _safe_auc(y[rows], p[rows])
            out[f"recall_{key}"] = float(pred[rows & (y == 1)].mean()) if (rows & (y == 1)).any() else float("nan")
            out[f"fpr_{key}"] = _fpr(y[rows], pred[rows])
            if real is not None:
                sel = rows & real
                out[f"fpr_real_legit_{key}"] = _fpr(y[sel], pred[sel]) if sel.any() else float("nan")
    return out


def misclassified(frame: pd.DataFrame, y_true, p_farm, threshold: float) -> pd.DataFrame:
    """The rows of ``frame`` the threshold gets wrong, with ``y_true``, ``p_farm`` and ``error``
    ("false_positive"/"false_negative"), most confident mistakes first. Suits misclassified.csv."""
    y, p = _arrays(y_true, p_farm)
    if len(frame) != y.size:
        raise ValueError(f"frame has {len(frame)} rows, scores have {y.size}")
    out = frame.reset_index(drop=True).copy()
    out["y_true"] = y
    out["p_farm"] = p
    pred = p >= threshold
    wrong = pred != (y == 1)
    out = out[wrong].copy()
    out["error"] = np.where(out["y_true"] == 1, "false_negative", "false_positive")
    out["margin"] = (out["p_farm"] - threshold).abs()
    return out.sort_values("margin", ascending=False).drop(columns="margin").reset_index(drop=True)
