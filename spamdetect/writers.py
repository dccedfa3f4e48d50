"""Result writers: JSONL (plain or gzipped) and CSV (streamed), Parquet (journaled), chosen by format or
file suffix.

A result record is a dict with at least ``id, url, trust, label, reasons, error``
(``reasons`` a list of strings). JSONL keeps every key; CSV keeps the standard columns
plus the first record's extra keys; Parquet has a fixed schema (extra keys are dropped)
so that files from separate runs concatenate.

Every writer can be resumed after the process was killed (``kill -9`` included):

* JSONL and CSV write and flush each record as it comes. A killed process loses at most the
  line it was writing; ``resume_point`` drops that torn line and says how many records are
  complete and which id came last, and ``open_writer(..., append=True)`` carries on.
* Gzipped JSONL (``.jsonl.gz``) is written as a series of gzip members, which every gzip reader
  reads as one stream; a member holds the records of about a second and is written whole, then
  flushed. A killed process loses the member it was writing, which ``resume_point`` cuts off, and
  the records it had not written yet; resuming scores them again.
* Parquet can only be written whole (its footer comes last), so records go to a JSONL journal
  beside it (``OUT.parquet.partial.jsonl``) and are converted when the run finishes; the
  journal is resumed like any JSONL output and removed once the Parquet file is in place.

Flushing hands each line to the operating system, which keeps it when the process is killed;
only a machine crash can lose it, and then resuming redoes those records. So no fsync per
record (it would cost a disk round trip per page); files are fsynced once, at close.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

COLUMNS = ("id", "url", "trust", "label", "reasons", "error")  # a result's fields, in every output and API
REASON_SEP = " | "
JOURNAL_SUFFIX = ".partial.jsonl"
# what a file name's suffix says it holds; ``score_files`` reads back what these name
SUFFIX_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
                  ".parquet": "parquet", ".pq": "parquet"}
_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"  # how gzip data starts; what readers of our files look for
OTHER_COMPRESSORS = (".bz2", ".xz", ".zst")  # names that ask for a compression nothing is written with


def parquet_schema():
    """The Parquet output's schema (``COLUMNS``). pyarrow is imported here, on first use, not by
    every run: importing it costs ~0.2 s of each run's start-up, and JSONL and CSV need none of it."""
    import pyarrow as pa

    return pa.schema([
        ("id", pa.string()), ("url", pa.string()), ("trust", pa.float64()), ("label", pa.string()),
        ("reasons", pa.list_(pa.string())), ("error", pa.string()),
    ])


def _parquet_writer(path: str):
    import pyarrow.parquet as pq

    return pq.ParquetWriter(path, parquet_schema())


def _arrow_table(rows: list[dict]):
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=parquet_schema())


class Writer:
    """Base: ``write(record)`` then ``close()`` (finish) or ``abort()`` (stop, leave it resumable).

    As a context manager it closes on success and aborts when the block raises.
    """

    def write(self, record: dict) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        """Stop writing: everything written so far stays on disk, ready for ``append=True``."""
        self.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _open_text(path: str, append: bool = False) -> tuple[IO[str], bool]:
    """(stream, owned): stdout for '-', which is flushed but never closed."""
    if path == "-":
        return sys.stdout, False
    return open(path, "a" if append else "w", encoding="utf-8", newline=""), True


def _close_text(fh: IO[str], owned: bool) -> None:
    if fh.closed:
        return
    fh.flush()
    if owned:
        os.fsync(fh.fileno())
        fh.close()


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


def _json_line(record: dict) -> str:
    return json.dumps(_clean(record), ensure_ascii=False, default=_json_default) + "\n"


class JsonlWriter(Writer):
    """One JSON object per line, flushed per record (a consumer can follow; a kill loses at most one line)."""

    def __init__(self, path: str, append: bool = False) -> None:
        self._fh, self._owned = _open_text(path, append)

    def write(self, record: dict) -> None:
        self._fh.write(_json_line(record))
        self._fh.flush()

    def close(self) -> None:
        _close_text(self._fh, self._owned)


class GzipMembers:
    """A binary file written as one gzip member per ``flush()``. Every member on disk is whole, so a
    hard kill leaves a file that every gzip reader reads to the last flush; one gzip stream, flushed
    (Z_SYNC_FLUSH) but never ended, would lack its trailer and end each read in an error."""

    def __init__(self, path: str, append: bool = False) -> None:
        self._fh = open(path, "ab" if append else "wb")  # noqa: SIM115 - closed by close()
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        return len(data)

    def flush(self) -> None:
        if self._pending:
            self._fh.write(gzip.compress(self._pending, compresslevel=6, mtime=0))
            self._pending.clear()
        self._fh.flush()

    def close(self) -> None:
        if self._fh.closed:
            return
        if not self._pending and self._fh.tell() == 0:  # nothing written at all: an empty member, still gzip
            self._fh.write(gzip.compress(b"", mtime=0))
        self.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()


class GzipJsonlWriter(Writer):
    """JSONL in gzip members of the records gathered over ``member_seconds`` (at most ``member_records``).

    Members cost a little size, since each starts compressing afresh: the bench's 2,000 results take
    126 KB as one gzip stream and 142 KB in members of 100 records (607 KB plain). In exchange, what a
    kill loses is about a second of records, and what is written can be read while the run goes on.
    """

    def __init__(self, path: str, append: bool = False, *, member_records: int = 1000,
                 member_seconds: float = 1.0) -> None:
        self._out = GzipMembers(path, append)
        self._records = 0  # in the pending member
        self._started = 0.0  # when the first record of the pending member came
        self._member_records, self._member_seconds = member_records, member_seconds

    def write(self, record: dict) -> None:
        now = time.monotonic()
        if not self._records:
            self._started = now
        self._out.write(_json_line(record).encode("utf-8"))
        self._records += 1
        if self._records >= self._member_records or now - self._started >= self._member_seconds:
            self._out.flush()
            self._records = 0

    def close(self) -> None:
        self._out.close()


class CsvWriter(Writer):
    """Standard columns first, then the first record's extra keys; reasons joined with " | "; flushed per row."""

    def __init__(self, path: str, append: bool = False) -> None:
        header = _csv_header(path) if append and path != "-" else None
        self._fh, self._owned = _open_text(path, append)
        self._writer: csv.DictWriter | None = None
        if header:  # resuming: keep the columns the file already has, no second header
            self._writer = csv.DictWriter(self._fh, fieldnames=header, extrasaction="ignore")

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
        self._fh.flush()

    def close(self) -> None:
        if self._writer is None and not self._fh.closed:  # no records: still a valid CSV with a header
            csv.writer(self._fh).writerow(COLUMNS)
            self._writer = csv.DictWriter(self._fh, fieldnames=list(COLUMNS))  # header only once
        _close_text(self._fh, self._owned)


def _csv_header(path: str) -> list[str] | None:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh), None)
    except FileNotFoundError:
        return None


class ParquetWriter(Writer):
    """Fixed schema, written straight to ``path`` in row groups of ``batch_size`` rows (not resumable;
    ``open_writer`` gives the journaled ``ResumableParquetWriter``)."""

    def __init__(self, path: str, batch_size: int = 1000) -> None:
        if path == "-":
            raise ValueError("parquet cannot be written to stdout; give a file name")
        self._writer = _parquet_writer(path)
        self._rows: list[dict] = []
        self._batch_size = batch_size
        self._closed = False

    def write(self, record: dict) -> None:
        self._rows.append(_parquet_row(record))
        if len(self._rows) >= self._batch_size:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(_arrow_table(self._rows))
            self._rows = []

    def close(self) -> None:
        if not self._closed:
            self._flush()
            self._writer.close()
            self._closed = True


def _parquet_row(record: dict) -> dict:
    reasons = record.get("reasons")
    trust = record.get("trust")
    return {
        "id": _str_or_none(record.get("id")),
        "url": _str_or_none(record.get("url")),
        "trust": None if trust is None else float(trust),
        "label": _str_or_none(record.get("label")),
        "reasons": None if reasons is None else [str(r) for r in reasons],
        "error": _str_or_none(record.get("error")),
    }


def journal_path(path: str) -> str:
    """Where a Parquet output is journaled while the run is going."""
    return path + JOURNAL_SUFFIX


class ResumableParquetWriter(Writer):
    """Parquet through a JSONL journal: ``close()`` converts the journal (streamed, in row groups of
    ``batch_size``) into ``path`` atomically and removes it; ``abort()`` leaves the journal to resume."""

    def __init__(self, path: str, append: bool = False, batch_size: int = 50_000) -> None:
        if path == "-":
            raise ValueError("parquet cannot be written to stdout; give a file name")
        self.path, self.journal, self._batch_size = path, journal_path(path), batch_size
        if append and not os.path.exists(self.journal) and os.path.exists(path):
            _parquet_to_journal(path, self.journal)  # resuming a finished file: carry on from its rows
        self._journal = JsonlWriter(self.journal, append=append)
        self._done = False

    def write(self, record: dict) -> None:
        self._journal.write(_parquet_row(record))

    def abort(self) -> None:
        self._journal.close()

    def close(self) -> None:
        if self._done:
            return
        self._journal.close()
        tmp = self.path + ".tmp"
        with _parquet_writer(tmp) as out, open(self.journal, "rb") as fh:
            rows: list[dict] = []
            for line in fh:
                rows.append(json.loads(line))
                if len(rows) >= self._batch_size:
                    out.write_table(_arrow_table(rows))
                    rows = []
            if rows:
                out.write_table(_arrow_table(rows))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)  # a kill before this leaves the journal; after it, the journal is redundant
        os.remove(self.journal)
        self._done = True


def _parquet_to_journal(path: str, journal: str) -> None:
    import pyarrow.parquet as pq

    with open(journal, "w", encoding="utf-8") as out:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=10_000):
            for row in batch.to_pylist():
                out.write(_json_line(row))


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def infer_format(path: str) -> str:
    """Format from the file suffix, a ``.gz`` after it ignored; '-' (stdout) is JSONL."""
    if path == "-":
        return "jsonl"
    suffix = Path(path.lower().removesuffix(".gz")).suffix
    if suffix not in SUFFIX_FORMATS:
        raise ValueError(f"cannot tell the output format of {path!r}; use .jsonl, .jsonl.gz, .csv or .parquet "
                         "or give a format")
    return SUFFIX_FORMATS[suffix]


def gzipped_output(path: str) -> bool:
    """Whether ``path`` holds gzip: a name ending in .gz, as score writes it and the score readers read it."""
    return path != "-" and path.lower().endswith(".gz")


def output_format(path: str, fmt: str | None) -> str:
    """The format ``path`` is written in: ``fmt``, else its suffix's; ValueError when neither tells, or
    when the name asks for a compression the format is not written in."""
    if path.lower().endswith(OTHER_COMPRESSORS):  # would hold plain text under a compressed name
        raise ValueError(f"{path!r} names a compressor scores are not written with: use .jsonl.gz (gzip), "
                         "or .parquet (compressed columns), or pipe JSONL through it: -o - | xz > scores.jsonl.xz")
    fmt = (fmt or infer_format(path)).lower()
    fmt = {"json": "jsonl", "ndjson": "jsonl"}.get(fmt, fmt)
    if fmt not in ("jsonl", "csv", "parquet"):
        raise ValueError(f"unknown output format {fmt!r} (expected jsonl, csv or parquet)")
    if gzipped_output(path) and fmt != "jsonl":
        raise ValueError(f"{path!r}: only JSONL is written gzipped (.jsonl.gz); {fmt} is written uncompressed "
                         "(Parquet compresses its columns itself)")
    return fmt


def open_writer(path: str, fmt: str | None = None, *, append: bool = False) -> Writer:
    """A writer for ``path`` in ``fmt`` ('jsonl', 'csv', 'parquet'), inferred from the suffix when None.

    ``append=True`` continues an output after ``resume_point`` has checked it.
    """
    fmt = output_format(path, fmt)
    if fmt == "jsonl":
        return GzipJsonlWriter(path, append) if gzipped_output(path) else JsonlWriter(path, append)
    if fmt == "csv":
        return CsvWriter(path, append)
    return ResumableParquetWriter(path, append)


# ----- resuming -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ResumePoint:
    """How far an output got: ``done`` complete records, the last of them with id ``last_id``."""

    done: int
    last_id: str | None


def output_has_records(path: str, fmt: str | None = None) -> bool:
    """True when ``path`` (or its Parquet journal) already holds something a new run would overwrite."""
    if path == "-":
        return False
    paths = [path, journal_path(path)] if output_format(path, fmt) == "parquet" else [path]
    return any(os.path.exists(p) and os.path.getsize(p) > 0 for p in paths)


def resume_point(path: str, fmt: str | None = None) -> ResumePoint:
    """Complete records in an output left by an earlier run; a torn last line/row is cut off the file.

    Raises ``ValueError`` when the file is not a ``spamdetect score`` output.
    """
    fmt = output_format(path, fmt)
    if fmt == "parquet":
        if os.path.exists(journal_path(path)):
            return _jsonl_resume_point(journal_path(path))
        if os.path.exists(path):
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path)
            n = meta.metadata.num_rows
            last = meta.read_row_group(meta.num_row_groups - 1, columns=["id"]).column("id")[-1].as_py() if n else None
            return ResumePoint(n, last)
        return ResumePoint(0, None)
    if not os.path.exists(path):
        return ResumePoint(0, None)
    if fmt == "jsonl":
        return _gzip_jsonl_resume_point(path) if gzipped_output(path) else _jsonl_resume_point(path)
    return _csv_resume_point(path)


def _jsonl_resume_point(path: str) -> ResumePoint:
    with open(path, "rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        end = _after_last_newline(fh, size)
        if end < size:
            fh.truncate(end)  # the line being written when the process died
        if end == 0:
            return ResumePoint(0, None)
        fh.seek(0)
        done = 0
        while chunk := fh.read(_CHUNK):
            done += chunk.count(b"\n")
        start = _after_last_newline(fh, end - 1)
        fh.seek(start)
        line = fh.read(end - start)
    return ResumePoint(done, _last_id(path, line))


def _last_id(path: str, line: bytes) -> str | None:
    try:
        last_id = json.loads(line)["id"]
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"{path}: its last line is not a scored record; is it an output of spamdetect score?") from None
    return None if last_id is None else str(last_id)


def _gzip_jsonl_resume_point(path: str) -> ResumePoint:
    """Records in the complete gzip members; the member a killed process was writing is cut off."""
    done, last, end = 0, None, 0
    with open(path, "rb+") as fh:
        if not GZIP_MAGIC.startswith(fh.read(2)):  # (an empty file, or one torn after its first byte, is)
            raise ValueError(f"{path} is not gzipped; is it an output of spamdetect score?")
        fh.seek(0)
        for end, lines, last_line in _gzip_members(path, fh):
            done += lines
            last = last_line if last_line is not None else last
        if end < fh.seek(0, os.SEEK_END):
            fh.truncate(end)
    return ResumePoint(done, None if last is None else _last_id(path, last))


def _gzip_members(path: str, fh) -> Iterator[tuple[int, int, bytes | None]]:
    """(end offset, lines, last line) of each complete gzip member, streamed; stops at a member that
    the file ends inside (a torn write leaves a prefix of a member, which decompresses without error).
    Data that does not decompress is not a torn write: ValueError, and the file is left as it is."""
    data, offset = b"", 0
    while True:
        member = zlib.decompressobj(wbits=31)  # gzip framing; checks each member's CRC
        lines, tail, last = 0, b"", None
        while not member.eof:
            if not data and not (data := fh.read(_CHUNK)):
                return  # the file ends between members, or inside one (a torn write)
            try:
                out = member.decompress(data)
            except zlib.error as exc:
                raise ValueError(f"{path} is corrupt at byte {offset:,} ({exc}): not an output this run can "
                                 "continue; use --overwrite to start again") from None
            used = len(data) - len(member.unused_data) if member.eof else len(data)
            offset, data = offset + used, member.unused_data if member.eof else b""
            text = tail + out  # tail: the line begun in earlier output
            if (i := text.rfind(b"\n")) >= 0:
                lines += out.count(b"\n")
                last, tail = text[text.rfind(b"\n", 0, i) + 1:i], text[i + 1:]
            else:
                tail = text
        if tail:  # every member this writer writes ends with a newline
            raise ValueError(f"{path}: a gzip member ends inside a line at byte {offset:,}; is it an output "
                             "of spamdetect score?")
        yield offset, lines, last


def _after_last_newline(fh, end: int) -> int:
    """Offset just after the last b"\\n" before ``end`` (0 when there is none)."""
    pos = end
    while pos > 0:
        step = min(_CHUNK, pos)
        fh.seek(pos - step)
        i = fh.read(step).rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return 0


def _csv_resume_point(path: str) -> ResumePoint:
    """Rows are parsed (quoted fields may hold newlines); a row is complete when it has every column
    and its line terminator made it to disk."""
    state = {"end": 0, "newline": True}

    def lines():
        with open(path, "rb") as fh:
            for raw in fh:
                state["end"] += len(raw)
                state["newline"] = raw.endswith(b"\n")
                yield raw.decode("utf-8", errors="replace")

    reader = csv.reader(lines(), strict=True)
    good_end, done, last_id = 0, 0, None
    try:
        header = next(reader, None)
        if header is not None and state["newline"]:  # else: even the header was cut; start afresh
            if header[:1] != ["id"]:
                raise ValueError(f"{path}: its header is not that of a scored output; "
                                 "is it an output of spamdetect score?")
            good_end = state["end"]
            for row in reader:
                if not state["newline"] or len(row) != len(header):
                    break
                done, last_id, good_end = done + 1, row[0], state["end"]
    except csv.Error:  # a quoted field cut in the middle
        pass
    if good_end < os.path.getsize(path):
        with open(path, "rb+") as fh:
            fh.truncate(good_end)
    return ResumePoint(done, last_id)
