"""Result writers: JSONL (streamed), CSV and Parquet, chosen by format or file suffix.

A result record is a dict with at least ``id, url, trust, label, reasons, error``
(``reasons`` a list of strings). JSONL keeps every key; CSV keeps the standard columns
plus the first record's extra keys; Parquet has a fixed schema (extra keys are dropped)
so that files from separate runs concatenate.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

COLUMNS = ("id", "url", "trust", "label", "reasons", "error")
PARQUET_SCHEMA = pa.schema([
    ("id", pa.string()), ("url", pa.string()), ("trust", pa.float64()), ("label", pa.string()),
    ("reasons", pa.list_(pa.string())), ("error", pa.string()),
])
REASON_SEP = " | "
_SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                   ".parquet": "parquet", ".pq": "parquet"}


class Writer:
    """Base: ``write(record)`` then ``close()``; usable as a context manager."""

    def write(self, record: dict) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_text(path: str) -> tuple[IO[str], bool]:
    """(stream, owned): stdout for '-', which is flushed but never closed."""
    if path == "-":
        return sys.stdout, False
    return open(path, "w", encoding="utf-8", newline=""), True


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):  # datetimes
        return obj.isoformat()
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    return str(obj)


def _clean(value: Any) -> Any:
    """NaN is not JSON: write null instead."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


class JsonlWriter(Writer):
    """One JSON object per line, flushed per record so a consumer can follow along."""

    def __init__(self, path: str) -> None:
        self._fh, self._owned = _open_text(path)

    def write(self, record: dict) -> None:
        self._fh.write(json.dumps(_clean(record), ensure_ascii=False, default=_json_default) + "\n")
        self._fh.flush()

    def close(self) -> None:
        if self._owned and not self._fh.closed:
            self._fh.close()
        elif not self._owned:
            self._fh.flush()


class CsvWriter(Writer):
    """Standard columns first, then the first record's extra keys; reasons joined with " | "."""

    def __init__(self, path: str) -> None:
        self._fh, self._owned = _open_text(path)
        self._writer: csv.DictWriter | None = None

    def write(self, record: dict) -> None:
        if self._writer is None:
            fields = list(COLUMNS) + [k for k in record if k not in COLUMNS]
            self._writer = csv.DictWriter(self._fh, fieldnames=fields, extrasaction="ignore")
            self._writer.writeheader()
        row = {}
        for key, value in record.items():
            if isinstance(value, (list, tuple)):
                value = REASON_SEP.join(str(v) for v in value)
            elif value is None or (isinstance(value, float) and math.isnan(value)):
                value = ""
            row[key] = value
        self._writer.writerow(row)

    def close(self) -> None:
        if self._writer is None:  # no records: still a valid CSV with a header
            csv.writer(self._fh).writerow(COLUMNS)
            self._writer = csv.DictWriter(self._fh, fieldnames=list(COLUMNS))  # header only once
        if self._owned and not self._fh.closed:
            self._fh.close()
        elif not self._owned:
            self._fh.flush()


class ParquetWriter(Writer):
    """Fixed schema, written in row groups of ``batch_size`` rows."""

    def __init__(self, path: str, batch_size: int = 1000) -> None:
        if path == "-":
            raise ValueError("parquet cannot be written to stdout; give a file name")
        self._writer = pq.ParquetWriter(path, PARQUET_SCHEMA)
        self._rows: list[dict] = []
        self._batch_size = batch_size
        self._closed = False

    def write(self, record: dict) -> None:
        reasons = record.get("reasons")
        trust = record.get("trust")
        self._rows.append({
            "id": _str_or_none(record.get("id")),
            "url": _str_or_none(record.get("url")),
            "trust": None if trust is None else float(trust),
            "label": _str_or_none(record.get("label")),
            "reasons": None if reasons is None else [str(r) for r in reasons],
            "error": _str_or_none(record.get("error")),
        })
        if len(self._rows) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=PARQUET_SCHEMA))
            self._rows = []

    def close(self) -> None:
        if not self._closed:
            self._flush()
            self._writer.close()
            self._closed = True


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def infer_format(path: str) -> str:
    """Format from the file suffix; '-' (stdout) is JSONL."""
    if path == "-":
        return "jsonl"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIX_FORMATS:
        raise ValueError(f"cannot tell the output format of {path!r}; use .jsonl, .csv or .parquet or give a format")
    return _SUFFIX_FORMATS[suffix]


def open_writer(path: str, fmt: str | None = None) -> Writer:
    """A writer for ``path`` in ``fmt`` ('jsonl', 'csv', 'parquet'), inferred from the suffix when None."""
    fmt = (fmt or infer_format(path)).lower()
    if fmt in ("jsonl", "json", "ndjson"):
        return JsonlWriter(path)
    if fmt == "csv":
        return CsvWriter(path)
    if fmt == "parquet":
        return ParquetWriter(path)
    raise ValueError(f"unknown output format {fmt!r} (expected jsonl, csv or parquet)")
