"""MLflow round trip (spamdetect.tracking): log a run with a real small TrustModel into a throwaway
sqlite store, reload the registered champion as a pyfunc and score html and text rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.pyfunc import scoring_server  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

from spamdetect import config, tracking  # noqa: E402
from spamdetect.evaluate import compute_metrics  # noqa: E402
from spamdetect.features import SignalFeaturizer  # noqa: E402
from spamdetect.model import TrustModel, train_model  # noqa: E402
from spamdetect.page import Page  # noqa: E402

pytestmark = pytest.mark.slow

TOPICS = [
    ("City council approves new budget for schools", "council", "budget", "schools", "teachers"),
    ("Storm leaves thousands without power on the coast", "storm", "power", "coast", "crews"),
    ("Local team wins regional football final", "team", "final", "coach", "fans"),
    ("Hospital opens new cancer treatment wing", "hospital", "wing", "patients", "doctors"),
    ("Farmers worry about dry summer and low prices", "farmers", "summer", "prices", "harvest"),
    ("University researchers map ancient river bed", "researchers", "river", "map", "university"),
]
UNRELATED = ["Celebrity reveals secret diet", "10 cars you will not believe exist", "Stock tips nobody tells you",
             "This trick lowers your bills", "Star spotted at beach", "Royal news shocks fans"]


def _story(i: int) -> tuple[str, str]:
    title, *words = TOPICS[i % len(TOPICS)]
    rng = np.random.default_rng(i)
    sentences = [f"The {rng.choice(words)} said on Tuesday that the {rng.choice(words)} would matter for the "
                 f"{rng.choice(words)} in the coming months, according to officials who spoke to reporters."
                 for _ in range(8 + i % 5)]
    return title, "\n".join(f"<p>{s}</p>" for s in sentences)


def _legit_html(i: int) -> str:
    title, body = _story(i)
    return (f"<html lang='en'><head><title>{title} | Daily Herald</title>"
            f"<meta property='og:title' content='{title}'></head><body><article><h1>{title}</h1>"
            f"<p class='byline'>By Anna Weber, Staff Reporter</p><time datetime='2024-05-0{1 + i % 9}'>May 2024</time>"
            f"{body}</article><aside><h3>More on this story</h3><ul>"
            f"<li><a href='/news/a{i}'>{title}: what happens next</a></li>"
            f"<li><a href='/news/b{i}'>Background: {title.lower()}</a></li></ul></aside></body></html>")


def _farm_html(i: int) -> str:
    title, body = _story(i)
    related = "".join(f"<li><a href='/p/{k}{i}'>{h}</a></li>" for k, h in enumerate(UNRELATED))
    return (f"<html><head><title>{title} (2024)</title></head><body><h1>{title} (2024)</h1>"
            f"<div>veryGood! ({5000 + i})</div><div>Share Facebook Twitter Pinterest WhatsApp Email</div>"
            f"<p>Last updated: 2025-03-{10 + i % 9}</p>{body}"
            f"<h3>Related</h3><ul>{related}</ul><h3>Don't Miss</h3><ul>{related}</ul>"
            f"<div class='author-bio'><p>Author: Prof. Elmer Quigley</p><p>Address: 123 Maple Street, Springfield</p>"
            f"<p>Phone: +1 555 0{i:03d}</p><p>Job: Future Advertising Director</p>"
            f"<p>Hobby: Knitting, Skydiving, Cooking</p><p>Introduction: My name is Elmer Quigley, I am a "
            f"gorgeous, witty person who loves writing and sharing my knowledge with you.</p></div>"
            f"<p>This story originally appeared on Example Wire.</p></body></html>")


@pytest.fixture(scope="module")
def small_model() -> tuple[TrustModel, pd.DataFrame]:
    """A real TrustModel (featurizer + calibrated boosting) trained on 48 written pages, a third as text."""
    rows = []
    for i in range(24):
        for label, html in ((0, _legit_html(i)), (1, _farm_html(i))):
            kind = "farm" if label else "legit"
            row = {"id": f"{kind}-{i}", "url": f"https://site{i % 4}.com/{kind}/{i}",
                   "html": html, "text": None, "label": label, "group": i}
            if i % 3 == 0:  # text mode: the same page as extracted text
                row["text"], row["html"] = Page(html=html, url=row["url"]).to_text(), None
            rows.append(row)
    df = pd.DataFrame(rows)
    F = SignalFeaturizer().fit().transform(df)
    y, groups = df["label"].to_numpy(), df["group"].to_numpy()
    model = train_model(F, y, groups, F, y, max_fpr=0.05, max_iter=15, min_samples_leaf=3)
    return model, df


@pytest.fixture(scope="module")
def logged(small_model, tmp_path_factory):
    """One run logged into a throwaway sqlite store; MLflow's process-wide settings are restored afterwards."""
    model, df = small_model
    tmp = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlruns.db'}")
        mp.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None, raising=False)
        mp.setattr("mlflow.tracking._model_registry.utils._registry_uri", None, raising=False)
        mp.setattr("mlflow.tracking.fluent._active_experiment_id", None, raising=False)
        run_id = _log(model, df, tmp)
        yield {"run_id": run_id, "dir": tmp, "model": model, "df": df, "pyfunc": tracking.load_pyfunc()}


def _log(model, df, tmp_path: Path, **kw) -> str:
    p = model.farm_proba_features(SignalFeaturizer().fit().transform(df))
    metrics = compute_metrics(df["label"], p, model.threshold, variant=np.where(df["label"] == 0, "legit", "farm"),
                              mode=np.where(df["html"].notna(), "html", "text"))
    (tmp_path / "misclassified.csv").write_text("id,p_farm\n")
    (tmp_path / "roc_curve.png").write_bytes(b"\x89PNG fake")
    meta = df.drop(columns=["html", "text"]).assign(operations=[["wrap", "spin"]] * len(df))
    return tracking.log_training_run(
        model, params={"seed": 0, "families": None, "clf": {"max_iter": 15}}, metrics=metrics,
        dataset_df=meta, dataset_name="test-corpus", fingerprint="ab" * 32,
        artifacts={"roc_curve": tmp_path / "roc_curve.png", "tables/misclassified.csv": tmp_path / "misclassified.csv"},
        input_example=df[df["html"].notna()].head(1)[["url", "html"]], run_name="test", **kw)


def test_run_records_params_metrics_dataset_artifacts_and_champion(logged):
    run_id, tmp, model = logged["run_id"], logged["dir"], logged["model"]
    client = MlflowClient()
    run = client.get_run(run_id)
    assert run.data.params["dataset_fingerprint"] == "ab" * 32
    assert float(run.data.params["threshold"]) == pytest.approx(model.threshold)
    assert {"roc_auc", "fpr_real_legit", "roc_auc_text"} <= set(run.data.metrics)
    (ds,) = run.inputs.dataset_inputs
    assert ds.dataset.name == "test-corpus" and ds.dataset.digest == ("ab" * 32)[:36]
    logged_files = {a.path for folder in (None, "tables") for a in client.list_artifacts(run_id, folder)}
    assert {"roc_curve.png", "tables/misclassified.csv", "feature_names.json"} <= logged_files
    # artifacts land beside the sqlite file, not in the working directory
    assert (tmp / "mlartifacts" / "spamdetect" / run_id / "artifacts" / "roc_curve.png").is_file()
    assert list((tmp / "mlartifacts" / "spamdetect" / "models").glob("*/artifacts/artifacts/*.joblib"))
    version = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
    assert str(version.version) == "1" and version.run_id == run_id


def test_champion_pyfunc_scores_an_html_row_and_a_text_row(logged):
    df, model, pyfunc = logged["df"], logged["model"], logged["pyfunc"]
    farm_html = df[(df["label"] == 1) & df["html"].notna()].iloc[0]
    legit_text = df[(df["label"] == 0) & df["text"].notna()].iloc[0]
    two = pd.DataFrame({"url": [farm_html["url"], legit_text["url"]],
                        "html": [farm_html["html"], None], "text": [None, legit_text["text"]]})
    out = pyfunc.predict(two)
    assert list(out.columns) == ["id", "url", "trust", "label", "reasons", "error"]
    assert out["error"].isna().all()
    assert out["trust"].between(0, 1).all()
    assert set(out["label"]) <= {"farm", "trustworthy"}
    assert all(isinstance(r, list) and r and all(isinstance(s, str) for s in r) for r in out["reasons"])
    direct = model.score_frame(two)
    assert np.allclose(out["trust"].astype(float), direct["trust"].astype(float))
    assert list(out["label"]) == list(direct["label"])
    assert out.loc[0, "trust"] < out.loc[1, "trust"]  # the farm page is less trustworthy


def test_champion_uri_loads_the_trust_model_for_bulk_scoring(logged):
    from spamdetect.loading import load_scorer

    df, model = logged["df"], logged["model"]
    loaded = load_scorer("models:/spamdetect@champion")  # what `spamdetect score` loads: the numpy scorer
    assert loaded.threshold == model.threshold
    F = SignalFeaturizer().fit().transform(df.head(4))
    assert np.allclose(loaded.farm_proba_features(F), model.farm_proba_features(F))


def test_pyfunc_accepts_missing_columns_and_isolates_bad_rows(logged):
    df, pyfunc = logged["df"], logged["pyfunc"]
    text_row = df[df["text"].notna()].iloc[0]
    only_text = pd.DataFrame({"url": [text_row["url"], "https://x.com/empty"], "text": [text_row["text"], ""]})
    out = pyfunc.predict(only_text)
    assert out.loc[0, "error"] is None and 0 <= out.loc[0, "trust"] <= 1
    assert out.loc[1, "error"] and out.loc[1, "label"] is None


def test_serving_protocol_returns_json_with_reason_lists(logged):
    """The scoring server's own request parsing and response encoding, without a socket."""
    df, pyfunc = logged["df"], logged["pyfunc"]
    row = df[df["html"].notna()].iloc[0]
    body = json.dumps({"dataframe_records": [{"url": row["url"], "html": row["html"]},
                                             {"url": "https://x.com/t", "text": "Short text page about a storm."},
                                             {"url": "https://x.com/empty", "text": ""}]})
    resp = scoring_server.invocations(body, "application/json", pyfunc, pyfunc.metadata.get_input_schema())
    assert resp.status == 200, resp.response
    assert "NaN" not in resp.response  # strict JSON: a failed row reports null, not NaN
    preds = json.loads(resp.response)["predictions"]
    assert len(preds) == 3
    assert preds[2]["trust"] is None and preds[2]["label"] is None and preds[2]["error"]
    assert all(isinstance(p["reasons"], list) for p in preds)
    assert preds[0]["label"] in {"farm", "trustworthy"} and 0 <= preds[0]["trust"] <= 1


def test_unregistered_run_leaves_the_champion_and_a_registered_one_takes_it(logged):
    model, df, tmp = logged["model"], logged["df"], logged["dir"]
    client = MlflowClient()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlruns.db'}")
        _log(model, df, tmp, register=False)
        champion = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
        assert str(champion.version) == "1"
        second = _log(model, df, tmp)
        version = client.get_model_version_by_alias(config.REGISTERED_MODEL_NAME, config.CHAMPION_ALIAS)
        assert str(version.version) == "2" and version.run_id == second


def test_artifact_root_sits_beside_the_sqlite_file(tmp_path):
    expected = (tmp_path / "x" / "mlartifacts" / "spamdetect").as_uri()
    assert tracking.artifact_root(f"sqlite:///{tmp_path}/x/m.db") == expected
    assert tracking.artifact_root("sqlite:///rel/m.db") == (Path.cwd() / "rel" / "mlartifacts" / "spamdetect").as_uri()
    assert tracking.artifact_root("http://localhost:5000") is None


def test_loading_a_model_trained_on_other_signal_code_warns(small_model):
    model, _ = small_model
    stale = TrustModel(model.pipeline, model.threshold, model.reference, {"signals_version": "not-this-code"})
    with pytest.warns(RuntimeWarning, match="signals_version"):
        tracking._warn_on_code_drift(stale)


def test_drift_is_told_by_the_probe_pages_signals_not_by_the_source(small_model):
    """Code rewritten without changing a feature keeps the probe fingerprint: no warning, though the
    source hash differs (the shipped model warned on every load after refactors). Changed signals warn."""
    import warnings

    from spamdetect.train import probe_rows, signals_fingerprint

    model, _ = small_model
    rows = probe_rows()
    assert len(rows) >= 5 and {"html", "text"} <= {k for r in rows for k in r if r[k]}
    same = {"signals_version": "not-this-code", "probe_rows": rows, "probe_fingerprint": signals_fingerprint(rows)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tracking._warn_on_code_drift(TrustModel(model.pipeline, model.threshold, model.reference, same))
    changed = {**same, "probe_fingerprint": "0" * 16}
    with pytest.warns(RuntimeWarning, match="probe fingerprint"):
        tracking._warn_on_code_drift(TrustModel(model.pipeline, model.threshold, model.reference, changed))
