"""Training job: corpus -> signal matrix (cached) -> calibrated model -> test metrics -> MLflow run."""

from __future__ import annotations

import hashlib
import inspect
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.inspection import permutation_importance
from sklearn.metrics import roc_auc_score

from spamdetect import config, signals, text_model
from spamdetect.features import SignalFeaturizer, as_pages, featurize_frame, featurize_words, words_of
from spamdetect.model import UNMODELLED_FEATURES, ModelColumns, TrustModel, build_classifier, train_model


def signals_version() -> str:
    """Hash of the code that computes features: a cached matrix is reused only while it is unchanged."""
    pkg = config.PACKAGE_DIR
    word_lists = [f for f in (pkg / "data").glob("*") if f.suffix in (".json", ".txt")]  # what signals read
    files = sorted([*(pkg / "signals").glob("*.py"), pkg / "page.py", pkg / "link_blocks.py",
                    pkg / "features.py", *word_lists])
    h = hashlib.sha256()
    for f in files:
        if f.is_file():
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()[:16]


def probe_rows() -> list[dict]:
    """The repository's sample pages (``data/sample``, read as ``spamdetect score`` reads it) as rows,
    the pages whose signals a trained model keeps a fingerprint of; [] where the sample is not there."""
    from spamdetect.readers import read_inputs

    sample = config.PROJECT_DIR / "data" / "sample"
    if not sample.is_dir():
        return []
    return [{"url": r.page.url, "html": r.page.html, "text": r.page.text_input, "crawl_date": r.page.crawl_date}
            for r in read_inputs([str(sample)]) if r.page is not None]


def signals_fingerprint(rows: list[dict]) -> str:
    """Hash of what the installed code computes from ``rows``: every signal, and the words the text
    channel reads. Unlike ``signals_version`` (the source), it stays put when code is rewritten
    without changing a feature, so it tells whether a model still sees pages as it was trained to."""
    pages = as_pages(rows)  # parsed once for both
    F = SignalFeaturizer().fit().transform(pages)
    h = hashlib.sha256(json.dumps(signals.feature_names()).encode())
    # 12 significant digits: a last-bit difference in a CPU's maths library is no code change
    h.update(" ".join(f"{v:.12g}" for v in F.ravel()).encode())
    h.update(json.dumps(words_of(pages)).encode())
    return h.hexdigest()[:16]


def corpus_features(df: pd.DataFrame, fingerprint: str, *, domain_lists: bool = False, workers: int = 2) -> np.ndarray:
    """The full feature matrix of a corpus frame, cached under build/ by corpus and code version."""
    key = f"features-{fingerprint[:16]}-{signals_version()}-{'dl' if domain_lists else 'nodl'}.npy"
    path = config.build_dir() / key
    if path.exists():
        F = np.load(path)
        if F.shape == (len(df), len(signals.feature_names())):
            return F
    F = featurize_frame(df, domain_lists=domain_lists, workers=workers)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, F)
    return F


def text_version() -> str:
    """Hash of the code behind the text channel's input: page text, word list, n-gram hashing
    (not the rest of ``text_model``: changing how it fits or explains keeps the cached counts)."""
    h = hashlib.sha256((config.PACKAGE_DIR / "page.py").read_bytes())
    for f in (text_model.page_words, text_model.ngrams, text_model.vectorizer, text_model.counts):
        h.update(inspect.getsource(f).encode())
    h.update(repr((text_model.MAX_WORDS, text_model.N_FEATURES)).encode())
    return h.hexdigest()[:16]


def corpus_text_counts(df: pd.DataFrame, fingerprint: str, *, workers: int = 2) -> sparse.csr_matrix:
    """Hashed n-gram counts (``text_model.counts``) of every corpus row's page text, cached under build/."""
    path = config.build_dir() / f"text-counts-{fingerprint[:16]}-{text_version()}.npz"
    if path.exists():
        T = sparse.load_npz(path).tocsr()
        if T.shape[0] == len(df):
            return T
    T = text_model.counts(featurize_words(df, workers=workers))
    path.parent.mkdir(parents=True, exist_ok=True)
    sparse.save_npz(path, T)
    return T


def holdout_family_auc(F: np.ndarray, df: pd.DataFrame, seed: int = 0) -> dict[str, float]:
    """ROC-AUC on each farm family's test pages when that family is left out of training (a quick check on the
    signal columns alone; experiments/generalisation.py runs the full model, text channel included)."""
    out = {}
    y = df["label"].to_numpy()
    train, test = (df["split"] == "train").to_numpy(), (df["split"] == "test").to_numpy()
    for family in sorted(df.loc[df["label"] == 1, "family"].unique()):
        fam = (df["family"] == family).to_numpy()
        tr = train & ~fam
        te = test & ((y == 0) | fam)
        if y[te].sum() == 0:
            continue
        select = ModelColumns(signals.feature_names(), UNMODELLED_FEATURES).fit(F[tr])
        clf = build_classifier(random_state=seed).fit(select.transform(F[tr]), y[tr])
        out[f"lofo_auc_{family}"] = float(roc_auc_score(y[te], clf.predict_proba(select.transform(F[te]))[:, 1]))
    return out


def _misclassified(model: TrustModel, F: np.ndarray, df: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
    """The test pages the threshold gets wrong (``evaluate.misclassified``) with their reasons."""
    from spamdetect.evaluate import misclassified

    cols = ["doc_id", "url", "source", "variant", "family", "operations", "mode"]
    frame = df[cols].reset_index(drop=True).assign(row=np.arange(len(df)))
    wrong = misclassified(frame, df["label"].to_numpy(), p, model.threshold)
    scored = model.score_features(F[wrong["row"].to_numpy()]) if len(wrong) else []
    wrong["reasons"] = [" | ".join(s["reasons"]) for s in scored]
    return wrong.drop(columns="row")


def _check_trainable(df: pd.DataFrame, corpus: str | None, limit: int | None) -> None:
    """Refuse, in words, a corpus too small for the steps that follow: five calibration folds of distinct
    stories, both labels in every split (the threshold is chosen on validation legit pages)."""
    from spamdetect.corpus.legit import NoCorpus
    from spamdetect.model import CALIBRATION_FOLDS

    split = df["split"].to_numpy()
    tr, va, te = split == "train", split == "val", split == "test"
    stories = df.loc[tr, "group"].nunique()
    short = [f"{name} split has no {kind} page" for name, mask in (("training", tr), ("validation", va), ("test", te))
             for kind, label in (("farm", 1), ("legit", 0)) if not (df.loc[mask, "label"] == label).any()]
    if stories < CALIBRATION_FOLDS:
        short.insert(0, f"the training split holds {stories} stories, and calibration needs {CALIBRATION_FOLDS}")
    if short:
        pages = f"--limit {limit} real pages" if limit else f"the real pages under {corpus or 'the corpus'}"
        raise NoCorpus(f"too small a corpus to train on: {pages} made {len(df)} rows, and {'; '.join(short)} "
                       "(use --limit 50 or more)")


def run_training(*, corpus: str | None = None, seed: int = 0, limit: int | None = None, workers: int = 2,
                 domain_lists: bool = False, holdout_families: bool = False, save_to: str | None = None,
                 register: bool = True, run_name: str | None = None, log: bool = True) -> dict:
    """Train and evaluate the trust model; log everything to MLflow. Returns the headline metrics."""
    from spamdetect import plots, tracking
    from spamdetect.corpus.build import build_corpus
    from spamdetect.corpus.build import fingerprint as corpus_fingerprint
    from spamdetect.evaluate import compute_metrics

    df = build_corpus(root=corpus, seed=seed, limit=limit, workers=workers)
    _check_trainable(df, corpus, limit)
    fingerprint = corpus_fingerprint(df)
    S = corpus_features(df, fingerprint, domain_lists=domain_lists, workers=workers)
    T = corpus_text_counts(df, fingerprint, workers=workers)
    y = df["label"].to_numpy()
    split = df["split"].to_numpy()
    tr, va, te = split == "train", split == "val", split == "test"
    model = train_model(S[tr], y[tr], df["group"].to_numpy()[tr], S[va], y[va], domain_lists=domain_lists,
                        text_train=T[tr], text_val=T[va])
    F = np.full((len(df), len(model.feature_names)), np.nan)  # the model's columns: signals, text score
    F[~tr] = model.with_text(S[~tr], T[~tr])
    probe = probe_rows()
    model.meta.update({"corpus_fingerprint": fingerprint, "seed": seed, "signals_version": signals_version(),
                       "text_version": text_version(), "probe_rows": probe,
                       "probe_fingerprint": signals_fingerprint(probe) if probe else None})
    p_test = model.farm_proba_features(F[te])
    test_df = df[te].reset_index(drop=True)
    metrics = compute_metrics(y[te], p_test, model.threshold, family=test_df["family"].to_numpy(),
                              variant=test_df["variant"].to_numpy(), mode=test_df["mode"].to_numpy())
    metrics["threshold"] = model.threshold
    if holdout_families:
        metrics.update(holdout_family_auc(S, df, seed))
    model.meta["test_metrics"] = {k: round(float(v), 4) for k, v in metrics.items()}

    if save_to:
        model.save(save_to)
    result = {k: round(float(v), 4) for k, v in metrics.items()}
    result["n_documents"] = int(len(df))
    if not log:
        return result

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        names = model.feature_names
        sample = np.random.default_rng(seed).choice(np.flatnonzero(te), size=min(1500, int(te.sum())), replace=False)
        imp = permutation_importance(model.pipeline[1:], F[sample], y[sample], scoring="roc_auc",
                                     n_repeats=3, random_state=seed, n_jobs=1)
        importances = pd.Series(imp.importances_mean, index=names).sort_values(ascending=False)
        importances.to_csv(tmp / "feature_importances.csv", header=["importance"])
        artifacts = {
            "roc_curve": plots.roc_curve_png(y[te], p_test, tmp / "roc_curve.png"),
            "pr_curve": plots.pr_curve_png(y[te], p_test, tmp / "pr_curve.png"),
            "calibration": plots.calibration_png(y[te], p_test, tmp / "calibration.png"),
            "feature_importances": plots.importance_png(importances, tmp / "feature_importances.png"),
            "confusion_matrix": plots.confusion_png(y[te], p_test, model.threshold, tmp / "confusion_matrix.png"),
            "feature_importances_csv": tmp / "feature_importances.csv",
        }
        mis = _misclassified(model, F[te], test_df, p_test)
        mis.to_csv(tmp / "misclassified.csv", index=False)
        artifacts["misclassified"] = tmp / "misclassified.csv"
        meta_cols = [c for c in df.columns if c not in ("html", "text")]
        example = df[te & (df["mode"] == "html").to_numpy()].head(2)[["url", "html"]]
        params = {"seed": seed, "limit": limit, "domain_lists": domain_lists, "threshold": model.threshold,
                  "n_features": len(names), "n_train": int(tr.sum()), "n_val": int(va.sum()), "n_test": int(te.sum()),
                  "signals_version": signals_version(), **{f"clf_{k}": v for k, v in model.meta["clf_params"].items()}}
        run_id = tracking.log_training_run(
            model, params=params, metrics=metrics, dataset_df=df[meta_cols], dataset_name="spamdetect-corpus",
            fingerprint=fingerprint, artifacts=artifacts, input_example=example, register=register,
            run_name=run_name)
    result["run_id"] = run_id
    (config.build_dir() / "last_training.json").write_text(json.dumps(result, indent=2))
    return result
