"""The experiments' own parts: the published filter rules on handwritten texts, the scorer evaluation,
and the report builder on a temporary MLflow store with real logged runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from experiments import rules
from experiments.baselines import trafilatura_rule_features, trafilatura_rule_score
from experiments.common import Data, evaluate_scores, evaluate_verdicts, feature_columns

PROSE = (
    "The city council met on Tuesday to discuss the new budget for the coming year.\n"
    "Members of the council said that the plan would have to be approved with a clear majority.\n"
    "Several residents spoke in favour of the proposal, and others raised concerns about the cost of it.\n"
    "The mayor told reporters that the vote was expected to take place in the middle of next month.\n"
    "A final report on the state of the roads and the schools will be published before that meeting.\n"
    "Local businesses have asked to be heard on the matter of parking fees and the new bus lanes.\n"
)


# ----- published rules ------------------------------------------------------------------------------

def test_c4_keeps_ordinary_prose():
    assert rules.c4_filter(PROSE) == (True, None)


def test_c4_drops_a_page_containing_lorem_ipsum():
    assert rules.c4_filter(PROSE + "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n") == (False, "lorem_ipsum")


def test_c4_drops_a_page_with_a_curly_bracket_in_a_kept_line():
    assert rules.c4_filter(PROSE + "The function returns {x: 1} when it is called again.\n") == (False, "curly_bracket")


def test_c4_line_rules_drop_javascript_policy_and_unpunctuated_lines():
    text = ("Please enable JavaScript to view the comments below.\nRead our privacy policy for the details here.\n"
            "Trending now\nThe council approved the budget on Tuesday evening.")
    assert rules.c4_kept_lines(text) == ["The council approved the budget on Tuesday evening."]


def test_c4_needs_five_sentences():
    assert rules.c4_filter("One good sentence is here.\nAnother good sentence is here.") == (False, "too_few_sentences")


def test_gopher_quality_keeps_prose_and_rejects_short_documents():
    assert rules.gopher_quality(PROSE) == (True, None)
    assert rules.gopher_quality("Too short to be a document at all.") == (False, "gopher_short_doc")


def test_gopher_quality_rejects_a_high_hash_symbol_ratio():
    assert rules.gopher_quality(PROSE + " #news" * 20) == (False, "gopher_too_many_hashes")


def test_gopher_stop_word_rule_applies_to_english_only():
    german = ("Der Stadtrat traf sich am Dienstag, um über den neuen Haushalt für das kommende Jahr zu beraten. " * 6)
    assert rules.gopher_quality(german, lang="de") == (True, None)
    assert rules.gopher_quality(german, lang="en") == (False, "gopher_enough_stop_words")


def test_gopher_repetition_rejects_repeated_lines_and_keeps_prose():
    assert rules.gopher_repetition(PROSE) == (True, None)
    spam = "\n".join(["Best cheap flights to Paris and London today."] * 8 + PROSE.splitlines())
    assert rules.gopher_repetition(spam)[0] is False


def test_fineweb_rejects_list_like_pages_and_keeps_prose():
    assert rules.fineweb_filter(PROSE.strip()) == (True, None)
    menu = "\n".join(["Home", "News", "Sports", "Weather", "Contact us", "About", "Login"])
    assert rules.fineweb_filter(menu) == (False, "line_punct_ratio")


def test_trafilatura_rules_count_list_headings_outside_the_story():
    full = "Site name\nYou may also like\nTen things nobody tells you about savings\nRelated\n" + PROSE
    f = trafilatura_rule_features(full, PROSE)
    assert f["list_headings"] == 2 and f["headline_lines"] == 1 and 0 < f["boilerplate_share"] < 0.3
    assert trafilatura_rule_score(f) > trafilatura_rule_score(trafilatura_rule_features(PROSE, PROSE))


# ----- evaluating scorers -----------------------------------------------------------------------------

def _data(n_per_split: int = 40) -> Data:
    rows = []
    for split in ("train", "val", "test"):
        for i in range(n_per_split):
            label = i % 2
            rows.append({"doc_id": f"{split}{i}", "group": f"{split}{i}", "split": split, "label": label,
                         "family": "wp_magazine" if label else "", "variant": "farm" if label else "legit",
                         "mode": "html"})
    df = pd.DataFrame(rows)
    return Data(df, np.zeros((len(df), 3)), sparse.csr_matrix((len(df), 8)), "f" * 64, "test")


def test_score_baselines_get_their_threshold_from_validation_legit_pages():
    data = _data()
    scores = data.y * 0.6 + np.where(data.mask("val") & (data.y == 0), 0.0, 0.1)  # val legit score 0.0
    res = evaluate_scores(data, scores, data.mask("val"), data.mask("test"))
    assert 0.0 < res.threshold <= 0.1  # just above the highest validation legit score
    assert res.metrics["fpr_real_legit"] == 1.0 and res.metrics["recall"] == 1.0  # test legit sit at 0.1


def test_hard_filters_are_scored_on_their_verdict():
    data = _data()
    res = evaluate_verdicts(data, data.y == 1, data.mask("test"))
    assert res.metrics["roc_auc"] == 1.0 and res.metrics["fpr_real_legit"] == 0.0
    assert res.metrics["recall_family_wp_magazine"] == 1.0


def test_feature_columns_select_one_family():
    from spamdetect import signals

    names = signals.feature_names()
    cols = feature_columns(["dates"], names)
    assert [names[i] for i in cols] == list(signals.FAMILIES["dates"].FEATURES)


# ----- the report -------------------------------------------------------------------------------------

@pytest.mark.slow
def test_report_is_built_from_the_newest_logged_runs(tmp_path, monkeypatch):
    from experiments.common import log_result
    from experiments.report import build_report

    uri = f"sqlite:///{tmp_path}/mlruns.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    full = {"scope": "full"}
    base = {"roc_auc": 0.9, "pr_auc": 0.9, "f1": 0.8, "precision": 0.95, "recall": 0.7, "fpr_real_legit": 0.004,
            "recall_family_wp_magazine": 0.9, "recall_family_in_place": 0.25, "n_train": 8000}
    log_result("model-full", {**base, "roc_auc": 0.5}, {"corpus_fingerprint": "abc"}, kind="model", tags=full)  # older
    worst = pd.DataFrame([{"doc_id": "d1", "url": "https://example.org/a", "source": "htmldate", "mode": "html",
                           "lang": "en", "p_farm": 0.97, "false_positive": True, "reasons": "an unrelated link list"}])
    log_result("model-full", base, {"corpus_fingerprint": "abc"}, {"worst_false_positives": worst}, kind="model",
               tags=full)
    log_result("baseline-c4-lines", {**base, "roc_auc": 0.55, "pr_auc": 0.5, "f1": 0.2, "recall": 0.1},
               {"baseline_type": "hard filter"}, kind="baseline", tags=full)
    log_result("baseline-tfidf-logreg", {**base, "roc_auc": 0.93, "pr_auc": 0.8, "f1": 0.7},
               {"baseline_type": "score"}, kind="baseline", tags=full)
    log_result("ablation-without-dates", {**base, "roc_auc": 0.85}, kind="ablation", tags=full)
    log_result("generalisation-lofo-in_place", {**base, "recall": 0.1, "roc_auc": 0.8}, kind="generalisation", tags=full)
    for frac, n in ((0.1, 800), (1.0, 8000)):
        log_result(f"learning-curve-{round(frac * 100):03d}pct", {**base, "n_train": n, "train_fraction": frac},
                   kind="learning-curve", tags=full)
    log_result("baseline-quick-only", base, kind="baseline", tags={"scope": "quick"})

    path = build_report(tmp_path / "out", "full", uri)
    text = path.read_text()
    assert "| model-full | 0.900 |" in text  # the newest model-full, not the older 0.5 one
    assert "| baseline-c4-lines † | 0.550 |" in text and "-0.350" in text  # hard filter marked, delta vs model
    assert "does NOT beat: `baseline-tfidf-logreg` (on roc_auc)." in text
    assert "| ablation-without-dates | 0.850 |" in text
    assert "| in_place | 0.800 |" in text and "Weakest family at the threshold: `in_place`" in text
    assert "https://example.org/a" in text and "an unrelated link list" in text
    assert "baseline-quick-only" not in text
    for fig in ("baselines.png", "ablations.png", "lofo.png", "learning_curve.png"):
        assert (tmp_path / "out" / "figures" / fig).stat().st_size > 1000


def test_text_ablations_share_one_text_fit_and_the_channel_adds_what_signals_lack():
    """Signals carry no information here, the page words do: the model with its text channel must
    find the farms, the model without it must not, and both runs share one text fit."""
    from experiments import common
    from experiments.ablations import text_ablations

    from spamdetect import signals, text_model

    rng = np.random.default_rng(0)
    rows, docs = [], []
    for split, n in (("train", 160), ("val", 60), ("test", 60)):
        for i in range(n):
            label = int(rng.integers(0, 2))
            rows.append({"doc_id": f"{split}{i}", "group": f"{split}{i}", "split": split, "label": label,
                         "family": "wp_magazine" if label else "", "variant": "farm" if label else "legit",
                         "mode": "text"})
            # farm wording that publishers use too, but seldom and once; farms use it three times
            farmish = ["don't", "miss", "ranking"] * (3 if label else int(rng.integers(0, 2)))
            docs.append(["council", "budget", "roads", f"story{i}", *farmish])
    df = pd.DataFrame(rows)
    data = Data(df, rng.normal(size=(len(df), len(signals.feature_names()))), text_model.counts(docs),
                "e" * 64, "synthetic")
    common._TEXT_FITS.clear()
    out = text_ablations(data, log=False)
    assert len(common._TEXT_FITS) == 1
    assert out["ablation-only-text_model"]["roc_auc"] > 0.9
    assert out["ablation-without-text_model"]["roc_auc"] < 0.75
    with_text = common.fit_and_evaluate(data, data.mask("train"), data.mask("test"))
    assert with_text.metrics["roc_auc"] > 0.9 and len(common._TEXT_FITS) == 1
