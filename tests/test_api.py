"""The in-process API: `spamdetect.load()` and `Scorer` on real corpus pages, the same answers as
`spamdetect score`, bad records as error results, a cheap `import spamdetect`, and the default-model rule."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

import spamdetect
from spamdetect import config
from spamdetect.charsets import decode_html

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scorer():
    return spamdetect.load()


@pytest.fixture(scope="module")
def real_rows(legit_records) -> list[dict]:
    small = [r for r in legit_records if len(r.read_bytes()) < 150_000][:8]
    return [{"id": f"real-{i}", "url": r.url, "html": decode_html(r.read_bytes())} for i, r in enumerate(small)]


def test_import_spamdetect_loads_nothing_heavy():
    code = "import sys, spamdetect; print(any(m.split('.')[0] in ('sklearn', 'mlflow', 'pandas') or m == 'spamdetect.model' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_score_one_real_page_gives_the_cli_fields(scorer, real_rows):
    row = real_rows[0]
    out = scorer.score(html=row["html"], url=row["url"], id="p1", crawl_date="2024-05-01")
    assert list(out) == ["id", "url", "trust", "label", "reasons", "error"]
    assert out["id"] == "p1" and out["url"] == row["url"] and out["error"] is None
    assert 0 <= out["trust"] <= 1 and out["label"] in ("farm", "trustworthy") and out["reasons"]
    same = scorer.score(html=row["html"].encode(), url=row["url"], id="p1", crawl_date="2024-05-01")
    assert same["trust"] == out["trust"]  # bytes work too


def test_score_many_matches_the_cli_record_for_record(scorer, real_rows, tmp_path):
    sample = [json.loads(x) for x in (ROOT / "data/sample/records.jsonl").read_text().splitlines()[:3]]
    rows = real_rows + sample
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    subprocess.run([sys.executable, "-m", "spamdetect", "score", str(src), "-o", str(tmp_path / "out.jsonl"),
                    "--workers", "1", "-q"], check=True, cwd=ROOT, capture_output=True, env=_env_without_registry())
    cli = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    api = list(scorer.score_many(rows, batch_size=4))
    assert len(api) == len(cli) == 11
    for a, c in zip(api, cli):
        assert (a["error"] is None) == (c["error"] is None)  # same verdict; wording says "record" vs "line"
        a.pop("error"), c.pop("error")
        assert a == c


def test_bad_records_become_errors_in_place_and_never_raise(scorer, real_rows):
    records = [{"id": "a", "url": 5, "html": "<p>x</p>"}, real_rows[1], "not a dict", {"text": ""}, {"html": None},
               {"text": "A short text page about the storm that hit the coast on Tuesday.", "crawl_date": "someday"},
               {"html": " \n "}, {"html": "<html><head><title>App</title></head><body><div id=app></div></body></html>"}]
    out = list(scorer.score_many(records))
    assert [o["id"] for o in out] == ["a", "real-1", "2", "3", "4", "5", "6", "7"]
    assert [o["error"] is not None for o in out] == [True, False, True, True, True, False, True, False]
    assert "url" in out[0]["error"] and out[0]["trust"] is None and out[0]["label"] is None
    assert any("crawl_date" in r for r in out[5]["reasons"])
    assert out[3]["error"] == out[6]["error"] == "nothing to score: the record's 'html' or 'text' is empty or only whitespace"
    # a page that shows nothing is scored, and the score says it rests on nothing but the title and markup
    assert out[7]["reasons"][-1] == "note: no visible text beyond the title: the score rests on the title and markup alone"
    assert not any("visible text" in r for r in out[1]["reasons"] + out[5]["reasons"])


def test_api_rows_follow_the_jsonl_rules_for_ids_and_dates(scorer):
    # the API and `spamdetect score` read a row with one function: an id that is an object is no id
    # (its repr was used), and a crawl_date that is not a date string is noted, not dropped silently
    out = list(scorer.score_many([{"id": {"nested": 1}, "url": "https://a.com/1", "html": "<p>x</p>"},
                                  {"id": True, "html": "<p>x</p>"},
                                  {"html": "<p>A page.</p>", "crawl_date": 1700000000},
                                  {"html": b"<p>A page as bytes.</p>", "crawl_date": date(2024, 5, 1)}]))
    assert out[0]["error"] == "'id' must be a string or a number, got dict" and out[0]["url"] == "https://a.com/1"
    assert out[0]["id"] == "0" and out[1]["error"] == "'id' must be a string or a number, got bool"
    assert "note: unparseable crawl_date 1700000000" in out[2]["reasons"]
    assert out[3]["error"] is None and not any("crawl_date" in r for r in out[3]["reasons"])


def test_rows_of_a_dataframe_with_missing_cells_are_scored_with_those_fields_missing(scorer):
    """pandas 3 gives NaN for a missing cell, in string columns too: a missing url or crawl_date is
    no reason to refuse a page (it was "'url' must be a string, got float"), and NaN is no id ("nan")."""
    import pandas as pd

    df = pd.DataFrame({"id": ["a", None, "c"], "url": ["https://x.com/1", None, None],
                       "html": ["<p>The council voted on the new budget on Tuesday evening.</p>"] * 3,
                       "crawl_date": ["2024-05-01", None, None]})
    rows = df.to_dict("records")
    assert all(isinstance(rows[1][k], float) for k in ("id", "url", "crawl_date"))  # NaN: what the API is handed
    # a nullable column's values (.tolist(), itertuples()) say missing with pd.NA
    rows.append({"id": "d", "url": pd.array([None], dtype="string")[0], "html": rows[0]["html"]})
    assert rows[3]["url"] is pd.NA
    out = list(scorer.score_many(rows))
    assert [o["error"] for o in out] == [None] * 4
    assert [o["id"] for o in out] == ["a", "1", "c", "d"]
    assert [o["url"] for o in out] == ["https://x.com/1", None, None, None]
    assert not any("crawl_date" in r for o in out for r in o["reasons"])



def test_a_datetime_column_s_missing_cell_is_no_crawl_date(scorer):
    """A datetime column holds NaT for a missing date: a datetime that no date arithmetic takes. Read
    as a date, it failed the page ("signals failed: TypeError: Cannot compare NaT ...")."""
    import pandas as pd

    html = ('<html><head><title>Council votes</title><meta property="article:published_time" content="2023-01-02">'
            "</head><body><h1>Council votes</h1><p>Posted January 2, 2023</p><p>"
            + "The council met on Tuesday to decide on the budget for the year. " * 10 + "</p></body></html>")
    rows = pd.DataFrame({"html": [html, html], "crawl_date": pd.to_datetime(["2024-05-01", None])}).to_dict("records")
    assert rows[1]["crawl_date"] is pd.NaT
    nat, none = list(scorer.score_many(rows))[1], scorer.score(html=html)
    assert nat["error"] is None and nat["trust"] == none["trust"] and nat["reasons"] == none["reasons"]


def test_threshold_override_changes_labels_not_trust(scorer, real_rows):
    strict = spamdetect.load(threshold=0.0)
    from spamdetect.loading import load_model

    assert strict.threshold == 0.0 and scorer.threshold == load_model(None).threshold
    a, b = scorer.score(**real_rows[2]), strict.score(**real_rows[2])
    assert a["trust"] == b["trust"] and b["label"] == "farm"
    with pytest.raises(ValueError):
        spamdetect.load(threshold=1.5)


def _env_without_registry() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "SPAMDETECT_MODEL")}


def test_default_model_is_shipped_offline_env_override_and_notice_without_champion(tmp_path, monkeypatch, capsys):
    from spamdetect.loading import resolve_model

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("SPAMDETECT_MODEL", raising=False)
    assert resolve_model() == str(config.shipped_model_path())
    monkeypatch.setenv("SPAMDETECT_MODEL", "/some/model.joblib")
    assert resolve_model() == "/some/model.joblib"
    assert resolve_model("models:/spamdetect/2") == "models:/spamdetect/2"
    monkeypatch.delenv("SPAMDETECT_MODEL")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")  # a registry with no champion
    assert resolve_model() == str(config.shipped_model_path())
    assert "using the shipped model" in capsys.readouterr().err
