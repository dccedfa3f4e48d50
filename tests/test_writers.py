"""Result writers: JSONL streams, CSV joins reasons, Parquet has a fixed schema; all resume after a kill."""

from __future__ import annotations

import csv
import json

import pyarrow.parquet as pq
import pytest

from spamdetect.writers import (parquet_schema, ResumableParquetWriter, infer_format, journal_path, open_writer,
                                output_has_records, resume_point)

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
    # plain text under a compressed name would fool every reader that trusts the suffix (sites does)
    for name, fmt in (("out.jsonl.gz", None), ("out.csv.gz", None), ("out.gz", "jsonl")):
        with pytest.raises(ValueError, match="names a compressed file"):
            open_writer(str(tmp_path / name), fmt)
    assert not list(tmp_path.iterdir())


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
    with ResumableParquetWriter(str(path), batch_size=1000) as w:
        for i in range(2500):
            w.write({**RECORDS[i % 3], "id": str(i), "extra": "dropped"})
        assert not path.exists()  # journaled until the run finishes
    table = pq.read_table(path)
    assert table.schema.equals(parquet_schema())
    assert table.num_rows == 2500 and table.column("id").to_pylist() == [str(i) for i in range(2500)]
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 1000 + 1000 + 500
    rows = table.slice(0, 3).to_pylist()
    assert rows[1]["reasons"] == RECORDS[1]["reasons"] and rows[2]["reasons"] is None
    assert rows[2]["trust"] is None and rows[2]["error"] == "bad JSON: x"  # NaN is written as null
    assert not (tmp_path / "out.parquet.partial.jsonl").exists()


def test_empty_parquet_is_still_readable(tmp_path):
    path = tmp_path / "out.parquet"
    open_writer(str(path), "parquet").close()
    assert pq.read_table(path).num_rows == 0


def test_a_parquet_writer_stopped_by_an_error_leaves_its_journal_to_resume(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError):
        with open_writer(str(path), None) as w:
            w.write(RECORDS[0])
            raise RuntimeError("boom")
    assert not path.exists()
    assert resume_point(str(path)).done == 1 and output_has_records(str(path))
    with open_writer(str(path), None, append=True) as w:
        w.write(RECORDS[1])
    assert pq.read_table(path).column("id").to_pylist() == ["a", "b"]
    assert not (tmp_path / journal_path("out.parquet")).exists()


# ----- resuming after a kill ------------------------------------------------------------------

def test_jsonl_resume_point_drops_a_torn_last_line_and_names_the_last_complete_id(tmp_path):
    path = tmp_path / "out.jsonl"
    with open_writer(str(path)) as w:
        for r in RECORDS[:2]:
            w.write(r)
    with path.open("a") as fh:
        fh.write('{"id": "c", "url": nu')  # killed mid-line
    point = resume_point(str(path))
    assert (point.done, point.last_id) == (2, "b")
    with open_writer(str(path), append=True) as w:
        w.write(RECORDS[2])
    assert [json.loads(x)["id"] for x in path.read_text().splitlines()] == ["a", "b", "c"]


def test_csv_resume_point_keeps_quoted_newlines_and_drops_a_cut_row(tmp_path):
    path = tmp_path / "out.csv"
    with open_writer(str(path)) as w:
        w.write({**RECORDS[0], "error": "line one\nline two"})
        w.write(RECORDS[1])
    whole = path.read_bytes()
    path.write_bytes(whole + b'c,,,,,"cut inside\r\na quoted field')
    point = resume_point(str(path))
    assert (point.done, point.last_id) == (2, "b") and path.read_bytes() == whole
    path.write_bytes(whole[:-1])  # the row's terminator did not make it: the row is not complete
    assert resume_point(str(path)).done == 1
    with open_writer(str(path), append=True) as w:
        w.write(RECORDS[1])
        w.write(RECORDS[2])
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == ["a", "b", "c"] and rows[0]["error"] == "line one\nline two"


def test_csv_cut_inside_its_header_resumes_from_nothing(tmp_path):
    path = tmp_path / "out.csv"
    path.write_text("id,url,tru")
    assert resume_point(str(path)).done == 0 and path.read_text() == ""


def test_resume_point_refuses_a_file_that_is_not_a_scores_output(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"title": "not scores"}\n')
    with pytest.raises(ValueError, match="not a scored record"):
        resume_point(str(path))


def test_resuming_a_finished_parquet_carries_on_from_its_rows(tmp_path):
    path = tmp_path / "out.parquet"
    with open_writer(str(path)) as w:
        w.write(RECORDS[0])
    assert resume_point(str(path)).last_id == "a"
    with open_writer(str(path), append=True) as w:
        w.write(RECORDS[1])
    assert pq.read_table(path).column("id").to_pylist() == ["a", "b"]
