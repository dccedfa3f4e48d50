"""Result writers: JSONL streams, CSV joins reasons, Parquet has a fixed schema and batches rows."""

from __future__ import annotations

import csv
import json
import math

import pyarrow.parquet as pq
import pytest

from spamdetect.writers import PARQUET_SCHEMA, infer_format, open_writer

RECORDS = [
    {"id": "a", "url": "https://a.com/x", "trust": 0.91, "label": "legit", "reasons": [], "error": None},
    {"id": "b", "url": "https://b.xyz/1.html", "trust": 0.12, "label": "farm",
     "reasons": ["Related list: 7 of 8 headlines unrelated", "Author bio: fake profile"], "error": None},
    {"id": "c", "url": None, "trust": float("nan"), "label": None, "reasons": None, "error": "bad JSON: x"},
]


@pytest.mark.parametrize("name, fmt", [("o.jsonl", "jsonl"), ("o.ndjson", "jsonl"), ("o.csv", "csv"),
                                       ("o.parquet", "parquet"), ("-", "jsonl")])
def test_format_is_inferred_from_the_suffix(name, fmt):
    assert infer_format(name) == fmt


def test_unknown_suffix_or_format_is_refused(tmp_path):
    with pytest.raises(ValueError):
        open_writer(str(tmp_path / "out.xlsx"), None)
    with pytest.raises(ValueError):
        open_writer(str(tmp_path / "out.jsonl"), "yaml")


def test_jsonl_flushes_each_record_and_writes_nan_as_null(tmp_path):
    path = tmp_path / "out.jsonl"
    with open_writer(str(path), None) as w:
        w.write(RECORDS[0])
        assert json.loads(path.read_text().splitlines()[0])["id"] == "a"  # visible before close
        for r in RECORDS[1:]:
            w.write(r)
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"]
    assert rows[1]["reasons"] == RECORDS[1]["reasons"] and rows[2]["trust"] is None


def test_jsonl_dash_writes_to_stdout_and_leaves_it_open(capsys):
    with open_writer("-", None) as w:
        w.write({"id": "x", "label": "Grüße", "reasons": ["ü"]})
    out = capsys.readouterr().out
    assert json.loads(out) == {"id": "x", "label": "Grüße", "reasons": ["ü"]}
    print("still open")


def test_csv_joins_reasons_and_keeps_standard_columns_first(tmp_path):
    path = tmp_path / "out.csv"
    with open_writer(str(path), "csv") as w:
        w.write({**RECORDS[1], "features.x": 1.5})
        w.write(RECORDS[2])
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:6] == ["id", "url", "trust", "label", "reasons", "error"]
    assert rows[0]["reasons"] == "Related list: 7 of 8 headlines unrelated | Author bio: fake profile"
    assert rows[0]["features.x"] == "1.5"
    assert rows[1]["trust"] == "" and rows[1]["error"] == "bad JSON: x"


def test_empty_csv_still_has_a_header(tmp_path):
    path = tmp_path / "out.csv"
    open_writer(str(path), None).close()
    assert path.read_text().strip() == "id,url,trust,label,reasons,error"


def test_parquet_has_the_fixed_schema_and_writes_rows_in_batches(tmp_path):
    path = tmp_path / "out.parquet"
    with open_writer(str(path), None) as w:
        for i in range(2500):
            w.write({**RECORDS[i % 3], "id": str(i), "extra": "dropped"})
    table = pq.read_table(path)
    assert table.schema.equals(PARQUET_SCHEMA)
    assert table.num_rows == 2500
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 1000 + 1000 + 500
    rows = table.slice(0, 3).to_pylist()
    assert rows[1]["reasons"] == RECORDS[1]["reasons"] and rows[2]["reasons"] is None
    assert math.isnan(rows[2]["trust"]) and rows[2]["error"] == "bad JSON: x"


def test_empty_parquet_is_still_readable(tmp_path):
    path = tmp_path / "out.parquet"
    open_writer(str(path), "parquet").close()
    assert pq.read_table(path).num_rows == 0


def test_writer_closes_even_when_the_block_raises(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError):
        with open_writer(str(path), None) as w:
            w.write(RECORDS[0])
            raise RuntimeError("boom")
    assert pq.read_table(path).num_rows == 1
