"""Reading what ``spamdetect score`` wrote: JSONL (optionally gzipped; '-' = stdin, either), CSV, Parquet, or
the Parquet directory of ``score --engine spark``, as a stream of record dicts.

``sites`` aggregates these rows and ``python -m spamdetect.summary`` summarises them. A row that cannot
be read comes back as an error row (its ``error`` starts with ``UNREADABLE``), never skipped; a table
that no ``score`` run wrote (no ``trust`` or ``error`` column) is refused as a whole.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from spamdetect.readers import ungzipped
from spamdetect.writers import COLUMNS, REASON_SEP, gzipped_output, infer_format

UNREADABLE = "unreadable score row"


def table_format(path: str) -> str:
    """'jsonl', 'csv' or 'parquet' from the file suffix, as ``score`` names its outputs ('-' is JSONL);
    ValueError when it tells none."""
    try:
        return infer_format(path)
    except ValueError:
        raise ValueError(f"cannot tell the format of {path!r}: expected .jsonl[.gz], .csv[.gz] or .parquet") from None


def check_score_file(path: str, who: str) -> None:
    """Refuse, before anything is read, a score input that is missing, of no known format, or a directory
    other than a Spark output; say on stderr (as ``who``) when a Spark output is not finished yet."""
    if path == "-":
        return
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no such score file: {path}")
    if not p.is_dir():
        table_format(path)
        return
    visible = [f.name for f in p.iterdir() if not f.name.startswith(("_", "."))]
    others = sorted(name for name in visible if not name.endswith(".parquet"))
    if others or not visible:
        what = (f"holds other files than Parquet ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''})"
                if others else "holds no Parquet files")
        raise ValueError(f"{path} is a directory that {what}: give score files, or the directory "
                         "`score --engine spark -o DIR` wrote")
    if (p / "_done").is_dir() and not (p / "_SUCCESS").exists():
        print(f"{who}: {path}: the Spark run that writes it has not finished (no _SUCCESS); "
              "reading the groups written so far", file=sys.stderr)


def iter_score_rows(path: str, batch_rows: int = 65536) -> Iterator[dict]:
    """Rows of a score file, streamed; a row that cannot be read comes back as an error row, not skipped."""
    fmt = "parquet" if path != "-" and os.path.isdir(path) else table_format(path)
    if fmt == "parquet":
        import pyarrow.dataset as ds

        # A file, or a Spark output directory: its data files, without _done/, _staging/ and _SUCCESS
        # (pyarrow leaves names starting with _ or . out, as Spark does).
        data = ds.dataset(path, format="parquet")
        _check_columns(path, data.schema.names)
        cols = [c for c in COLUMNS if c in data.schema.names]
        for batch in data.to_batches(columns=cols, batch_size=batch_rows):
            yield from batch.to_pylist()
        return
    with _open_text(path) as fh:
        lines = _LineCount(fh)
        try:
            yield from _csv_rows(lines, path) if fmt == "csv" else _jsonl_rows(lines, path)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:  # only a gzipped file raises these
            if lines.n == 0 and isinstance(exc, gzip.BadGzipFile):  # a plain file under a .gz name
                raise ValueError(f"{path} is not gzip data, though its name ends in .gz") from None
            # a gzip stream cut short: a score run still writing it, or one that was killed
            why = ("the gzip stream ends early (a run still writing the file, or one that was killed)"
                   if isinstance(exc, EOFError) else f"the gzip data is corrupt ({exc})")
            yield _unreadable(f"{path}:{lines.n + 1}", f"cannot read past line {lines.n}: {why}")


class _LineCount:
    """The lines of ``fh``, counted as they are read (``n``): where the data ended when it ends early."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh, self.n = fh, 0

    def __iter__(self) -> Iterator[str]:
        for line in self._fh:
            self.n += 1
            yield line


def _csv_rows(lines: _LineCount, path: str) -> Iterator[dict]:
    reader = csv.DictReader(lines)
    _check_columns(path, reader.fieldnames or [])
    for i, row in enumerate(reader, start=2):
        yield _csv_row(row, f"{path}:{i}")


def _jsonl_rows(lines: _LineCount, path: str) -> Iterator[dict]:
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield _unreadable(f"{path}:{i}", f"bad JSON ({exc})")
            continue
        yield row if isinstance(row, dict) else _unreadable(f"{path}:{i}", "not a JSON object")


def _open_text(path: str) -> IO[str]:
    if path == "-":  # no name to go by: gzip is told by its magic bytes (`cat scores.jsonl.gz | ...`)
        return io.TextIOWrapper(ungzipped(sys.stdin.buffer), encoding="utf-8", errors="replace", newline="")
    if gzipped_output(path):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _unreadable(where: str, why: str) -> dict:
    return {"id": where, "url": None, "trust": None, "label": None, "reasons": [], "error": f"{UNREADABLE}: {why}"}


def _check_columns(path: str, columns: list[str]) -> None:
    """Refuse a table that `spamdetect score` did not write: every score row has a trust or an error."""
    if "trust" not in columns and "error" not in columns:
        shown = ", ".join(columns[:8]) + (", ..." if len(columns) > 8 else "") or "none"
        raise ValueError(f"{path} is not a score file: it has no 'trust' or 'error' column (columns: {shown})")


def _csv_row(row: dict, where: str) -> dict:
    """A CSV row as written by ``spamdetect score``: empty = null, reasons joined with ' | '."""
    def cell(key: str) -> str | None:
        value = row.get(key)
        return value if value not in (None, "") else None

    trust: Any = cell("trust")
    if trust is not None:
        try:
            trust = float(trust)
        except ValueError:
            return _unreadable(where, f"trust {trust!r} is not a number")
    reasons = [r for r in (cell("reasons") or "").split(REASON_SEP) if r]
    return {"id": cell("id"), "url": cell("url"), "trust": trust, "label": cell("label"), "reasons": reasons,
            "error": cell("error")}
