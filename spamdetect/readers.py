"""Turn input files into page records: HTML files, directories, WARC/WET, JSONL, text dumps.

Every input yields records; one that cannot be read yields a ``Record`` with ``error`` set
(never an exception, never a silent skip), so a batch run accounts for every input. WARC
records that are not pages (requests, metadata, images, PDFs) are not inputs and are passed
over. A truncated file yields an error record for the part that was lost, then the reader
moves on to the next file.
"""

from __future__ import annotations

import codecs
import gzip
import json
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from dateutil import parser as dateparser
from warcio.archiveiterator import ArchiveIterator

from spamdetect.page import Page

HTML_SUFFIXES = (".html", ".htm", ".html.gz", ".htm.gz")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")
TEXT_SUFFIXES = (".txt",)
ALL_SUFFIXES = HTML_SUFFIXES + WARC_SUFFIXES + JSONL_SUFFIXES + TEXT_SUFFIXES

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head)", re.I | re.S)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# WHATWG Encoding Standard: these labels mean the superset browsers actually decode with.
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso8859-1": "cp1252", "shift_jis": "cp932",
    "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "windows-31j": "cp932", "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949", "tis-620": "cp874", "iso-8859-9": "cp1254", "big5": "big5hkscs",
}


@dataclass
class Record:
    """One input page: ``page`` when it could be read, else ``error`` says why; ``source`` is the file."""

    id: str
    page: Page | None
    error: str | None
    source: str


# ----- decoding ---------------------------------------------------------------------------

def _codec(label: str | None) -> str | None:
    """Python codec name for a charset label, None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def sniff_charset(raw: bytes) -> str | None:
    """Charset from a BOM or a <meta charset> / http-equiv in the first 2 KB."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    m = _CHARSET.search(raw[:2048])
    return m.group(1).decode("ascii", "ignore") if m else None


def decode_html(raw: bytes, declared: str | None = None) -> str:
    """Decode HTML bytes: declared charset, then <meta> charset, then UTF-8, then cp1252 (lossy)."""
    for label in (declared, sniff_charset(raw), "utf-8"):
        codec = _codec(label)
        if codec is None:
            continue
        try:
            text = raw.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        return text.lstrip("\ufeff")
    return raw.decode("cp1252", errors="replace")


def _charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    return m.group(1) if m else None


def _parse_date(value: str | None) -> datetime | None:
    """ISO 8601 (WARC-Date), else a date string with an explicit year; None when unparseable."""
    if not value:
        return None
    try:
        return dateparser.isoparse(value)
    except (ValueError, OverflowError):
        pass
    if not _YEAR.search(value):  # dateutil fills missing parts from today: never guess a year
        return None
    try:  # e.g. HTTP style "Tue, 01 Mar 2024 12:00:00 GMT"
        return dateparser.parse(value)
    except (ValueError, OverflowError, TypeError):
        return None


# ----- dispatch ---------------------------------------------------------------------------

def read_inputs(paths: Iterable[str]) -> Iterator[Record]:
    """Records of all inputs in order; ``-`` reads JSONL from stdin, directories are walked sorted."""
    for arg in paths:
        if arg == "-":
            yield from read_jsonl_stream(sys.stdin.buffer, "<stdin>")
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p) is not None)
            for p in files:
                yield from read_file(p)
        elif path.exists():
            yield from read_file(path)
        else:
            yield Record(arg, None, f"no such file or directory: {arg}", arg)


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for kind, suffixes in (("html", HTML_SUFFIXES), ("warc", WARC_SUFFIXES),
                           ("jsonl", JSONL_SUFFIXES), ("text", TEXT_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


def read_file(path: Path) -> Iterator[Record]:
    """Records of one file, by its suffix; an unsupported suffix or unreadable file is an error record."""
    kind = _kind(path)
    src = str(path)
    if kind is None:
        yield Record(src, None, f"unsupported input type (expected one of {', '.join(ALL_SUFFIXES)})", src)
        return
    try:
        if kind == "html":
            yield Record(src, Page(html=_read_bytes(path), id=src), None, src)
        elif kind == "text":
            yield Record(src, Page.from_text(decode_html(path.read_bytes()), id=src), None, src)
        elif kind == "warc":
            with path.open("rb") as fh:
                yield from read_warc_stream(fh, src)
        else:
            with (gzip.open(path, "rb") if src.lower().endswith(".gz") else path.open("rb")) as fh:
                yield from read_jsonl_stream(fh, src)
    except (OSError, EOFError, zlib.error) as exc:  # unreadable file, or gzip cut off before any record
        yield Record(src, None, f"cannot read {src}: {_describe(exc)}", src)


def _read_bytes(path: Path) -> bytes:
    if path.name.lower().endswith(".gz"):
        with gzip.open(path, "rb") as fh:
            return fh.read()
    return path.read_bytes()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated gzip stream (file cut off)"
    return f"{type(exc).__name__}: {exc}"


# ----- WARC / WET -------------------------------------------------------------------------

def _content_type(record) -> str:
    ctype = (record.http_headers.get_header("Content-Type") or "") if record.http_headers else ""
    return ctype.split(";")[0].strip().lower()


def _looks_html(record, body_start: bytes) -> bool:
    """For responses without an HTTP content type: Common Crawl's payload detection, else the first bytes."""
    identified = (record.rec_headers.get_header("WARC-Identified-Payload-Type") or "").lower()
    return identified in _HTML_TYPES or bool(_HTML_START.match(body_start))


def read_warc_stream(stream: BinaryIO, src: str) -> Iterator[Record]:
    """Pages of a WARC/WET stream: HTML ``response`` records and ``conversion`` (text) records."""
    it = ArchiveIterator(stream)
    offset, end = 0, 0
    try:
        for record in it:
            rtype = record.rec_type
            not_page = rtype not in ("response", "conversion") or (
                rtype == "response" and _content_type(record) not in ("", *_HTML_TYPES))
            body, failure = b"", None
            if not not_page:
                try:
                    body = record.content_stream().read()
                except Exception as exc:  # noqa: BLE001 -- warcio raises many types on bad chunking/compression
                    failure = f"cannot decode body of {rtype} record: {_describe(exc)}"
            # get_record_offset() reads the record to its end, so it comes after the body
            offset = it.get_record_offset()
            end = offset + it.get_record_length()
            rid = f"{src}:{offset}"
            if _cut_off(record):  # the stream ended inside this record: it and all after it are lost
                yield Record(rid, None, _truncated_msg(record, offset), src)
                return
            if failure:
                yield Record(rid, None, failure, src)
            elif not_page or (rtype == "response" and not _content_type(record)
                              and not _looks_html(record, body[:512])):
                continue
            else:
                yield _warc_page(record, body, rid, src)
    except Exception as exc:  # noqa: BLE001 -- ArchiveLoadFailed, zlib/EOF errors on cut or corrupt files
        yield Record(f"{src}:{end}", None, f"unreadable WARC data at offset {end} (truncated or corrupt file; "
                     f"the rest of the file is lost): {_describe(exc)}", src)
        return
    # A cut inside a record header or a gzip member header ends the iteration quietly:
    # bytes left over after the last whole record mean records were lost.
    size = _stream_size(stream)
    if size is not None and size > end and not _blank_tail(stream, end, size):
        yield Record(f"{src}:{end}", None, f"truncated WARC: {size - end:,} bytes after offset {end} "
                     "do not form a complete record; the rest of the file is lost", src)


def _blank_tail(stream: BinaryIO, start: int, size: int) -> bool:
    """Uncompressed WARCs end with blank lines that belong to no record."""
    if size - start > 64:
        return False
    stream.seek(start)
    return not stream.read(64).strip()


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        return stream.seek(0, 2) if stream.seekable() else None
    except (OSError, ValueError):
        return None


def _cut_off(record) -> bool:
    """True when the stream ended inside the record: before its Content-Length, or inside its header
    (WARC requires Content-Length, so a record without one is a header that was cut)."""
    return record.length is None or getattr(record.raw_stream, "limit", 0) > 0


def _truncated_msg(record, offset: int) -> str:
    if record.length is None:
        what = f"the {record.rec_type or 'record'} header at offset {offset} is incomplete"
    else:
        what = (f"{record.rec_type} record at offset {offset} is missing {record.raw_stream.limit:,} "
                f"of {record.length:,} bytes")
    return f"truncated WARC: {what}; the rest of the file is lost"


def _warc_page(record, body: bytes, rid: str, src: str) -> Record:
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    raw_date = headers.get_header("WARC-Date")
    crawl_date = _parse_date(raw_date)
    notes = [] if crawl_date or not raw_date else [f"unparseable WARC-Date {raw_date!r}"]
    if record.rec_type == "conversion":
        page = Page.from_text(body.decode("utf-8", errors="replace"), url=url, crawl_date=crawl_date, id=rid)
    else:
        ctype = record.http_headers.get_header("Content-Type") if record.http_headers else None
        declared = _codec(_charset_of(ctype))
        html: str | bytes = body  # no usable HTTP charset: selectolax detects it (BOM, <meta>)
        if declared:
            try:
                html = body.decode(declared)
            except UnicodeDecodeError:  # the header lies (common): <meta>, then utf-8, then cp1252
                notes.append(f"HTTP charset {declared} does not fit the body; decoded by <meta>/fallback")
                html = decode_html(body)
        page = Page(html=html, url=url, crawl_date=crawl_date, id=rid)
    page.notes.extend(notes)
    return Record(rid, page, None, src)


# ----- JSONL ------------------------------------------------------------------------------

def read_jsonl_stream(stream: BinaryIO, src: str) -> Iterator[Record]:
    """One page per line: ``{"id"?, "url"?, "html" | "text", "crawl_date"?}``; blank lines are not records."""
    lineno = 0
    try:
        for lineno, line in enumerate(stream, 1):
            if line.strip():
                yield _jsonl_record(line, f"{src}:{lineno}", src)
    except (OSError, EOFError, zlib.error) as exc:
        yield Record(f"{src}:{lineno + 1}", None, f"cannot read past line {lineno}: {_describe(exc)}", src)


def _jsonl_record(line: bytes, default_id: str, src: str) -> Record:
    try:
        row = json.loads(line)
    except ValueError as exc:
        return Record(default_id, None, f"bad JSON: {exc}", src)
    if not isinstance(row, dict):
        return Record(default_id, None, f"expected a JSON object, got {type(row).__name__}", src)
    rid = str(row["id"]) if row.get("id") not in (None, "") else default_id
    html, text, url = row.get("html"), row.get("text"), row.get("url")
    if not isinstance(html, str) and not isinstance(text, str):
        return Record(rid, None, "line has neither an 'html' nor a 'text' string", src)
    if url is not None and not isinstance(url, str):
        return Record(rid, None, f"'url' must be a string, got {type(url).__name__}", src)
    raw_date = row.get("crawl_date")
    crawl_date = _parse_date(raw_date) if isinstance(raw_date, str) else None
    if isinstance(html, str):
        page = Page(html=html, url=url, crawl_date=crawl_date, id=rid)
    else:
        page = Page.from_text(text, url=url, crawl_date=crawl_date, id=rid)
    if raw_date and crawl_date is None:
        page.notes.append(f"unparseable crawl_date {raw_date!r}")
    return Record(rid, page, None, src)
