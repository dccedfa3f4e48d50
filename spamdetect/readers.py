"""Turn input files into page records: HTML files, directories, WARC/WET, JSONL, text dumps.

Every input yields records; one that cannot be read yields a ``Record`` with ``error`` set
(never an exception, never a silent skip), so a batch run accounts for every input. WARC
records that are not pages (requests, metadata, images, PDFs, redirects and error responses) are
not inputs: they are passed over and counted (``InputReader.passed_over``), so a run can say what
it left out. A truncated file yields an error record for the part that was lost, then the reader
moves on to the next file. A .warc.gz gzipped as a whole instead of per record is read as one
stream (its record ids then count uncompressed bytes). WARC bodies are de-chunked and decoded
from their Content-Encoding (gzip, deflate, br); one that cannot be decoded, or holds nothing but
whitespace, is an error record.

Reading is split in two so that bulk scoring keeps the main process cheap: ``InputReader``
yields ``RawRecord``s (the bytes as read plus a few header fields: no decoding, no parsing,
cheap to pickle), and ``RawRecord.load()`` turns one into a ``Record`` with its ``Page``; the
batch scorer calls it in the worker processes. ``read_inputs`` does both, for everyone else.
What is read is capped: a page body beyond ``page.MAX_HTML_BYTES`` is counted, not kept, and
the page says so in its notes; a JSONL line beyond ``MAX_LINE_BYTES`` is an error record.
"""

from __future__ import annotations

import codecs
import contextlib
import glob
import gzip
import io
import json
import logging
import os
import re
import stat
import sys
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

import brotli
from dateutil import parser as dateparser
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import BufferedReader

from spamdetect.charsets import content_type_charset, decode_html_noted
from spamdetect.page import MAX_HTML_BYTES, Page, is_blank, is_missing
from spamdetect.writers import GZIP_MAGIC

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml", ".html.gz", ".htm.gz")
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz", ".arc", ".arc.gz")  # ARC: the Internet Archive's older format
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")  # ndjson: the same format
TEXT_SUFFIXES = (".txt",)
ALL_SUFFIXES = HTML_SUFFIXES + WARC_SUFFIXES + JSONL_SUFFIXES + TEXT_SUFFIXES

OTHER_FILES = "other files in directories"  # how InputReader.passed_over counts them
RUN_OUTPUT = "this run's output file"  # found in an input directory
MAX_LINE_BYTES = 64 * 1024 * 1024  # a JSONL line longer than this is an error record, not a memory spike
_CHUNK = 1 << 20

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head)", re.I | re.S)
_HTML_TAG = re.compile(rb"<(?:!doctype\s+html|html|head|body)[\s>]", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: no character on its own


@dataclass
class Record:
    """One input page: ``page`` when it could be read, else ``error`` says why; ``source`` is the file.

    ``url`` is the page's; for a record that could not be read, the URL its headers gave, if any.
    """

    id: str
    page: Page | None
    error: str | None
    source: str
    url: str | None = None

    def __post_init__(self):
        if self.url is None and self.page is not None:
            self.url = self.page.url


def parse_date(value: str | None) -> datetime | None:
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


# ----- raw records: read in the main process, loaded in the workers -------------------------

@dataclass(slots=True)
class RawRecord:
    """An input record as read, before decoding and parsing; ``load()`` makes the ``Record``.

    ``kind`` is "error" (``error`` set), "html" / "text" (a file at ``path``, read by ``load``),
    "warc" (a response or WET conversion payload in ``data``) or "jsonl" (one line in ``data``;
    the line's own "id" field, read by ``load``, wins over ``id``).
    """

    kind: str
    id: str
    source: str
    data: bytes = b""
    error: str | None = None
    path: str | None = None
    url: str | None = None
    date: str | None = None  # WARC-Date as written
    content_type: str | None = None  # HTTP Content-Type of a WARC response
    text: bool = False  # a WET conversion record: the payload is extracted text
    full_size: int | None = None  # payload size when ``data`` was cut at the cap
    note: str | None = None  # why a WARC payload is incomplete (cut by the crawler, compressed data ending early)

    def load(self) -> Record:
        """Decode and parse: the ``Record`` with its ``Page``, or with ``error``; never raises."""
        try:
            if self.kind == "error":
                return Record(self.id, None, self.error, self.source, self.url)
            if self.kind in ("html", "text"):
                return _load_file(self)
            if self.kind == "warc":
                return _load_warc(self)
            return _jsonl_record(self.data, self.id, self.source)
        except Exception as exc:  # noqa: BLE001 -- one odd record must not stop the batch
            return Record(self.id, None, f"cannot read record: {_describe(exc)}"[:500], self.source, self.url)


def _error(rid: str, src: str, msg: str, url: str | None = None) -> RawRecord:
    return RawRecord("error", rid, src, error=msg, url=url)


@dataclass(slots=True)
class _Source:
    arg: str
    path: Path | None  # None: stdin
    kind: str | None
    size: int


class InputReader:
    """Raw records of the given inputs in order, and how many input bytes have been consumed.

    ``-`` reads stdin (JSONL or a WARC/WET stream); directories are walked recursively, sorted, keeping known
    suffixes; a file given more than once (or through a symbolic link) is read once. Paths are expanded
    once, up front, so ``total_bytes`` is known (None with stdin) and a progress bar can show an ETA from
    ``bytes_read()``. ``passed_over`` counts, by kind, what was read but is not a page.
    """

    def __init__(self, paths: Iterable[str], *, output: os.stat_result | None = None) -> None:
        self.sources: list[_Source] = []
        self.passed_over: Counter[str] = Counter()
        seen: set[str] = set()
        for arg in paths:
            if arg == "-":
                self.sources.append(_Source(arg, None, "stdin", 0))
                continue
            path = Path(arg)
            files = [path]
            if path.is_dir():
                files = input_files(path, self.passed_over)
                if output is not None:  # an output kept next to its inputs is not one of them
                    kept = [p for p in files if not is_the_file(p, output)]
                    if len(kept) < len(files):
                        self.passed_over[RUN_OUTPUT] += len(files) - len(kept)
                    files = kept
            # a file given twice (a glob and its directory, or a symbolic link to it) is read once, as
            # the Spark engine does: its records would be in the output twice
            files = [p for p in files if not ((key := os.path.realpath(p)) in seen or seen.add(key))]
            self.sources.extend(_Source(arg, p, _kind(p) or _sniffed_kind(p), _size(p)) for p in files)
        self.total_bytes: int | None = (None if any(s.path is None for s in self.sources)
                                        else sum(s.size for s in self.sources))
        self._done = 0
        self._fh: BinaryIO | None = None

    def bytes_read(self) -> int:
        """Input bytes consumed so far (compressed bytes for .gz files)."""
        try:
            return self._done + (self._fh.tell() if self._fh is not None else 0)
        except (OSError, ValueError):
            return self._done

    def __iter__(self) -> Iterator[RawRecord]:
        for source in self.sources:
            try:
                yield from self._read(source)
            finally:
                self._fh = None
                self._done += source.size

    def _read(self, source: _Source) -> Iterator[RawRecord]:
        if source.path is None:
            yield from _stdin_raw(sys.stdin.buffer, self.passed_over)
            return
        path, src = source.path, str(source.path)
        if not path.exists():
            name = source.arg if Path(source.arg) == path else src  # a file found in a directory: its own path
            broken = " (a broken symbolic link)" if path.is_symlink() else ""
            yield _error(name, name, f"no such file or directory: {name}{broken}")
        elif source.kind is None:
            yield _error(src, src, "unsupported input type: neither its name (one of "
                         f"{', '.join(ALL_SUFFIXES)}) nor its first bytes (HTML, WARC, JSONL) say what it holds")
        elif source.size == 0:
            yield _error(src, src, "empty file (0 bytes): no records")
        elif source.kind in ("html", "text"):
            yield RawRecord(source.kind, src, src, path=src)  # read by load(), in the worker
        else:
            try:
                with path.open("rb") as fh:
                    self._fh = fh
                    if source.kind == "warc" and _one_gzip_stream(fh):
                        with gzip.GzipFile(fileobj=fh, mode="rb") as gz:  # offsets count uncompressed bytes
                            yield from _warc_raw(gz, src, self.passed_over)
                    elif source.kind == "warc":
                        yield from _warc_raw(fh, src, self.passed_over)
                    elif _gzipped(fh):
                        with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
                            yield from _jsonl_raw(gz, src)
                    else:
                        yield from _jsonl_raw(fh, src)
            except (OSError, EOFError, zlib.error) as exc:  # unreadable, or gzip cut before any record
                yield _error(src, src, f"cannot read {src}: {_describe(exc)}")


def _stdin_raw(stream: BinaryIO, passed_over: Counter[str]) -> Iterator[RawRecord]:
    """Standard input: JSONL, or a WARC/WET/ARC stream (``aws s3 cp s3://.../x.warc.gz - | spamdetect
    score -``), gzipped or not, told apart by its first bytes since a pipe has no name."""
    seen = _Recording(stream)  # a pipe cannot be rewound: what is read to decide is put back in front
    first = seen.read(_SNIFF_BYTES)
    gzipped = first.startswith(GZIP_MAGIC)
    archive = _is_archive(_head(first, 64))
    whole = archive and gzipped and _first_member_holds_more(seen.read, first)
    stream = io.BufferedReader(_Prefixed(seen.taken(), stream))
    if archive and not whole:
        yield from _warc_raw(stream, "<stdin>", passed_over)  # warcio reads a gzip member per record itself
    elif archive:
        with gzip.GzipFile(fileobj=stream, mode="rb") as gz:  # as for a file: offsets count uncompressed bytes
            # GzipFile says it is seekable, but seeking back rewinds the pipe: read it as a plain stream
            last = None
            for last in _warc_raw(io.BufferedReader(_Prefixed(b"", gz)), "<stdin>", passed_over):
                yield last
            if last is not None and (last.error or "").startswith(_UNREADABLE_WARC):
                return  # the cut is reported already
            try:  # warcio can end quietly where gzip data ends early; a file's size check cannot apply to a pipe
                while gz.read(_CHUNK):
                    pass
            except (OSError, EOFError, zlib.error) as exc:
                yield _error("<stdin>", "<stdin>", f"cannot read <stdin>: {_describe(exc)}")
    elif gzipped:
        with gzip.GzipFile(fileobj=stream, mode="rb") as gz:
            yield from _jsonl_raw(gz, "<stdin>")
    else:
        yield from _jsonl_raw(stream, "<stdin>")


_UNREADABLE_WARC = "unreadable WARC data"  # how _warc_raw reports data it cannot read past
_SNIFF_BYTES = 512  # enough to decompress a WARC header's first bytes from a gzip member
_ARCHIVE_STARTS = (b"WARC/", b"filedesc://")  # a WARC record header; an ARC file's first record


def _head(data: bytes, n: int) -> bytes:
    """The first ``n`` bytes ``data`` holds: decompressed when it starts a gzip member (the start of the
    member is enough), b"" when that fails."""
    if not data.startswith(GZIP_MAGIC):
        return data[:n]
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, n)
    except zlib.error:
        return b""


def _is_archive(head: bytes) -> bool:
    """Whether the (decompressed) first bytes of a stream are those of a WARC or ARC file."""
    return head.lstrip(b"\r\n").startswith(_ARCHIVE_STARTS)


class _Recording:
    """Reads of ``stream`` that keep what they returned, to be put back (``taken``) in front of it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream, self._taken = stream, bytearray()

    def read(self, n: int) -> bytes:
        data = self._stream.read(n)
        self._taken += data
        return data

    def taken(self) -> bytes:
        return bytes(self._taken)


class _Prefixed(io.RawIOBase):
    """``prefix`` followed by the rest of ``stream``: a stream whose start was read to look at it."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = memoryview(prefix)
        # read1 returns what has arrived, so a slow producer's lines are not held back for a full buffer
        self._read = getattr(stream, "read1", stream.read)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n], self._prefix = self._prefix[:n], self._prefix[n:]
            return n
        data = self._read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def _one_gzip_stream(fh: BinaryIO) -> bool:
    """A WARC gzipped as one stream (what ``gzip crawl.warc`` makes) rather than as a gzip member per
    record, which is how warcio finds records in a .warc.gz: read the start, then rewind."""
    try:
        return _gzipped(fh) and _first_member_holds_more(fh.read)
    finally:
        fh.seek(0)


def _first_member_holds_more(read, start: bytes = b"") -> bool:
    """Whether the gzip data ``start`` + ``read(n)``... holds more than one WARC record in its first
    member (or the member reaches the end). The read stops as soon as the member holds more than the
    first record, so a whole-file stream is not decompressed once here and again by the reader."""
    member = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head, size, first = b"", 0, None  # first: the first record's length, once its header is in
    try:
        while not member.eof and (chunk := start or read(1 << 16)):
            start = b""
            out = member.decompress(chunk)
            size += len(out)
            if first is None and len(head) < _CHUNK:
                head += out
                first = _warc_record_length(head)
            if first is not None and size > first:
                return True  # a second record in the first member
        return not member.unused_data and not read(1)  # the first member reaches the end (cut or not)
    except zlib.error:
        return False  # the usual reader says what is wrong with it


_CONTENT_LENGTH = re.compile(rb"^content-length:[ \t]*(\d+)", re.I | re.M)


def _warc_record_length(head: bytes) -> int | None:
    """Bytes of the WARC record ``head`` starts with (header, block, the two closing CRLFs), once its
    header is complete; None before that, or for a header without Content-Length (an ARC file)."""
    end = head.find(b"\r\n\r\n")
    found = _CONTENT_LENGTH.search(head, 0, end) if end >= 0 else None
    return end + 4 + int(found.group(1)) + 4 if found else None


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def expand_globs(paths: Iterable[str]) -> list[str]:
    """Each path as given, except a glob that names no file itself (``'crawl/*.warc.gz'``, ``**`` for
    any depth), which becomes its matches, sorted. Quoted, a glob passes a crawl of more files than a
    command line holds; the Spark engine expands the same way. A glob that matches nothing is kept,
    so that it is reported as a missing input."""
    out: list[str] = []
    for arg in paths:
        matches = sorted(glob.glob(arg, recursive=True)) if glob.has_magic(arg) and not os.path.exists(arg) else []
        out.extend(matches or [arg])
    return out


def no_such_input(missing: list[str], most: int = 5) -> str:
    """The message for inputs that are not there: the first ``most`` named, the rest counted (a list
    file of the wrong kind can name thousands)."""
    more = f" and {len(missing) - most:,} more" if len(missing) > most else ""
    return f"no such input: {', '.join(missing[:most])}{more}"


def read_path_list(path: str) -> list[str]:
    """The input paths a list file names, one per line, gzipped or not (Common Crawl's
    ``warc.paths.gz`` is one); blank lines and ``#`` comments are skipped. Relative paths are taken
    from the current directory, as on the command line. Raises ``OSError`` or ``ValueError`` (not
    text) with the file's name when it cannot be read."""
    try:
        with open(path, "rb") as raw, (gzip.GzipFile(fileobj=raw) if _gzipped(raw) else raw) as fh:
            lines = [line.strip() for line in io.TextIOWrapper(fh, encoding="utf-8")]
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not a list of paths: not UTF-8 text") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise OSError(f"cannot read the list of inputs {path}: {_describe(exc)}") from None
    return [line for line in lines if line and not line.startswith("#")]


def input_files(directory: Path, passed_over: Counter[str]) -> list[Path]:
    """The input files under ``directory``: recursive, sorted, known suffixes. The other files are
    counted in ``passed_over``. A broken symbolic link is listed, so that reading it gives an error
    record rather than nothing."""
    found = sorted(p for p in directory.rglob("*") if p.is_file() or (p.is_symlink() and not p.exists()))
    files = [p for p in found if _kind(p)]
    if len(found) > len(files):
        passed_over[OTHER_FILES] += len(found) - len(files)
    return files


def output_file(output: str) -> os.stat_result | None:
    """The regular file ``output`` writes to, when it exists: ``-`` is stdout redirected to a file."""
    try:
        found = os.fstat(sys.stdout.fileno()) if output == "-" else os.stat(output)
    except (OSError, ValueError, AttributeError):  # not there yet; stdout closed or not a real file
        return None
    return found if stat.S_ISREG(found.st_mode) else None


def is_the_file(path: str | Path, file: os.stat_result) -> bool:
    """Whether ``path`` is ``file`` (from ``output_file``), through links and relative paths."""
    try:
        return os.path.samestat(os.stat(path), file)
    except OSError:
        return False


def output_is_input(output: str, inputs: Iterable[str]) -> bool:
    """Whether ``output`` (a path, or ``-``: stdout) writes to a file named among ``inputs``: writing
    would overwrite it, or it would be read back as it grows."""
    out = output_file(output)
    return out is not None and any(p != "-" and is_the_file(p, out) for p in inputs)


def read_inputs(paths: Iterable[str]) -> Iterator[Record]:
    """Records of all inputs in order; ``-`` reads stdin (JSONL or a WARC/WET stream), directories are walked sorted."""
    for raw in InputReader(paths):
        yield raw.load()


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    for kind, suffixes in (("html", HTML_SUFFIXES), ("warc", WARC_SUFFIXES),
                           ("jsonl", JSONL_SUFFIXES), ("text", TEXT_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


_SNIFF_FILE_BYTES = 16384  # room for PHP warnings before <html> (a real corpus page has 4.9 KB of them)


def _sniffed_kind(path: Path) -> str | None:
    """"warc", "jsonl" or "html" for a file whose name says none of them (a crawler's ``page.php`` or
    ``index``, a gzipped ``example.net.gz``) but whose first bytes do; None otherwise. Only files named
    as inputs are sniffed: a directory walk keeps to the known suffixes rather than open every file in it."""
    try:
        with path.open("rb") as fh:
            head = _head(fh.read(_SNIFF_FILE_BYTES), _SNIFF_FILE_BYTES)
    except OSError:
        return None
    if _is_archive(head):
        return "warc"
    text = head.removeprefix(codecs.BOM_UTF8).lstrip()
    if text.startswith(b"{"):  # JSON lines when the first line is a whole object, else not ours to guess
        try:
            return "jsonl" if isinstance(json.loads(text.split(b"\n", 1)[0]), dict) else None
        except ValueError:
            return None
    # markup from the first byte, and an <html>, <head> or <body> in it: a PHP warning may come first
    return "html" if text.startswith(b"<") and _HTML_TAG.search(text) else None


def read_file(path: Path) -> Iterator[Record]:
    """Records of one file, by its suffix; an unsupported suffix or unreadable file is an error record."""
    return read_inputs([str(path)])


def _load_file(raw: RawRecord) -> Record:
    src = raw.source
    try:
        data, size = _read_capped(Path(raw.path), MAX_HTML_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        return Record(src, None, f"cannot read {src}: {_describe(exc)}", src)
    cut = size > len(data)
    notes = [f"{raw.kind} truncated to {len(data):,} of {size:,} bytes"] if cut else []
    if binary := _binary(data):
        return Record(src, None, f"binary content ({binary}), not a page", src)
    if is_blank(data):
        return Record(src, None, "nothing to score: the file holds only whitespace", src)
    text, note = decode_html_noted(data, final=not cut)
    notes += [note] if note else []
    if raw.kind == "text":
        page = Page.from_text(text, id=src)
        page.notes.extend(notes)
        return Record(src, page, None, src)
    return Record(src, _html_page(text, notes, id=src), None, src)


_MAGIC = ((b"\x89PNG", "PNG image"), (b"GIF8", "GIF image"), (b"\xff\xd8\xff", "JPEG image"),
          (b"%PDF", "PDF document"), (b"PK\x03\x04", "ZIP archive"), (b"\x1f\x8b", "gzip data"),
          (b"RIFF", "RIFF media"))


def _binary(data: bytes) -> str | None:
    """What a body is when it is not text (a known magic number, or NUL bytes near the start), else None."""
    head = data[:1024]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "binary data: NUL bytes"
    return None


def _html_page(html: str, notes: list[str], **kw) -> Page:
    # Page cuts over-deep nesting itself and adds its note after the reader's notes.
    return Page(html=html, notes=list(notes), **kw)


def _read_capped(path: Path, cap: int) -> tuple[bytes, int]:
    """The first ``cap`` bytes (decompressed when gzipped, whatever the name) and the full size; the
    rest is counted, not kept."""
    with path.open("rb") as fh:
        if not _gzipped(fh):
            return _read_counting(fh, cap)
        with gzip.GzipFile(fileobj=fh, mode="rb") as gz:
            return _read_counting(gz, cap)


def ungzipped(stream: BinaryIO) -> BinaryIO:
    """``stream`` as it is, or decompressed when its first bytes are gzip's, whatever its name says.
    Works on a pipe too: the bytes read to decide are put back in front. Closing the result leaves
    ``stream`` open."""
    first = stream.read(2)
    rest = io.BufferedReader(_Prefixed(first, stream))
    return gzip.GzipFile(fileobj=rest, mode="rb") if first == GZIP_MAGIC else rest


def _gzipped(fh: BinaryIO) -> bool:
    """Whether a file opened at its start holds gzip data (by its magic bytes, not its name)."""
    magic = fh.read(2)
    fh.seek(0)
    return magic == GZIP_MAGIC


def _read_counting(stream, cap: int) -> tuple[bytes, int]:
    data = stream.read(cap)
    size = len(data)
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
    return data, size


def _describe(exc: BaseException) -> str:
    if isinstance(exc, EOFError):
        return "truncated gzip stream (file cut off)"
    return f"{type(exc).__name__}: {exc}"


# ----- WARC / WET -------------------------------------------------------------------------

def _http_header(record, name: str) -> str:
    """An HTTP header of a WARC record, '' when absent (or the record has no HTTP headers)."""
    return (record.http_headers.get_header(name) or "") if record.http_headers else ""


def _content_type(record) -> str:
    return _mime(_http_header(record, "Content-Type"))


def _read_body(record) -> tuple[bytes, int, str | None, str | None]:
    """A page record's body, decoded from its Content-Encoding and de-chunked, as ``_read_counting``
    returns it, plus why it could not be read and a note when it is incomplete (else None)."""
    encoding = _http_header(record, "Content-Encoding").strip().lower()
    if encoding in ("", "identity"):
        encoding = ""
    elif encoding not in BufferedReader.get_supported_decompressors():
        return b"", 0, f"the body is {encoding}-encoded (Content-Encoding), which the reader cannot decode", None
    complaint = io.StringIO()
    try:
        stream = record.content_stream()
        # warcio reports compressed data that breaks part-way on stderr and then ends the body there
        with contextlib.redirect_stderr(complaint) if encoding else contextlib.nullcontext():
            body, size = _read_counting(stream, MAX_HTML_BYTES)
    except Exception as exc:  # noqa: BLE001 -- warcio raises many types on bad chunking/compression
        return b"", 0, f"cannot decode body of {record.rec_type} record: {_describe(exc)}", None
    if complaint.getvalue():
        return b"", 0, f"cannot decode the {encoding}-encoded body: {complaint.getvalue().strip()[:200]}", None
    if encoding and not body:
        return b"", 0, f"the {encoding}-encoded body decodes to nothing (corrupt or truncated compressed data)", None
    note = None
    if cut := record.rec_headers.get_header("WARC-Truncated"):
        note = f"the crawler cut the payload short (WARC-Truncated: {cut})"
    elif encoding and getattr(getattr(stream, "decompressor", None), "eof", True) is False:
        note = f"the {encoding}-encoded body ends before its compressed data does: only its start was scored"
    return body, size, None, note


class _Brotli:
    """Content-Encoding: br for warcio. Its own adapter sets ``unused_data`` on the decompressor,
    which the ``brotli`` package forbids (its Decompressor has ``process``, and no attributes)."""

    unused_data = None  # warcio reads this to tell a finished gzip member; brotli streams have none

    def __init__(self) -> None:
        self._decompressor = brotli.Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return self._decompressor.process(data)

    @property
    def eof(self) -> bool:
        """The compressed stream ended (zlib's name for it, which ``_read_body`` checks)."""
        return self._decompressor.is_finished()


# warcio logs a WARC-Target-URI with spaces as it percent-encodes them; with no logging configured
# Python prints that on stderr, once per such record, between the progress bar and the summary.
# Applications that configure logging still get it.
logging.getLogger("warcio").addHandler(logging.NullHandler())
BufferedReader.DECOMPRESSORS["br"] = _Brotli
BufferedReader.DECOMPRESSORS.setdefault("x-gzip", BufferedReader.DECOMPRESSORS["gzip"])  # HTTP's old name for gzip


def _unsuccessful(record) -> bool:
    """An HTTP status other than 2xx: a redirect's body is not the page (the crawler fetches its
    target as a record of its own), nor is an error page. An unreadable status keeps the page."""
    code = record.http_headers.get_statuscode() if record.http_headers else None
    return bool(code) and len(code) == 3 and code.isdigit() and code[0] != "2"


def _mime(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _not_a_page(record) -> str | None:
    """How a WARC record that holds no page is counted in ``passed_over``, or None for one that may
    hold a page: an HTML response with a 2xx status (or with no content type: its body decides), an
    HTML resource record (a file archived as it is, e.g. by warcit), a WET conversion record."""
    if record.rec_type == "response":
        if _unsuccessful(record):
            return f"WARC response status {record.http_headers.get_statuscode()}"
        ctype = _content_type(record)
        return None if ctype in ("", *_HTML_TYPES) else f"WARC response {ctype}"
    if record.rec_type == "resource":
        ctype = _mime(record.content_type)
        return None if ctype in _HTML_TYPES else f"WARC resource {ctype or '(no content type)'}"
    return None if record.rec_type == "conversion" else f"WARC {record.rec_type or 'untyped'}"


def _looks_html(record, body_start: bytes) -> bool:
    """For responses without an HTTP content type: Common Crawl's payload detection, else the first bytes."""
    identified = (record.rec_headers.get_header("WARC-Identified-Payload-Type") or "").lower()
    return identified in _HTML_TYPES or bool(_HTML_START.match(body_start))


def read_warc_stream(stream: BinaryIO, src: str) -> Iterator[Record]:
    """Pages of a WARC/WET stream: HTML ``response`` and ``resource`` records, ``conversion`` (text) records."""
    for raw in _warc_raw(stream, src):
        yield raw.load()


class _ArchiveIterator(ArchiveIterator):
    # warcio prints a warning to stderr when a record is not followed by the blank lines that end
    # it (its Content-Length lies); _warc_raw turns that into an error record instead.
    INC_RECORD = ""


def _warc_raw(stream: BinaryIO, src: str, passed_over: Counter[str] | None = None) -> Iterator[RawRecord]:
    """Raw records of the pages in a WARC/WET stream; what is not a page is counted in ``passed_over``."""
    passed_over = Counter() if passed_over is None else passed_over
    it = _ArchiveIterator(stream, arc2warc=True)  # ARC records read as WARC ones (Target-URI, Date)
    offset, end = 0, 0
    pending: RawRecord | None = None  # held back until warcio has checked what follows it

    def checked(raw: RawRecord | None) -> Iterator[RawRecord]:
        lied, it.err_count = it.err_count > 0, 0
        if raw is not None and lied:
            raw = _error(raw.id, src, "corrupt WARC record: its Content-Length does not match where the record "
                         "ends, so its body is unreliable (the records around it are read as usual)", raw.url)
        if raw is not None:
            yield raw

    try:
        for record in it:
            yield from checked(pending)
            pending = None
            rtype = record.rec_type
            not_page = _not_a_page(record)
            body, size, failure, note = b"", 0, None, None
            if not_page is None:
                body, size, failure, note = _read_body(record)
            # get_record_offset() reads the record to its end, so it comes after the body
            offset = it.get_record_offset()
            end = offset + it.get_record_length()
            rid, url = f"{src}:{offset}", record.rec_headers.get_header("WARC-Target-URI")
            if _cut_off(record):  # the stream ended inside this record: it and all after it are lost
                yield _error(rid, src, _truncated_msg(record, offset), url)
                return
            if failure:
                yield _error(rid, src, failure, url)
            elif not_page or (rtype == "response" and not _content_type(record)
                              and not _looks_html(record, body[:512])):
                passed_over[not_page or "WARC response (no content type, not HTML)"] += 1
                continue
            else:
                http = record.http_headers
                pending = RawRecord("warc", rid, src, data=body, url=url,
                                    date=record.rec_headers.get_header("WARC-Date"),
                                    content_type=http.get_header("Content-Type") if http else record.content_type,
                                    text=rtype == "conversion", full_size=size if size > len(body) else None,
                                    note=note)
        yield from checked(pending)
        pending = None
    except Exception as exc:  # noqa: BLE001 -- ArchiveLoadFailed, zlib/EOF errors on cut or corrupt files
        yield from checked(pending)
        yield _error(f"{src}:{end}", src, f"{_UNREADABLE_WARC} at offset {end} (truncated or corrupt file; "
                     f"the rest of the file is lost): {_describe(exc)}")
        return
    # A cut inside a record header or a gzip member header ends the iteration quietly:
    # bytes left over after the last whole record mean records were lost.
    size = _stream_size(stream)
    if size is not None and size > end and not _blank_tail(stream, end, size):
        yield _error(f"{src}:{end}", src, f"truncated WARC: {size - end:,} bytes after offset {end} "
                     "do not form a complete record; the rest of the file is lost")


def _blank_tail(stream: BinaryIO, start: int, size: int) -> bool:
    """Uncompressed WARCs end with blank lines that belong to no record."""
    if size - start > 64:
        return False
    stream.seek(start)
    return not stream.read(64).strip()


def _stream_size(stream: BinaryIO) -> int | None:
    try:
        if not stream.seekable():
            return None
        here = stream.tell()
        size = stream.seek(0, 2)
        stream.seek(here)
        return size
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


def _load_warc(raw: RawRecord) -> Record:
    crawl_date = parse_date(raw.date)
    notes = [] if crawl_date or not raw.date else [f"unparseable WARC-Date {raw.date!r}"]
    notes += [raw.note] if raw.note else []
    cut = raw.full_size is not None
    if cut:
        notes.insert(0, f"{'text' if raw.text else 'html'} truncated to {len(raw.data):,} of {raw.full_size:,} bytes")
    if is_blank(raw.data):
        what = "conversion record's text" if raw.text else "response's body"
        return Record(raw.id, None, f"nothing to score: the {what} is {'empty' if not raw.data else 'only whitespace'}",
                      raw.source, raw.url)
    if raw.text:
        text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(raw.data, final=not cut)
        page = Page.from_text(text, url=raw.url, crawl_date=crawl_date, id=raw.id)
        page.notes.extend(notes)
        return Record(raw.id, page, None, raw.source)
    if binary := _binary(raw.data):
        return Record(raw.id, None, f"binary content ({binary}) served as {raw.content_type or 'a page'}", raw.source,
                      raw.url)
    html, note = decode_html_noted(raw.data, content_type_charset(raw.content_type), final=not cut)
    page = _html_page(html, notes + [note] if note else notes, url=raw.url, crawl_date=crawl_date, id=raw.id)
    return Record(raw.id, page, None, raw.source)


# ----- JSONL ------------------------------------------------------------------------------

def read_jsonl_stream(stream: BinaryIO, src: str) -> Iterator[Record]:
    """One page per line: ``{"id"?, "url"?, "html" | "text", "crawl_date"?}``; blank lines are not records."""
    for raw in _jsonl_raw(stream, src):
        yield raw.load()


def _jsonl_raw(stream: BinaryIO, src: str) -> Iterator[RawRecord]:
    lineno = 0
    try:
        for lineno, line, error in jsonl_lines(stream):
            if error:
                yield _error(f"{src}:{lineno}", src, error)
            else:
                yield RawRecord("jsonl", f"{src}:{lineno}", src, data=line)
    except (OSError, EOFError, zlib.error) as exc:
        yield _error(f"{src}:{lineno + 1}", src, f"cannot read past line {lineno}: {_describe(exc)}")


def jsonl_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes | None, str | None]]:
    """The non-blank lines of a JSONL stream as ``(line number, bytes, None)``. A line longer than
    ``MAX_LINE_BYTES`` comes as ``(line number, None, error)``: it is read past in chunks, never
    held whole, so one runaway line cannot take the memory of a streaming run. Read errors propagate."""
    lineno = 0
    while line := stream.readline(MAX_LINE_BYTES):
        lineno += 1
        if len(line) == MAX_LINE_BYTES and not line.endswith(b"\n"):
            size = len(line)
            while (more := stream.readline(_CHUNK)) and not more.endswith(b"\n"):
                size += len(more)
            size += len(more)
            yield lineno, None, f"line {lineno} is longer than {MAX_LINE_BYTES:,} bytes ({size:,}); not read"
        elif line.strip():
            yield lineno, line, None


def parse_json_line(line: bytes) -> tuple[dict | None, str | None, list[str]]:
    """One JSONL line as ``(object, None, notes)``, or ``(None, error, [])`` when it is not a JSON
    object the parser can read. Bad bytes (not UTF-8) and lone surrogate escapes (no output can
    hold them) become U+FFFD, each with a note."""
    notes = []
    try:
        try:
            row = json.loads(line)
        except UnicodeDecodeError:  # JSON is UTF-8; a writer that copied raw bytes into a string
            text = line.decode("utf-8", "replace")
            notes.append("the line is not valid UTF-8: undecodable bytes were replaced by U+FFFD")
            row = json.loads(text)
    except ValueError as exc:
        return None, f"bad JSON: {exc}", []
    except RecursionError:  # valid JSON, but nested past what the parser reads (~1,000 levels)
        return None, "bad JSON: nested too deeply to read (arrays or objects about 1,000 levels deep)", []
    if not isinstance(row, dict):
        return None, f"expected a JSON object, got {type(row).__name__}", []
    # JSON may escape a lone UTF-16 surrogate (a JavaScript string cut inside an emoji), and no
    # UTF-8 output can hold one: replaced where read, the record is written like any other.
    # Only an escape in the line can make one, so the common line costs two byte searches.
    if b"\\ud" in line or b"\\uD" in line:
        broken = [key for key, value in row.items() if isinstance(value, str) and _SURROGATE.search(value)]
        for key in broken:
            row[key] = _SURROGATE.sub("\ufffd", row[key])
        if broken:
            notes.append(f"lone UTF-16 surrogates (\\ud800-\\udfff escapes, no character alone) in "
                         f"{', '.join(map(repr, broken))} were replaced by U+FFFD")
    return row, None, notes


def _jsonl_record(line: bytes, default_id: str, src: str) -> Record:
    row, error, notes = parse_json_line(line)
    if row is None:
        return Record(default_id, None, error, src)
    return record_from_row(row, default_id, src, notes=notes)


def record_from_row(row: dict, default_id: str | None, src: str, *, notes: list[str] | None = None,
                    what: str = "line") -> Record:
    """A ``Record`` from one ``{"id"?, "url"?, "html" | "text", "crawl_date"?}`` row (a JSONL line, or a
    dict given to the API); never raises: a row that cannot be scored is a Record with ``error``.

    ``html`` may also be bytes and ``crawl_date`` a ``datetime`` or ``date`` (rows from Python);
    ``what`` names the row in messages ("line", "record"); ``notes`` are carried onto the page.
    """
    rid, html, text, url = (_given(row.get(k)) for k in ("id", "html", "text", "url"))
    known_url = url if isinstance(url, str) else None  # error records keep the URL when it is one
    if rid in (None, ""):
        rid = default_id
    elif isinstance(rid, (str, int, float)) and not isinstance(rid, bool):
        rid = str(rid)
    else:  # str() of a list or an object is no id a user can look up
        return Record(default_id, None, f"'id' must be a string or a number, got {type(rid).__name__}", src,
                      known_url)
    if not isinstance(html, (str, bytes)) and not isinstance(text, str):
        return Record(rid, None, f"{what} has neither an 'html' nor a 'text' string", src, known_url)
    if url is not None and not isinstance(url, str):
        return Record(rid, None, f"'url' must be a string, got {type(url).__name__}", src)
    html = html if isinstance(html, (str, bytes)) and not is_blank(html) else None
    text = text if isinstance(text, str) and not is_blank(text) else None
    if html is None and text is None:
        return Record(rid, None, f"nothing to score: the {what}'s 'html' or 'text' is empty or only whitespace",
                      src, url)
    crawl_date, date_note = _row_date(_given(row.get("crawl_date")))
    try:
        if html is not None:
            page = _html_page(html, [], url=url, crawl_date=crawl_date, id=rid)
        else:
            page = Page.from_text(text, url=url, crawl_date=crawl_date, id=rid)
    except Exception as exc:  # noqa: BLE001 - one unparseable page must not break the batch
        return Record(rid, None, f"cannot parse page: {type(exc).__name__}: {exc}"[:300], src, url)
    page.notes.extend([*(notes or []), *([date_note] if date_note else [])])
    return Record(rid, page, None, src)


def _given(value):
    """``value``, or None when it is missing (``is_missing``).

    Rows from ``DataFrame.to_dict("records")`` hold NaN for a missing cell (pandas 3 does so in
    string columns too): a missing url or date is no reason to refuse a page, nor NaN an id.
    """
    return None if is_missing(value) else value


def _row_date(value) -> tuple[datetime | None, str | None]:
    """A row's ``crawl_date`` and, when one was given but cannot be read, the note that says so."""
    if isinstance(value, datetime):
        return value, None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day), None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None and value not in (None, ""):
        return None, f"unparseable crawl_date {value!r}"
    return parsed, None
