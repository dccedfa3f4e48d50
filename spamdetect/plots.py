"""Evaluation plots as PNG files (for MLflow artifacts and reports).

Figures are built on ``matplotlib.figure.Figure`` with the Agg canvas directly, never through
pyplot: no global figure state, no GUI backend, safe in worker processes and servers.
Conventions as in :mod:`spamdetect.evaluate`: ``y_true`` 1 = farm, ``p_farm`` = P(farm),
"farm" when ``p_farm >= threshold``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot elsewhere in this process

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

_DPI = 120


def _figure(width: float = 6.0, height: float = 5.0) -> Figure:
    fig = Figure(figsize=(width, height), dpi=_DPI, layout="constrained")  # keeps long tick labels inside
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _arrays(y_true, p_farm) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(y_true, dtype=int).ravel(), np.asarray(p_farm, dtype=float).ravel()


def _operating_point(y: np.ndarray, p: np.ndarray, threshold: float) -> tuple[float, float, float]:
    """(fpr, recall, precision) of the labelling ``p >= threshold``."""
    pred = p >= threshold
    fpr = float(pred[y == 0].mean()) if (y == 0).any() else float("nan")
    rec = float(pred[y == 1].mean()) if (y == 1).any() else float("nan")
    prec = float(y[pred].mean()) if pred.any() else float("nan")
    return fpr, rec, prec


def roc_curve_png(y_true, p_farm, path: str | Path, *, threshold: float | None = None,
                  title: str = "ROC: farm vs legit pages", log_fpr: bool = True) -> Path:
    """ROC curve (farm = positive). ``log_fpr`` also draws a log-scaled FPR panel, because the
    operating region (FPR around 1%) is invisible on a linear axis. Marks ``threshold``."""
    y, p = _arrays(y_true, p_farm)
    fpr, tpr, _ = roc_curve(y, p)
    auc = roc_auc_score(y, p)
    fig = _figure(11 if log_fpr else 6, 5)
    axes = fig.subplots(1, 2) if log_fpr else [fig.subplots()]
    for ax, scale in zip(axes, ("linear", "log")):
        ax.plot(fpr, tpr, lw=2, label=f"model (AUC = {auc:.3f})")
        if scale == "linear":
            ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
            ax.set_xlim(0, 1)
        else:
            ax.set_xscale("log")
            ax.set_xlim(max(1e-4, 0.5 / max(1, int((y == 0).sum()))), 1)
            ax.axvline(0.01, ls=":", color="grey", lw=1, label="FPR = 1%")
        if threshold is not None:
            op_fpr, op_rec, _ = _operating_point(y, p, threshold)
            ax.plot([max(op_fpr, 1e-4) if scale == "log" else op_fpr], [op_rec], "o", color="crimson",
                    label=f"threshold {threshold:.3f}: FPR {op_fpr:.2%}, recall {op_rec:.2%}")
        ax.set_ylim(0, 1.01)
        ax.set_xlabel("False-positive rate (legit pages called farm)" + (" [log]" if scale == "log" else ""))
        ax.set_ylabel("Recall (farm pages caught)")
        ax.set_title(title if scale == "linear" else "ROC, low-FPR region")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    return _save(fig, path)


def pr_curve_png(y_true, p_farm, path: str | Path, *, threshold: float | None = None,
                 title: str = "Precision-recall (farm = positive)") -> Path:
    """Precision-recall curve with the base rate and the operating point at ``threshold``."""
    y, p = _arrays(y_true, p_farm)
    precision, recall, _ = precision_recall_curve(y, p)
    ap = average_precision_score(y, p)
    fig = _figure()
    ax = fig.subplots()
    ax.step(recall, precision, where="post", lw=2, label=f"model (average precision = {ap:.3f})")
    ax.axhline(y.mean(), ls="--", color="grey", lw=1, label=f"base rate {y.mean():.2f}")
    if threshold is not None:
        _, op_rec, op_prec = _operating_point(y, p, threshold)
        ax.plot([op_rec], [op_prec], "o", color="crimson",
                label=f"threshold {threshold:.3f}: precision {op_prec:.2%}, recall {op_rec:.2%}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("Recall (farm pages caught)")
    ax.set_ylabel("Precision (flagged pages that are farms)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return _save(fig, path)


def calibration_png(y_true, p_farm, path: str | Path, *, n_bins: int = 10, strategy: str = "quantile",
                    title: str = "Calibration (reliability diagram)") -> Path:
    """Reliability diagram: observed farm share per bin of predicted P(farm), plus a histogram
    of the scores. ``strategy="quantile"`` keeps bins populated when scores pile up near 0 and 1."""
    y, p = _arrays(y_true, p_farm)
    frac_pos, mean_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    fig = _figure(6, 6.5)
    ax, hist = fig.subplots(2, 1, gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ax.plot(mean_pred, frac_pos, "o-", lw=2, label="model")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.set_ylabel("Observed share of farm pages")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    bins = np.linspace(0, 1, 41)
    hist.hist(p[y == 0], bins=bins, alpha=0.6, label="legit", color="tab:green")
    hist.hist(p[y == 1], bins=bins, alpha=0.6, label="farm", color="tab:red")
    hist.set_yscale("log")
    hist.set_xlabel("Predicted P(farm)")
    hist.set_ylabel("Pages [log]")
    hist.legend(fontsize=8)
    return _save(fig, path)


def importance_png(importances: pd.Series, path: str | Path, *, errors: pd.Series | None = None,
                   top: int = 30, title: str = "Feature importance",
                   xlabel: str = "Importance (drop in score when permuted)") -> Path:
    """Horizontal bar chart of the ``top`` largest importances (e.g. permutation importance
    means, with their standard deviations as ``errors``)."""
    imp = pd.Series(importances, dtype=float).dropna().sort_values(ascending=False).head(top)[::-1]
    err = None if errors is None else pd.Series(errors, dtype=float).reindex(imp.index).fillna(0.0).to_numpy()
    fig = _figure(8, max(3.0, 0.28 * len(imp) + 1.2))
    ax = fig.subplots()
    ax.barh(np.arange(len(imp)), imp.to_numpy(), xerr=err, color="tab:blue", alpha=0.8)
    ax.set_yticks(np.arange(len(imp)), [str(i) for i in imp.index], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(f"{title} (top {len(imp)})")
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def confusion_png(y_true, p_farm, threshold: float, path: str | Path, *,
                  title: str = "Confusion matrix") -> Path:
    """2x2 confusion matrix at ``threshold`` with counts and row percentages."""
    y, p = _arrays(y_true, p_farm)
    pred = (p >= threshold).astype(int)
    m = np.array([[np.sum((y == t) & (pred == q)) for q in (0, 1)] for t in (0, 1)])
    names = ["trustworthy", "farm"]
    fig = _figure(5.5, 4.8)
    ax = fig.subplots()
    shares = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(2):
        for j in range(2):
            ax.text(j, i, f"{m[i, j]}\n({shares[i, j]:.1%})", ha="center", va="center",
                    color="white" if shares[i, j] > 0.5 else "black", fontsize=12)
    ax.set_xticks([0, 1], [f"predicted {n}" for n in names])
    ax.set_yticks([0, 1], [f"actual {n}" for n in names])
    ax.set_title(f"{title} at threshold {threshold:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of actual class")
    return _save(fig, path)
