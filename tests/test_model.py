"""The trust model trained for real on a small simulated corpus: threshold, persistence, reasons, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from spamdetect import text_model
from spamdetect.features import featurize_frame, featurize_words, page_from_row
from spamdetect.model import UNMODELLED_FEATURES, TrustModel, train_model
from spamdetect.tree_predict import FastCalibrated


@pytest.fixture(scope="module")
def small(tmp_path_factory, legit_records):
    import os

    from spamdetect.corpus.build import build_corpus

    old = os.environ.get("SPAMDETECT_BUILD")
    os.environ["SPAMDETECT_BUILD"] = str(tmp_path_factory.mktemp("build"))
    try:
        df = build_corpus(limit=60, workers=2, progress=False)
    finally:
        if old is None:
            os.environ.pop("SPAMDETECT_BUILD")
        else:
            os.environ["SPAMDETECT_BUILD"] = old
    S = featurize_frame(df, workers=2, progress=False)
    T = text_model.counts(featurize_words(df, workers=2))
    y = df["label"].to_numpy()
    # train on train+test, validate on val: enough rows for a 5-fold calibration on 60 stories
    tr = (df["split"] != "val").to_numpy()
    va = ~tr
    model = train_model(S[tr], y[tr], df["group"].to_numpy()[tr], S[va], y[va], max_fpr=0.05,
                        text_train=T[tr], text_val=T[va])
    F = model.with_text(S, T)  # the model's columns: signals, then the text channel's score
    return df, F, y, va, model


def test_threshold_keeps_validation_false_positive_rate_within_bound(small):
    df, F, y, va, model = small
    p = model.farm_proba_features(F[va])
    legit = y[va] == 0
    assert (p[legit] >= model.threshold).mean() <= 0.05


def test_model_learns_something_beyond_chance_on_validation(small):
    from sklearn.metrics import roc_auc_score

    df, F, y, va, model = small
    assert roc_auc_score(y[va], model.farm_proba_features(F[va])) > 0.75


def test_unmodelled_columns_never_reach_the_classifier(small):
    *_, model = small
    seen = set(model.pipeline.named_steps["select"].get_feature_names_out())
    assert seen and not seen & set(UNMODELLED_FEATURES)


def test_saved_model_scores_identically_after_loading(small, tmp_path):
    df, F, y, va, model = small
    path = model.save(tmp_path / "m.joblib")
    again = TrustModel.load(path)
    assert again.threshold == model.threshold
    np.testing.assert_allclose(again.farm_proba_features(F[:20]), model.farm_proba_features(F[:20]))


def test_pipeline_scores_raw_pages_the_same_as_precomputed_features(small):
    df, F, y, va, model = small
    rows = df.iloc[:6][["url", "html", "text", "crawl_date"]]
    p_pipeline = model.pipeline.predict_proba(rows)[:, 1]
    np.testing.assert_allclose(p_pipeline, model.farm_proba_features(F[:6]))
    pages = [page_from_row(r) for r in rows.to_dict("records")]
    scored = model.score_pages(pages)
    np.testing.assert_allclose([1 - s["trust"] for s in scored], np.round(p_pipeline, 4), atol=1e-4)


def test_score_frame_isolates_a_bad_row_and_scores_the_rest(small):
    *_, model = small
    frame = pd.DataFrame([
        {"id": "ok-html", "url": "https://example.com/a", "html": "<html><title>A</title><body><p>Some story text here that is long enough to count as prose.</p></body></html>"},
        {"id": "bad", "url": "https://example.com/b"},
        {"id": "ok-text", "url": None, "text": "A title\nSome story text in text mode that is long enough to count."},
    ])
    out = model.score_frame(frame)
    assert list(out["id"]) == ["ok-html", "bad", "ok-text"]
    assert out.loc[1, "error"] and out.loc[1, "trust"] is None and out.loc[1, "label"] is None
    for i in (0, 2):
        assert out.loc[i, "error"] is None
        assert 0.0 <= out.loc[i, "trust"] <= 1.0
        assert out.loc[i, "label"] in {"farm", "trustworthy"}
        assert out.loc[i, "reasons"]



def test_score_frame_reads_a_row_as_the_cli_does(small):
    """The serving endpoint (score_frame) and the CLI/API read a row with one function: a crawl date
    that cannot be read is noted and the page scored (score_frame refused the whole record), and a
    blank html is refused with the same message."""
    from spamdetect.readers import record_from_row

    *_, model = small
    html = "<html><title>A</title><body><p>Some story text here that is long enough to count as prose.</p></body></html>"
    rows = [{"id": "a", "url": "https://example.com/a", "html": html, "crawl_date": "yesterday"},
            {"id": "b", "url": "https://example.com/b", "html": "   ", "crawl_date": None}]
    out = model.score_frame(pd.DataFrame(rows))
    assert out.loc[0, "error"] is None and 0.0 <= out.loc[0, "trust"] <= 1.0
    assert out.loc[0, "trust"] == model.score_frame(pd.DataFrame([{**rows[0], "crawl_date": None}])).loc[0, "trust"]
    assert out.loc[1, "trust"] is None
    assert out.loc[1, "error"] == f"unreadable record: {record_from_row(rows[1], 'b', 'x', what='record').error}"


def test_text_reason_quotes_words_of_the_page(small):
    df, F, y, va, model = small
    farms = df[(df["label"] == 1).to_numpy() & (df["mode"] == "text").to_numpy()]
    pages = [page_from_row(r) for r in farms[["url", "html", "text", "crawl_date"]].to_dict("records")]
    worded = [(p, r) for p, s in zip(pages, model.score_pages(pages)) for r in s["reasons"]
              if r.startswith("Wording closer to farm pages")]
    assert worded, "the text channel never was a reason on a farm"
    for page, reason in worded:
        quoted = reason.split("; ", 1)[1].split("', '")
        assert set(q.strip("'") for q in quoted) <= set(text_model.ngrams(text_model.page_words(page)))


def test_farm_reasons_name_the_signs_the_simulator_planted(small):
    df, F, y, va, model = small
    scored = model.score_features(F)
    farm_reasons = [r for s, label in zip(scored, y) if label == 1 and s["label"] == "farm" for r in s["reasons"]]
    assert farm_reasons, "no farm was flagged"
    families = {r.split(":")[0] for r in farm_reasons}
    assert families & {"Link lists", "Author profile looks generated", "Template", "Dates", "Headline"}


def test_fast_prediction_gives_scikit_learn_probabilities_and_stays_out_of_pickles(small):
    import pickle

    df, F, y, va, model = small
    steps = model.pipeline.named_steps
    p = model.farm_proba_features(F)
    assert np.array_equal(p, steps["clf"].predict_proba(steps["select"].transform(F))[:, 1])
    assert isinstance(model.scorer.classifier, FastCalibrated)  # the numpy tree walker was checked and used
    clone = pickle.loads(pickle.dumps(model))
    assert "_scorer" not in clone.__dict__
    assert np.array_equal(clone.farm_proba_features(F), p)


def test_reason_contributions_match_one_predict_per_perturbed_row(small):
    df, F, y, va, model = small
    row = F[np.flatnonzero(y == 1)[0]]
    got = model.contributions(row[None, :])[0]
    ref = model.reference["text" if row[model.feature_names.index("text_quality.is_text_mode")] == 1.0 else "html"]
    score = model.farm_log_odds_features
    from spamdetect.reasons import groups_for

    for group, cols in groups_for(model.feature_names).items():
        occluded, inserted = row.copy(), ref.copy()
        occluded[cols], inserted[cols] = ref[cols], row[cols]
        drop = score(row[None, :])[0] - score(occluded[None, :])[0]
        gain = score(inserted[None, :])[0] - score(ref[None, :])[0]
        assert got[group] == max(drop, gain)


def test_a_missing_crawl_date_in_a_frame_scores_like_no_crawl_date():
    """pandas gives NaT for a missing date; it must not reach the date arithmetic (it once emptied rows)."""
    import pandas as pd

    from spamdetect.features import page_features, page_from_row

    html = ("<html><head><title>Council votes on budget</title></head><body><h1>Council votes on budget</h1>"
            "<p>Published March 5, 2021. The council voted on Tuesday to approve the 2021 budget after a long "
            "debate about schools and roads.</p></body></html>")
    with_nat = page_features(page_from_row({"url": "https://example.org/a", "html": html, "crawl_date": pd.NaT}))
    without = page_features(page_from_row({"url": "https://example.org/a", "html": html, "crawl_date": None}))
    assert with_nat == pytest.approx(without, nan_ok=True)
    assert not all(v != v for v in with_nat.values())


def test_a_column_missing_in_a_calibration_fold_s_rows_is_not_modelled():
    # in a small corpus a signal can be present in one fold's stories only: scikit-learn's binning
    # then failed ("window shape cannot be larger than input array shape") on the other folds
    from spamdetect.model import ModelColumns, fit_pipeline
    from spamdetect.signals import feature_names

    rng = np.random.default_rng(0)
    names = feature_names()
    F = rng.random((60, len(names)))
    groups = np.repeat(np.arange(12), 5)
    F[groups >= 2, 0] = np.nan  # the first column: a value in two stories only
    y = (rng.random(60) < 0.5).astype(int)
    parts = [np.flatnonzero(groups != g) for g in (0, 1)]  # the stories without the value, held out in turn
    assert ModelColumns(names).fit(F).keep_[0] and ModelColumns(names).fit(F, parts=parts).keep_[0]
    assert not ModelColumns(names).fit(F, parts=[np.flatnonzero(groups >= 2)]).keep_[0]
    F[groups >= 1, 0] = np.nan  # now in one story: some fold model never sees it
    pipeline, _ = fit_pipeline(F, y, groups, max_iter=5)
    assert names[0] not in pipeline.named_steps["select"].get_feature_names_out()
