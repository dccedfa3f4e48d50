"""What every experiment shares: the cached corpus and feature matrix, the standard split, one way to
fit and evaluate the shipped model, one way to evaluate any scorer, and one way to log a run.

- ``load_data()``: the corpus the product trains on (``spamdetect.corpus.build.build_corpus``, cached
  under build/corpus/) and its signal matrix (``spamdetect.train.corpus_features``, cached under
  build/); built with the project's own functions when missing.
- ``fit_and_evaluate()``: ``spamdetect.model.train_model`` (the shipped pipeline: HGB + isotonic
  calibration grouped by story, threshold at FPR <= 0.5% on validation legit pages) on any rows and
  any subset of signal families, then ``spamdetect.evaluate.compute_metrics`` on the test rows.
- ``evaluate_scores()``: the same metrics for a baseline's scores, with a threshold chosen the same
  way on its validation scores; ``evaluate_verdicts()`` for hard filters (no threshold: metrics of
  the binary verdict, AUC included).
- ``log_result()``: one MLflow run in the experiment ``spamdetect-experiments``.

Metric names are ``compute_metrics``'s: roc_auc, pr_auc, f1, precision, recall, fpr_real_legit
(false-positive rate on real, unmodified publisher pages), recall_family_<family>, ...
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from spamdetect import config, signals, text_model
from spamdetect.corpus.splits import assert_group_integrity
from spamdetect.evaluate import choose_threshold, compute_metrics
from spamdetect.model import TrustModel, train_model

EXPERIMENT = "spamdetect-experiments"
MAX_FPR = 0.005  # train_model's default: the threshold every scorer gets on validation legit pages
QUICK_GROUPS = 120  # stories kept by --quick (all their variants and modes)
EXPERIMENTS_DIR = Path(__file__).resolve().parent
META_COLUMNS = ["doc_id", "group", "source", "variant", "label", "family", "operations", "n_ops", "url", "mode",
                "split", "lang"]


def work_dir() -> Path:
    """Scratch space for experiment caches (trafilatura extractions, the full model)."""
    path = config.build_dir() / "experiments"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Data:
    """The labelled corpus (one row per document and mode) and its feature matrix, row-aligned."""

    df: pd.DataFrame
    F: np.ndarray  # signal matrix
    T: sparse.csr_matrix  # the pages' hashed n-gram counts (``text_model.counts``): the text channel's input
    fingerprint: str
    scope: str  # "full", "quick" or "limit<N>": runs of different scopes are never compared
    feature_names: list[str] = field(default_factory=signals.feature_names)

    @property
    def y(self) -> np.ndarray:
        return self.df["label"].to_numpy()

    @property
    def groups(self) -> np.ndarray:
        return self.df["group"].to_numpy()

    def mask(self, split: str) -> np.ndarray:
        return (self.df["split"] == split).to_numpy()

    def subset(self, rows: np.ndarray) -> "Data":
        return Data(self.df[rows].reset_index(drop=True), self.F[rows], self.T[np.flatnonzero(rows)],
                    self.fingerprint, self.scope, self.feature_names)

    def model_matrix(self, model: TrustModel, rows: np.ndarray) -> np.ndarray:
        """The rows as ``model`` reads them: its signal columns, plus its text channel's score."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        F = self.F[np.ix_(rows, feature_columns(model.featurizer.families, self.feature_names))]
        return model.with_text(F, self.T[rows])


def _stable_hash(s: str) -> float:
    return int(hashlib.sha256(s.encode()).hexdigest()[:12], 16) / 16 ** 12


def load_data(*, limit: int | None = None, quick: bool = False, seed: int = 0, workers: int = 2) -> Data:
    """The corpus and features the product trains on (built and cached when missing).

    ``limit``: build the corpus from that many real pages (``build_corpus(limit=...)``).
    ``quick``: keep ``QUICK_GROUPS`` stories, drawn deterministically, for smoke runs.
    """
    from spamdetect.corpus.build import build_corpus
    from spamdetect.corpus.build import fingerprint as corpus_fingerprint
    from spamdetect.train import corpus_features, corpus_text_counts

    df = build_corpus(seed=seed, limit=limit, workers=workers, progress=False)
    fp = corpus_fingerprint(df)
    F = corpus_features(df, fp, workers=workers)
    T = corpus_text_counts(df, fp, workers=workers)
    scope = f"limit{limit}" if limit else "full"
    if quick:
        groups = sorted(set(df["group"]), key=lambda g: _stable_hash(f"quick|{g}"))[:QUICK_GROUPS]
        keep = df["group"].isin(set(groups)).to_numpy()
        df, F, T = df[keep], F[keep], T[np.flatnonzero(keep)]
        scope = "quick" if not limit else f"quick-limit{limit}"
    return Data(df.reset_index(drop=True), F, T, fp, scope)


# ----- the spamdetect model ---------------------------------------------------------------------

@dataclass
class Result:
    metrics: dict[str, float]
    model: TrustModel | None
    p_test: np.ndarray
    threshold: float


def feature_columns(families: list[str] | None, names: list[str] | None = None) -> np.ndarray:
    """Column indices of the given signal families in the full feature matrix."""
    names = names or signals.feature_names()
    wanted = set(signals.feature_names(families))
    return np.array([i for i, n in enumerate(names) if n in wanted], dtype=int)


def test_metrics(data: Data, test: np.ndarray, p_test: np.ndarray, threshold: float) -> dict[str, float]:
    """``compute_metrics`` on the test rows, with family, variant and mode breakdowns."""
    t = data.df[test]
    metrics = compute_metrics(data.y[test], p_test, threshold, family=t["family"].to_numpy(),
                              variant=t["variant"].to_numpy(), mode=t["mode"].to_numpy())
    metrics["recall_at_real_fpr_1pct"] = recall_at_real_fpr(data.y[test], p_test, (t["variant"] == "legit").to_numpy())
    return metrics


def recall_at_real_fpr(y: np.ndarray, p: np.ndarray, real_legit: np.ndarray, fpr: float = 0.01) -> float:
    """Farm recall at the cut that calls at most ``fpr`` of the real legitimate pages farm: one point of
    the ROC curve, so scorers whose own thresholds transfer differently are compared on equal terms."""
    p = np.asarray(p, float)
    if not np.any(real_legit):
        return float("nan")
    return float((p[y == 1] >= cut_at_fpr(p[real_legit], fpr)).mean())


def cut_at_fpr(p_legit: np.ndarray, fpr: float) -> float:
    """The lowest threshold that calls at most ``fpr`` of these legitimate pages farm."""
    s = np.sort(np.asarray(p_legit, float))[::-1]
    k = int(np.floor(fpr * len(s)))  # pages allowed at or above the cut
    return float(np.nextafter(s[k], np.inf)) if k < len(s) else float("-inf")


def fit_and_evaluate(data: Data, train: np.ndarray, test: np.ndarray, val: np.ndarray | None = None, *,
                     families: list[str] | None = None, text: bool = True, seed: int = 0) -> Result:
    """Train the shipped model (``train_model``) on ``train`` rows with only ``families`` (default:
    all) and, unless ``text=False``, the text channel; threshold on ``val`` rows (default: the
    standard validation split outside train/test), and evaluate on ``test`` rows."""
    train, test = np.asarray(train, bool), np.asarray(test, bool)
    if val is None:
        val = data.mask("val") & ~train & ~test
    val = np.asarray(val, bool)
    assert_group_integrity(data.df, train, test)
    assert_group_integrity(data.df, val, test)
    cols = feature_columns(families, data.feature_names)
    F = data.F[:, cols]
    y, groups = data.y, data.groups
    fit = text_fit(data, train, seed) if text else None
    model = train_model(F[train], y[train], groups[train], F[val], y[val], families=families,
                        max_fpr=MAX_FPR, text_fit=fit, text_val=data.T[np.flatnonzero(val)] if text else None,
                        random_state=seed)
    p = model.farm_proba_features(data.model_matrix(model, test))
    metrics = test_metrics(data, test, p, model.threshold)
    metrics["n_train"] = float(train.sum())
    metrics["fit_seconds"] = float(model.meta.get("fit_seconds", float("nan")))
    return Result(metrics, model, p, model.threshold)


_TEXT_FITS: dict[tuple, text_model.TextFit] = {}


def text_fit(data: Data, train: np.ndarray, seed: int = 0) -> text_model.TextFit:
    """The text channel fitted on ``train`` rows; the ablations share one training set, so one fit
    (kept for the process) serves all of them."""
    key = (data.fingerprint, data.scope, seed, hashlib.sha256(np.packbits(train).tobytes()).hexdigest())
    if key not in _TEXT_FITS:
        rows = np.flatnonzero(train)
        _TEXT_FITS.clear()  # one at a time: each holds a 2**19-wide model
        _TEXT_FITS[key] = text_model.fit_channel(data.T[rows], data.y[rows], data.groups[rows], seed=seed)
    return _TEXT_FITS[key]


# ----- any other scorer -------------------------------------------------------------------------

def evaluate_scores(data: Data, scores: np.ndarray, val: np.ndarray, test: np.ndarray) -> Result:
    """Metrics of a baseline that outputs a score (higher = more farm-like): its threshold is chosen
    on its ``val`` scores exactly as the model's is (lowest cut with FPR <= MAX_FPR on legit pages)."""
    scores = np.asarray(scores, dtype=float)
    if np.nanmin(scores) < 0 or np.nanmax(scores) > 1:
        raise ValueError("baseline scores must lie in [0, 1] (the Brier score reads them as probabilities)")
    threshold = choose_threshold(data.y[val], scores[val], max_fpr=MAX_FPR)
    return Result(test_metrics(data, test, scores[test], threshold), None, scores[test], threshold)


def evaluate_verdicts(data: Data, drop: np.ndarray, test: np.ndarray) -> Result:
    """Metrics of a hard filter: ``drop`` True = the filter removes the page (= called farm).
    No threshold to choose; ROC-AUC and PR-AUC are those of the 0/1 verdict."""
    p = np.asarray(drop, dtype=float)
    return Result(test_metrics(data, test, p[test], 0.5), None, p[test], 0.5)


# ----- MLflow -------------------------------------------------------------------------------------

def _clean(metrics: dict) -> dict[str, float]:
    out = {}
    for k, v in metrics.items():
        try:
            v = float(v)
        except (TypeError, ValueError):
            continue
        out[k] = v if math.isfinite(v) else float("nan")
    return out


def log_result(run_name: str, metrics: dict, params: dict | None = None, artifacts: dict | None = None, *,
               data: Data | None = None, kind: str | None = None, tags: dict | None = None) -> str:
    """Log one experiment run (metrics, params, artifact files or in-memory tables) to
    ``spamdetect-experiments``; returns the run id.

    ``artifacts``: name -> path of a file, or name -> DataFrame (written as <name>.csv).
    Tags: ``kind`` (baseline/ablation/model/generalisation/learning-curve/robustness) and ``scope``
    (full/quick/limit<N>), which the report uses to pick comparable runs.
    """
    import tempfile

    import mlflow

    from spamdetect import tracking

    tracking.setup(experiment=EXPERIMENT)
    all_tags = {"kind": kind or run_name.split("-", 1)[0]}
    params = dict(params or {})
    if data is not None:
        all_tags["scope"] = data.scope
        params.setdefault("corpus_fingerprint", data.fingerprint[:16])
        params.setdefault("n_documents", len(data.df))
    all_tags.update(tags or {})
    with mlflow.start_run(run_name=run_name) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tags(all_tags)
        if params:
            mlflow.log_params({k: (json.dumps(v) if isinstance(v, (list, dict, tuple)) else v)
                               for k, v in params.items()})
        mlflow.log_metrics(_clean(metrics))
        for name, art in (artifacts or {}).items():
            if isinstance(art, pd.DataFrame):
                path = Path(tmp) / f"{name}.csv"
                art.to_csv(path, index=False)
                mlflow.log_artifact(str(path))
            elif art is not None:
                mlflow.log_artifact(str(art))
    return run.info.run_id


# ----- command line -------------------------------------------------------------------------------

def parser(description: str) -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--quick", action="store_true", help=f"smoke run on {QUICK_GROUPS} stories of the corpus")
    ap.add_argument("--limit", type=int, default=None, help="build the corpus from this many real pages")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    return ap


def data_from_args(args) -> Data:
    t0 = time.time()
    data = load_data(limit=args.limit, quick=args.quick, seed=args.seed, workers=args.workers)
    say(f"data: {len(data.df)} rows ({data.scope}), {data.F.shape[1]} features, {time.time() - t0:.0f}s")
    return data


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def summary_line(name: str, m: dict) -> str:
    keys = ("roc_auc", "pr_auc", "f1", "precision", "recall", "fpr_real_legit")
    return name + ": " + ", ".join(f"{k}={m.get(k, float('nan')):.3f}" for k in keys)
