"""Experiment 6: thresholds for common operating points of the shipped model.

The ``model-full`` model (saved by ``baselines.run_model``; retrained if missing) scores the
validation rows; for each target (a precision, or a ceiling on the false-positive rate on real
legitimate pages) the threshold is read off the validation scores, and the test rows say what
that threshold really gives. Run ``model-operating-points`` logs the table as
``operating_points.csv`` and one metric per target (``threshold_<target>``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.common import Data, cut_at_fpr, data_from_args, fit_and_evaluate, log_result, parser, say, work_dir
from spamdetect.model import TrustModel

PRECISION_TARGETS = (0.95, 0.99, 0.995)
FPR_TARGETS = (0.01, 0.005, 0.001)  # share of real legitimate pages called farm


def threshold_for_precision(y: np.ndarray, p: np.ndarray, target: float) -> float:
    """The lowest threshold whose precision on (y, p) reaches ``target`` (1.0 + eps when none does)."""
    order = np.argsort(-p)
    tp = np.cumsum(y[order] == 1)
    precision = tp / np.arange(1, len(p) + 1)
    ok = np.flatnonzero(precision >= target)
    return float(p[order][ok.max()]) if len(ok) else 1.0 + 1e-9


def at(y: np.ndarray, p: np.ndarray, real_legit: np.ndarray, t: float) -> dict[str, float]:
    flag = p >= t
    tp, fp = int((flag & (y == 1)).sum()), int((flag & (y == 0)).sum())
    return {"precision": tp / max(tp + fp, 1), "recall": tp / max(int((y == 1).sum()), 1),
            "fpr_real_legit": float(flag[real_legit].mean()) if real_legit.any() else float("nan")}


def operating_points(data: Data, model: TrustModel) -> pd.DataFrame:
    val, test = data.mask("val"), data.mask("test")
    p_val, p_test = (model.farm_proba_features(data.model_matrix(model, rows)) for rows in (val, test))
    y_val, y_test = data.y[val], data.y[test]
    real_val = (data.df["variant"][val] == "legit").to_numpy()
    real_test = (data.df["variant"][test] == "legit").to_numpy()
    rows = [{"target": "default (FPR <= 0.5% on validation legit)", "threshold": model.threshold}]
    rows += [{"target": f"precision >= {t}", "threshold": threshold_for_precision(y_val, p_val, t)}
             for t in PRECISION_TARGETS]
    rows += [{"target": f"fpr_real_legit <= {t}", "threshold": max(cut_at_fpr(p_val[real_val], t), 0.0)}
             for t in FPR_TARGETS]
    for r in rows:
        r.update({f"test_{k}": v for k, v in at(y_test, p_test, real_test, r["threshold"]).items()})
    return pd.DataFrame(rows)


def run_operating_points(data: Data, seed: int = 0) -> pd.DataFrame:
    path = work_dir() / f"model-full-{data.scope}.joblib"
    if path.exists():
        model = TrustModel.load(path)
    else:
        model = fit_and_evaluate(data, data.mask("train"), data.mask("test"), seed=seed).model
    table = operating_points(data, model)
    for _, r in table.iterrows():
        say(f"{r['target']}: threshold {r['threshold']:.4f} -> test precision {r['test_precision']:.3f}, "
            f"recall {r['test_recall']:.3f}, fpr_real_legit {r['test_fpr_real_legit']:.4f}")
    metrics = {f"threshold_{i}": float(r["threshold"]) for i, r in table.iterrows()}
    log_result("model-operating-points", metrics, {"seed": seed}, {"operating_points": table}, data=data,
               kind="model")
    return table


def main(argv: list[str] | None = None) -> None:
    args = parser(__doc__.splitlines()[0]).parse_args(argv)
    run_operating_points(data_from_args(args), args.seed)


if __name__ == "__main__":
    main()
