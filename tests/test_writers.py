"""Result writers: JSONL streams, CSV joins reasons, Parquet has a fixed schema; all resume after a kill."""

from __future__ import annotations

import csv
import gzip
import json
import zlib

import pyarrow.parquet as pq
import pytest

from spamdetect.writers import (GzipJsonlWriter, parquet_schema, ResumableParquetWriter, infer_format, journal_path,
                                open_writer, output_has_records, resume_point)

RECORDS = [
    {"id": "a", "url": "https://a.com/x", "trust": 0.91, "label": "legit", "reasons": [], "error": None},
    {"id": "b", "url": "https://b.xyz/1.html", "trust": 0.12, "label": "farm",
     "reasons": ["Related list: 7 of 8 headlines unrelated", "Author bio: fake profile"], "error": None},
    {"id": "c", "url": None, "trust": float("nan"), "label": None, "reasons": None, "error": "bad JSON: x"},
]


@pytest.mark.parametrize("name, fmt", [("o.jsonl", "jsonl"), ("o.ndjson", "jsonl"), ("o.csv", "csv"),
                                       ("o.parquet", "parquet"), ("-", "jsonl"), ("o.JSONL.GZ", "jsonl")])
def test_format_is_inferred_from_the_suffix(name, fmt):
    assert infer_format(name) == fmt


def test_unknown_suffix_or_format_is_refused(tmp_path):
    with pytest.raises(ValueError):
        open_writer(str(tmp_path / "out.xlsx"), None)
    with pytest.raises(ValueError):
        open_writer(str(tmp_path / "out.jsonl"), "yaml")
    # plain text under a compressed name would fool every reader that trusts the suffix (sites does)
    for name, fmt in (("out.csv.gz", None), ("out.gz", "csv"), ("out.parquet.gz", None)):
        with pytest.raises(ValueError, match="only JSONL is written gzipped"):
            open_writer(str(tmp_path / name), fmt)
    for name in ("out.jsonl.xz", "out.jsonl.bz2", "out.jsonl.zst"):
        with pytest.raises(ValueError, match="names a compressor"):
            open_writer(str(tmp_path / name), None)
    with pytest.raises(ValueError, match="cannot tell the output format"):
        open_writer(str(tmp_path / "out.gz"), None)
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


def _members(data: bytes) -> list[bytes]:
    """The gzip members of ``data``, each as its own bytes."""
    out = []
    while data:
        d = zlib.decompressobj(wbits=31)
        d.decompress(data)
        out.append(data[:len(data) - len(d.unused_data)])
        data = d.unused_data
    return out


def test_gzipped_jsonl_is_written_in_members_that_any_gzip_reader_reads_as_one_stream(tmp_path):
    path = tmp_path / "out.jsonl.gz"
    w = open_writer(str(path))
    assert isinstance(w, GzipJsonlWriter)
    w._member_records = 2
    for r in RECORDS:
        w.write(r)
    assert [json.loads(x)["id"] for x in gzip.open(path, "rt")] == ["a", "b"]  # a member on disk before close
    w.close()
    assert len(_members(path.read_bytes())) == 2
    assert [json.loads(x) for x in gzip.open(path, "rt")][2] == {**RECORDS[2], "trust": None}
    # the pending records also go out after a second, without waiting for more records
    slow = tmp_path / "slow.jsonl.gz"
    w = GzipJsonlWriter(str(slow), member_seconds=0.0)
    w.write(RECORDS[0])
    assert [json.loads(x)["id"] for x in gzip.open(slow, "rt")] == ["a"]
    w.close()
    # no records: still a gzip file, of no lines
    with open_writer(str(tmp_path / "empty.jsonl.gz")) as w:
        pass
    assert gzip.open(tmp_path / "empty.jsonl.gz").read() == b""


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


def test_gzipped_jsonl_resumes_from_its_complete_members_wherever_a_kill_cut_the_file(tmp_path):
    path = tmp_path / "out.jsonl.gz"
    records = [{**RECORDS[i % 3], "id": f"r{i}"} for i in range(40)]
    w = open_writer(str(path))
    w._member_records = 7
    for r in records:
        w.write(r)
    w.close()
    whole = path.read_bytes()
    ends = [sum(map(len, _members(whole)[:k + 1])) for k in range(len(_members(whole)))]
    assert len(ends) == 6
    for cut in range(0, len(whole) + 1, 13):  # a kill tears the member being written anywhere
        path.write_bytes(whole[:cut])
        point = resume_point(str(path))
        complete = sum(1 for e in ends if e <= cut)
        assert point.done == min(7 * complete, 40)
        assert point.last_id == (f"r{point.done - 1}" if point.done else None)
        assert path.read_bytes() == whole[:ends[complete - 1] if complete else 0]  # the torn member is cut off
        with open_writer(str(path), append=True) as w:
            for r in records[point.done:]:
                w.write(r)
        assert [json.loads(x)["id"] for x in gzip.open(path, "rt")] == [r["id"] for r in records]


def test_a_gzipped_output_that_no_kill_could_have_left_is_refused_and_kept(tmp_path):
    path = tmp_path / "out.jsonl.gz"
    path.write_text('{"id": "a"}\n')  # plain text under the name
    with pytest.raises(ValueError, match="not gzipped"):
        resume_point(str(path))
    members = [gzip.compress(b'{"id": "a"}\n'), gzip.compress(b'{"id": "b"}\n'), gzip.compress(b'{"id": "c"}\n')]
    middle = bytearray(members[1])
    middle[12] ^= 0xFF  # corrupt inside the second member, with a good member after it
    damaged = members[0] + bytes(middle) + members[2]
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="corrupt at byte"):
        resume_point(str(path))
    assert path.read_bytes() == damaged
    path.write_bytes(gzip.compress(b'{"id": "a"}\n{"id": "b"'))  # a whole member that ends inside a line
    with pytest.raises(ValueError, match="ends inside a line"):
        resume_point(str(path))


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
