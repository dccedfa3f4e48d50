"""The numpy scorer: the shipped file beside the model, scores equal to scikit-learn's, and bulk
scoring that never imports scikit-learn."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest

from spamdetect import config, text_model
from spamdetect.loading import load_scorer
from spamdetect.model import TrustModel, _check_rows, _SklearnClassifier
from spamdetect.page import Page
from spamdetect.scorer import read_scorer, scorer_path
from spamdetect.tree_predict import FastCalibrated


@pytest.fixture(scope="module")
def real_pages(legit_records):
    step = max(1, len(legit_records) // 60)
    pages = [Page(html=r.read_bytes(), url=r.url, id=r.key) for r in legit_records[::step]]
    return pages + [Page.from_text(p.to_text(), url=p.url) for p in pages[:15]]


def test_the_shipped_scorer_file_belongs_to_the_shipped_model():
    # `make model` rewrites both; a model file committed without its scorer would fail here
    assert read_scorer(config.shipped_model_path()) is not None


def test_the_installed_signal_code_computes_what_the_shipped_model_was_trained_on():
    """The shipped model's probe fingerprint (``train.signals_fingerprint`` of the sample pages) is the
    current code's: a change to a signal or to the words the text channel reads fails here until
    the model is retrained (`make model`), instead of shifting every score unseen."""
    from spamdetect.train import signals_fingerprint

    meta = joblib.load(config.shipped_model_path())["meta"]
    assert len(meta["probe_rows"]) >= 5  # the sample pages, as the model keeps them
    assert signals_fingerprint(meta["probe_rows"]) == meta["probe_fingerprint"]


def test_shipped_scorer_gives_scikit_learns_probabilities_on_real_pages(shipped, real_pages):
    scorer = read_scorer(config.shipped_model_path())
    F = np.array([scorer.signal_row(p) for p in real_pages], dtype=np.float64)
    docs = scorer.add_text_scores(F, real_pages)
    assert np.array_equal(F[:, -1], text_model.farm_scores(shipped.text, docs))
    steps = shipped.pipeline.named_steps
    X = steps["select"].transform(F)
    assert np.array_equal(scorer.farm_proba_features(F), steps["clf"].predict_proba(X)[:, 1])
    fold0 = steps["clf"].calibrated_classifiers_[0].estimator
    assert np.array_equal(scorer.farm_log_odds_features(F), fold0.decision_function(X))
    assert scorer.score_pages(real_pages) == shipped.score_pages(real_pages)


def test_bulk_scoring_loads_and_scores_without_scikit_learn(shipped, legit_records):
    records = legit_records[:: max(1, len(legit_records) // 12)]
    script = (
        "import gzip, json, sys\n"
        "from spamdetect.loading import load_scorer\n"
        "from spamdetect.page import Page\n"
        "scorer = load_scorer(None)\n"
        "pages = [Page(html=gzip.open(p, 'rb').read(), url=u) for p, u in json.loads(sys.argv[1])]\n"
        "print(json.dumps({'results': scorer.score_pages(pages),\n"
        "                  'imported': [m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules]}))\n"
    )
    arg = json.dumps([(str(r.file), r.url) for r in records])
    done = subprocess.run([sys.executable, "-c", script, arg], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["imported"] == []
    pages = [Page(html=r.read_bytes(), url=r.url) for r in records]
    assert out["results"] == shipped.score_pages(pages)


def test_a_scorer_file_left_from_another_model_file_is_not_used(shipped, tmp_path):
    path = tmp_path / "m.joblib"
    TrustModel(shipped.pipeline, 0.9, shipped.reference, shipped.meta).save(path)
    assert read_scorer(path).threshold == 0.9
    # the model file replaced by something that does not write scorers (an older spamdetect)
    joblib.dump({"pipeline": shipped.pipeline, "threshold": 0.1, "reference": shipped.reference, "meta": {}},
                path, compress=3)
    assert scorer_path(path).exists() and read_scorer(path) is None
    assert load_scorer(str(path)).threshold == 0.1  # built from the model file itself


def test_check_rows_meet_every_split_at_its_threshold(shipped):
    fast = FastCalibrated(shipped.pipeline.named_steps["clf"])
    X = _check_rows(fast.folds)
    trees = fast.folds[0]
    split = trees.child[0::2] != np.arange(len(trees.threshold))
    for col, t in list(zip(trees.column[split] % trees.n_features, trees.threshold[split]))[::25]:
        above = (X[:, col] > t).any() or t == np.inf  # an inf threshold splits missing from present
        assert (X[:, col] == t).any() and above and np.isnan(X[:, col]).any()


def test_a_classifier_the_tree_walker_gets_wrong_is_scored_by_scikit_learn(shipped, monkeypatch, real_pages):
    expected = shipped.score_pages(real_pages[:8])
    monkeypatch.setattr(FastCalibrated, "matches", lambda self, clf, X: False)
    model = TrustModel(shipped.pipeline, shipped.threshold, shipped.reference, shipped.meta)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scorer = model.scorer
    assert any("FastCalibrated differs from scikit-learn" in str(w.message) for w in caught)
    assert isinstance(scorer.classifier, _SklearnClassifier)
    assert model.score_pages(real_pages[:8]) == expected
