"""`spamdetect promote` against a throwaway MLflow store: tiny real models (trained on real corpus
pages and written farm pages) compared on the same labeled held-out file; a model trained on
inverted labels is refused and leaves the alias alone, a good one takes it; the default model
then resolves to the registry's champion."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402

from spamdetect import cli, promote, tracking  # noqa: E402
from spamdetect.evaluate import compute_metrics  # noqa: E402
from spamdetect.features import SignalFeaturizer  # noqa: E402
from spamdetect.loading import load_model, resolve_model  # noqa: E402
from spamdetect.model import train_model  # noqa: E402
from spamdetect.charsets import decode_html  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore:.*input example was not provided")]

UNRELATED = ["Celebrity reveals secret diet", "10 cars you will not believe exist", "Stock tips nobody tells you",
             "This trick lowers your bills", "Star spotted at beach", "Royal news shocks fans"]


def _farm_html(i: int) -> str:
    rng = np.random.default_rng(i)
    words = ["council", "storm", "budget", "river", "harvest", "coach", "patients", "prices"]
    title = f"{rng.choice(words).title()} news you need to know today"
    body = "".join(f"<p>The {rng.choice(words)} said the {rng.choice(words)} would matter for the "
                   f"{rng.choice(words)} in the coming months, officials told reporters.</p>" for _ in range(8 + i % 4))
    related = "".join(f"<li><a href='/p/{k}{i}'>{h}</a></li>" for k, h in enumerate(UNRELATED))
    return (f"<html><head><title>{title} (2024)</title></head><body><h1>{title} (2024)</h1>"
            f"<div>veryGood! ({5000 + i})</div><div>Share Facebook Twitter Pinterest WhatsApp Email</div>"
            f"<p>Last updated: 2025-03-{10 + i % 9}</p>{body}<h3>Related</h3><ul>{related}</ul>"
            f"<div class='author-bio'><p>Author: Prof. Elmer Quigley</p><p>Phone: +1 555 0{i:03d}</p>"
            f"<p>Hobby: Knitting, Skydiving, Cooking</p><p>Introduction: My name is Elmer Quigley, I am a "
            f"gorgeous, witty person who loves writing.</p></div></body></html>")


def _rows(records, start: int, n: int) -> list[dict]:
    rows = []
    for k, rec in enumerate(records[start:start + n]):
        if len(rec.read_bytes()) > 400_000:  # keep the test quick: skip the few huge pages
            continue
        rows.append({"url": rec.url, "html": decode_html(rec.read_bytes()), "label": 0, "group": k})
        rows.append({"url": f"https://farm{k % 5}.top/post-{start + k}", "html": _farm_html(start + k), "label": 1,
                     "group": k})
    return rows


@pytest.fixture(scope="module")
def setup_store(legit_records, tmp_path_factory):
    """Two tiny models (good, inverted labels), a held-out JSONL of other real pages and written farms,
    and an empty sqlite store; MLflow's process-wide settings are restored afterwards."""
    tmp = tmp_path_factory.mktemp("promote")
    train = pd.DataFrame(_rows(legit_records, 0, 30))
    F = SignalFeaturizer().fit().transform(train)
    # a signal seen on only a few of these 60 pages can be all-NaN inside one calibration fold, which
    # HistGradientBoosting's binning rejects; blank such columns so the classifier leaves them out
    F[:, (~np.isnan(F)).sum(axis=0) < 15] = np.nan
    y, groups = train["label"].to_numpy(), train["group"].to_numpy()
    fit = dict(max_fpr=0.05, max_iter=15, min_samples_leaf=3)
    good = train_model(F, y, groups, F, y, **fit)
    inverted = 1 - y  # deliberately worse: taught that farms are the legit pages
    bad = train_model(F, inverted, groups, F, inverted, **fit)
    heldout = tmp / "heldout.jsonl"
    with heldout.open("w") as fh:
        for row in _rows(legit_records, 200, 15):
            fh.write(json.dumps({k: row[k] for k in ("url", "html", "label")}) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        uri = f"sqlite:///{tmp / 'mlruns.db'}"
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        mp.delenv("SPAMDETECT_MODEL", raising=False)
        mp.setattr("mlflow.tracking._tracking_service.utils._tracking_uri", None, raising=False)
        mp.setattr("mlflow.tracking._model_registry.utils._registry_uri", None, raising=False)
        mp.setattr("mlflow.tracking.fluent._active_experiment_id", None, raising=False)
        yield {"good": good, "bad": bad, "train": train, "F": F, "heldout": str(heldout), "uri": uri, "dir": tmp}


def _log(model, env, name: str) -> str:
    df, F = env["train"], env["F"]
    metrics = compute_metrics(df["label"], model.farm_proba_features(F), model.threshold,
                              variant=np.where(df["label"] == 0, "legit", "farm"))
    tracking.setup(env["uri"])
    return tracking.log_training_run(model, params={"name": name}, metrics=metrics,
                                     dataset_df=df.drop(columns=["html"]), dataset_name="tiny",
                                     fingerprint="cd" * 32, register=False, run_name=name)


def _champion(client) -> str | None:
    return promote.current_champion(client)


def test_promotion_gate_end_to_end(setup_store, capsys):
    env = setup_store
    client = MlflowClient(tracking_uri=env["uri"], registry_uri=env["uri"])
    heldout = promote.file_heldout(env["heldout"])
    assert heldout.y.sum() and (heldout.variant == "legit").sum() == (heldout.y == 0).sum()

    # no champion yet: the first good run is registered and promoted
    first = _log(env["good"], env, "good-1")
    out = promote.promote(first, heldout=heldout)
    assert out.decision == "promoted" and out.candidate.registered_now and out.exit_status == 0
    assert "no champion yet" in out.reasons
    assert _champion(client) == out.candidate.version == "1"

    # a model trained on inverted labels is refused: alias unchanged, reasons name the metric
    bad_run = _log(env["bad"], env, "inverted")
    out = promote.promote(bad_run, heldout=heldout)
    assert out.decision == "refused" and out.exit_status == 1
    assert out.candidate_metrics["roc_auc"] < out.champion_metrics["roc_auc"] - 0.1
    assert any(r.startswith("roc_auc") and "below the champion" in r for r in out.reasons)
    assert _champion(client) == "1"
    assert client.get_model_version("spamdetect", out.candidate.version).tags["promotion"] == "refused"
    run = client.get_run(out.run_id)
    assert run.info.run_name == f"promote-v{out.candidate.version}"
    assert run.data.tags["decision"] == "refused"
    assert {"candidate_roc_auc", "champion_roc_auc", "delta_roc_auc", "candidate_fpr_real_legit",
            "champion_fpr_real_legit", "delta_fpr_real_legit"} <= set(run.data.metrics)
    assert run.data.metrics["promoted"] == 0.0
    exp = client.get_experiment(run.info.experiment_id)
    assert exp.name == "spamdetect-promotion"

    # the CLI: an equally good second run passes the gate and takes the alias
    second = _log(env["good"], env, "good-2")
    capsys.readouterr()
    status = cli.main(["promote", second, "--heldout", env["heldout"]])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "PROMOTED: spamdetect@champion -> v3 (was v1)" in printed
    assert _champion(client) == "3"
    # refused again through the CLI, by version number: exit 1 and the reasons are printed
    status = cli.main(["promote", "2", "--heldout", env["heldout"]])
    printed = capsys.readouterr().out
    assert status == 1 and "REFUSED" in printed and "roc_auc" in printed
    assert _champion(client) == "3"

    # with a registry configured, the default model is now the champion
    assert resolve_model() == tracking.CHAMPION_URI
    assert load_model().threshold == pytest.approx(env["good"].threshold)


def test_bad_candidate_is_a_clear_error(setup_store, capsys):
    status = cli.main(["promote", "no-such-run", "--heldout", setup_store["heldout"]])
    assert status == 2
    assert "no-such-run" in capsys.readouterr().err


def test_judge_applies_both_tolerances():
    champ = {"roc_auc": 0.95, "fpr_real_legit": 0.002}
    ok, _ = promote.judge({"roc_auc": 0.949, "fpr_real_legit": 0.003}, champ, auc_tolerance=0.002,
                          fpr_tolerance=0.002)
    assert ok
    ok, reasons = promote.judge({"roc_auc": 0.97, "fpr_real_legit": 0.0056}, champ, auc_tolerance=0.002,
                                fpr_tolerance=0.002)
    assert not ok and "fpr_real_legit" in reasons[-1]
    ok, reasons = promote.judge({"roc_auc": 0.97, "fpr_real_legit": float("nan")}, champ, auc_tolerance=0.002,
                                fpr_tolerance=0.002)
    assert not ok and "cannot be measured" in reasons[0]


def test_a_heldout_file_that_cannot_be_used_says_which_file_and_row(tmp_path):
    bad_bytes = tmp_path / "latin1.jsonl"
    bad_bytes.write_bytes(b'{"label": 1, "text": "caf\xe9"}\n')
    with pytest.raises(promote.PromotionError, match=r"latin1.jsonl: cannot read it as JSONL: UnicodeDecodeError"):
        promote.file_heldout(str(bad_bytes))
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"label": 1, "text": "a page"}\n{"label": "spam", "text": "another"}\n')
    with pytest.raises(promote.PromotionError, match=r"labels.jsonl: .*1 row\(s\) are not, the first is row 2: 'spam'"):
        promote.file_heldout(str(labels))
