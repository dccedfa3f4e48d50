"""`python -m spamdetect.summary` (what `make demo` prints): every score format, odd rows counted, bad input refused."""

from __future__ import annotations

import json

import pandas as pd

from spamdetect.summary import main

ROWS = [{"id": "a", "url": "https://farm.example/1", "trust": 0.1, "label": "farm",
         "reasons": ["Related list: 7 of 8 headlines unrelated"], "error": None},
        {"id": "b", "url": "https://news.example/1", "trust": 0.95, "label": "trustworthy", "reasons": [], "error": None},
        {"id": "c", "url": None, "trust": None, "label": None, "reasons": [], "error": "bad JSON: x"}]


def test_summary_reads_jsonl_csv_and_parquet_alike_and_counts_odd_rows(tmp_path, capsys):
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in ROWS) + "not json\n" + json.dumps({"id": "d", "trust": "high"}) + "\n")
    pd.DataFrame(ROWS).to_parquet(tmp_path / "s.parquet")
    frame = pd.DataFrame(ROWS).assign(reasons=[" | ".join(r["reasons"]) for r in ROWS])
    frame.to_csv(tmp_path / "s.csv", index=False)
    assert main([str(jsonl), str(tmp_path / "s.parquet"), str(tmp_path / "s.csv")]) == 0
    blocks = capsys.readouterr().out.split("== ")[1:]
    assert "pages: 5  scored: 2  errors or no trust: 3  farms: 1  trustworthy: 1" in blocks[0]
    assert "unreadable score row: bad JSON" in blocks[0]
    for block in blocks[1:]:
        assert "pages: 3  scored: 2  errors or no trust: 1  farms: 1" in block
        assert "most common farm reasons: Related list (1)" in block and "0.100 farm" in block


def test_summary_refuses_missing_files_and_tables_that_are_not_scores(tmp_path, capsys):
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert main([str(tmp_path / "missing.jsonl")]) == 2
    assert "no such score file" in capsys.readouterr().err
    assert main([str(tmp_path / "other.csv")]) == 2
    assert "is not a score file" in capsys.readouterr().err
