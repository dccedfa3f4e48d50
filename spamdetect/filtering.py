"""`spamdetect filter`: a pipe stage that keeps trustworthy JSONL records and diverts farms.

    zcat crawl.jsonl.gz | spamdetect filter --rejected farms.jsonl | next-stage

Input: JSONL records (``{"html" | "text", "url"?, "id"?, "crawl_date"?, ...any other fields}``)
from stdin or files (``-`` = stdin; gzip is told by its first bytes, as ``score`` tells it). A line
longer than 64 MiB is rejected unread, so memory stays flat. Output: each record exactly once,
in input order, on one of two streams:

- kept (``P(farm) < threshold``): stdout, the input line byte for byte with ``trust``, ``label``
  and ``reasons`` appended (a record that already has one of those keys is re-encoded instead);
- rejected: ``--rejected FILE``. Farms carry ``trust``, ``label``, ``reasons``; records that
  cannot be scored (not JSON, not an object, neither ``html`` nor ``text``, a missing input
  file) carry ``error`` too. A line that is not JSON is wrapped as
  ``{"source", "line", "raw", "error"}`` so nothing is lost. Unscorable records are rejected,
  never kept: a stage that filters spam must not pass through what it could not check.
  A line that is not valid UTF-8 is scored as ``score`` scores it (bad bytes read as U+FFFD, a
  note in ``reasons``) and written out with its own bytes.
  Without ``--rejected`` the rejected records are dropped (counted on stderr), like ``grep``.
  A ``--rejected`` name ending in ``.gz`` is written gzipped, a whole gzip member per batch, so it
  reads to its last batch even after kill -9.

Streaming: records are scored in batches of up to ``--batch-size`` (default 16); a batch also
closes when no new line arrives for ``--max-wait`` seconds (default 0.2), so a slow producer
sees its records come out promptly while a fast one gets batch throughput. Both outputs are
flushed after every batch. Bigger batches are a little faster per page (fewer model calls)
but hold records back longer and lose more work on a hard kill. Batches are scored in
``--workers`` processes (default: all cores; 0 = in this process), up to two per worker in
flight, written in input order; a line whose page kills its worker is rejected with an error
and costs nothing else (as in ``score``).

Signals: when the downstream reader goes away (``| head``), the stage stops quietly, flushes the
rejected file and exits 141 (128 + SIGPIPE, what a shell reports for a producer killed by
SIGPIPE; ``set -o pipefail`` scripts treat it like ``yes | head``). On SIGTERM (or SIGINT) it
finishes the batches in progress, writes and flushes them, and exits 143 (130 for SIGINT). In every
case what was written is a prefix of the input: each input record up to the last one decided
is in exactly one output, and none after it. The summary line on stderr gives the accounting:
``in = kept + rejected`` (rejected = farms + errors).

A write that fails (a full disk) stops the stage with exit 1 and says so in the summary line; the
outputs hold what reached the disk.

It refuses to start (exit 2, nothing read) when an output is also an input: ``--rejected`` naming
an input file would empty it, and stdout appended to an input (``>> in.jsonl``) would be read back.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import queue
import signal
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from spamdetect.batch import default_workers, pooled, score_records
from spamdetect.readers import jsonl_lines, output_is_input, parse_json_line, record_from_row, ungzipped
from spamdetect.scorer import Scorer
from spamdetect.writers import OTHER_COMPRESSORS, GzipMembers, gzipped_output

ADDED = ("trust", "label", "reasons")
EXIT_SIGTERM, EXIT_SIGINT = 128 + 15, 128 + 2
_EOF = object()


@dataclass
class Line:
    """One input line: where it came from and its bytes (or an input-level error)."""

    source: str
    lineno: int
    raw: bytes | None
    error: str | None = None


@dataclass
class Counts:
    read: int = 0
    kept: int = 0
    farms: int = 0
    errors: int = 0
    stopped: str | None = None

    @property
    def rejected(self) -> int:
        return self.farms + self.errors

    def line(self, rejected_to: str | None) -> str:
        where = f"written to {rejected_to}" if rejected_to else "dropped (no --rejected FILE)"
        msg = (f"filter: in {self.read}, kept {self.kept}, rejected {self.rejected} "
               f"({self.farms} farms, {self.errors} errors; {where})")
        return msg + (f"; stopped early: {self.stopped}" if self.stopped else "")


# ----- input --------------------------------------------------------------------------------

def iter_lines(inputs: list[str]) -> Iterator[Line]:
    """Non-blank lines of the inputs in order, gzip read as such whatever the name (as ``score``
    does). A line too long to hold (``MAX_LINE_BYTES``) yields an error Line, as does an input that
    cannot be read (then no more lines of it)."""
    for src in inputs or ["-"]:
        lineno = 0
        try:
            if src == "-":
                # a private reader on fd 0, not sys.stdin: the reader thread may still be blocked
                # in it at exit, and the interpreter must not wait for (or flush) it then
                fh: BinaryIO = io.BufferedReader(io.FileIO(sys.stdin.fileno(), "rb", closefd=False))
            else:
                fh = open(src, "rb")  # noqa: SIM115 - closed below, stdin is not ours to close
            try:
                for lineno, raw, error in jsonl_lines(ungzipped(fh)):
                    yield Line(src, lineno, raw, error)
            finally:
                if src != "-":
                    fh.close()
        except (OSError, EOFError, zlib.error) as exc:
            where = f" after line {lineno}" if lineno else ""
            yield Line(src, lineno + 1, None, f"cannot read {src}{where}: {type(exc).__name__}: {exc}")


def _reader(inputs: list[str], out: queue.Queue) -> None:
    try:
        for line in iter_lines(inputs):
            out.put(line)
    finally:
        out.put(_EOF)


def batches(inputs: list[str], size: int, max_wait: float, stop: threading.Event) -> Iterator[list[Line]]:
    """Batches of up to ``size`` lines; a batch closes early when the input is idle for ``max_wait``
    seconds, and an empty batch says the input is idle (results in flight can be written meanwhile).
    Reading runs in a thread so a slow producer never holds back records already read."""
    q: queue.Queue = queue.Queue(maxsize=4 * size)  # bounded: memory stays flat on a fast producer
    threading.Thread(target=_reader, args=(inputs, q), daemon=True, name="filter-reader").start()
    batch: list[Line] = []
    while not stop.is_set():
        try:
            item = q.get(timeout=max_wait if batch else 0.1)
        except queue.Empty:
            yield batch
            batch = []
            continue
        if item is _EOF:
            break
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch and not stop.is_set():
        yield batch


# ----- deciding and encoding ----------------------------------------------------------------

def _parse(line: Line) -> tuple[dict | None, str | None, list[str]]:
    """The line's JSON object, or the error that says why there is none; and notes (as ``score``)."""
    if line.error:
        return None, line.error, []
    return parse_json_line(line.raw)


def _encode(line: Line, row: dict | None, extra: dict) -> bytes:
    """The input record plus ``extra``: the original bytes with the fields spliced in before the
    closing brace (so numbers, key order and escapes stay as they were), else a re-encoding."""
    if row is None:  # not a JSON object: keep the raw line so nothing is lost
        raw = line.raw.decode("utf-8", "replace").rstrip("\r\n") if line.raw is not None else None
        return _dumps({"source": line.source, "line": line.lineno, "raw": raw, **extra})
    if any(k in row for k in extra):
        return _dumps({**row, **extra})
    body = line.raw.rstrip()
    tail = _dumps(extra)[1:]  # '"trust": ..., ...}\n'
    head = body[:-1].rstrip()
    return head + (b"" if head.endswith(b"{") else b", ") + tail


def _dumps(obj: dict) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


def decide(scorer: Scorer, lines: list[Line]) -> list[tuple[str, bytes]]:
    """(``"kept"`` | ``"farm"`` | ``"error"``, output line) for each input line, in order: in this
    process, or in a worker (``decided`` sends it the lines)."""
    parsed = [_parse(line) for line in lines]
    records = [record_from_row(row, str(i), line.source, notes=notes, what="record")
               for i, (line, (row, _, notes)) in enumerate(zip(lines, parsed)) if row is not None]
    scored = iter(score_records(scorer, records))
    out = []
    for line, (row, err, _) in zip(lines, parsed):
        res = next(scored) if row is not None else None
        if res is None or res["error"] is not None:
            out.append(_rejected(line, row, err or res["error"]))
        else:
            kind = "farm" if res["label"] == "farm" else "kept"
            out.append((kind, _encode(line, row, {k: res[k] for k in ADDED})))
    return out


def _rejected(line: Line, row: dict | None, why: str) -> tuple[str, bytes]:
    return "error", _encode(line, row, {"trust": None, "label": None, "reasons": [], "error": why})


def _lost(line: Line, why: str) -> tuple[str, bytes]:
    """The decision for a line whose page kills the worker that scores it."""
    row, err, _ = _parse(line)
    return _rejected(line, row, err or why)


def decided(scorer: Scorer, batches: Iterator[list[Line]], workers: int) -> Iterator[list[tuple[str, bytes]]]:
    """Each non-empty batch's decisions, in input order: made in this process (``workers`` 0) or in
    ``workers`` processes (``batch.pooled``). The workers get the lines as read and send back the
    output lines, so this process neither parses nor encodes JSON; an empty batch (the input is idle)
    lets out the batches already decided, so a slow producer is not held back."""
    if workers <= 0:
        for lines in batches:
            if lines:
                yield decide(scorer, lines)
        return
    yield from pooled(scorer, batches, workers, decide, _lost)


# ----- the stage ----------------------------------------------------------------------------

def run(scorer: Scorer, inputs: list[str], kept_out: BinaryIO, rejected_out: BinaryIO | GzipMembers | None, *,
        batch_size: int = 16, max_wait: float = 0.2, stop: threading.Event | None = None,
        workers: int = 0) -> Counts:
    """Filter ``inputs`` into the two streams until the input ends or ``stop`` is set (the batches in
    flight are then finished and written); ``workers`` as for ``decided``.

    Raises ``BrokenPipeError`` when ``kept_out`` is closed by its reader, ``OSError`` when a write
    fails (a full disk); ``Counts`` is then attached as the exception's ``counts`` attribute.
    """
    stop = stop or threading.Event()
    counts = Counts()
    stream = decided(scorer, batches(inputs, batch_size, max_wait, stop), workers)
    try:
        for out in stream:
            kinds = [kind for kind, _ in out]
            try:
                for kind, data in out:
                    if kind == "kept":
                        kept_out.write(data)
                    elif rejected_out is not None:
                        rejected_out.write(data)
                kept_out.flush()
                if rejected_out is not None:
                    rejected_out.flush()
            except OSError as exc:  # the reader of stdout went away (BrokenPipeError), a full disk
                exc.counts = counts  # the batches written whole; this one may be in part
                raise
            counts.read += len(kinds)
            counts.kept += kinds.count("kept")
            counts.farms += kinds.count("farm")
            counts.errors += kinds.count("error")
    finally:
        stream.close()  # stops the workers at once when the stage ends early
    return counts


def cli_main(args: argparse.Namespace) -> int:
    """Entry point of ``spamdetect filter`` (arguments from ``spamdetect.cli``)."""
    from spamdetect.loading import load_scorer
    from spamdetect.cli import EXIT_SIGPIPE, quiet_stdout

    if not args.max_wait > 0:  # nan too
        print(f"spamdetect filter: --max-wait must be more than 0 seconds, got {args.max_wait}", file=sys.stderr)
        return 2
    clash = _output_is_input(args.inputs, args.rejected)
    if clash:
        print(f"spamdetect filter: {clash}: it would be overwritten or read back while it is written", file=sys.stderr)
        return 2
    if args.rejected and args.rejected.lower().endswith(OTHER_COMPRESSORS):  # a name: no need to load the model first
        print(f"spamdetect filter: cannot write {args.rejected}: rejected records are written plain or gzipped "
              "(.gz), not with the compressor that name asks for", file=sys.stderr)
        return 2
    # the numpy scorer, as score's: it loads without scikit-learn (~0.4 s, where the fitted pipeline took ~3 s)
    scorer = load_scorer(args.model)  # ModelUnavailable: one line and exit 2 (cli.main)
    if args.threshold is not None:
        scorer = dataclasses.replace(scorer, threshold=args.threshold)
    try:  # opened after the load, so a model that fails to load leaves an existing file as it was
        rejected_out = _open_rejected(args.rejected) if args.rejected else None
    except OSError as exc:
        print(f"spamdetect filter: cannot write {args.rejected}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame):  # finish the batch in hand, then stop reading
        received.append(signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status, failed = 0, None
    try:
        try:
            counts = run(scorer, args.inputs, sys.stdout.buffer, rejected_out, batch_size=args.batch_size,
                         max_wait=args.max_wait, stop=stop,
                         workers=default_workers() if args.workers is None else args.workers)
        except BrokenPipeError as exc:
            counts = exc.counts
            counts.stopped = "the reader of stdout went away (SIGPIPE)"
            status = EXIT_SIGPIPE
            quiet_stdout()
        except OSError as exc:
            counts, failed = exc.counts, exc
        if received:
            sig = received[0]
            counts.stopped = f"{signal.Signals(sig).name}; the records after the last one counted were not read"
            status = EXIT_SIGINT if sig == signal.SIGINT else EXIT_SIGTERM
    finally:
        if rejected_out is not None:
            try:
                rejected_out.close()
            except OSError as exc:  # the end of the rejected file (a gzip trailer) did not reach the disk
                failed = failed or exc
    if failed is not None:  # the first failed write is the one to report; what was written stays
        try:
            sys.stdout.flush()
        except OSError:
            quiet_stdout()
        counts.stopped = (f"a write failed: {failed.strerror or failed}; the counts are of the batches "
                          "written whole, the batch after them may be written in part")
        status = status or 1
    print(counts.line(args.rejected), file=sys.stderr)
    return status


def _open_rejected(path: str) -> BinaryIO | GzipMembers:
    """The ``--rejected`` file, gzipped when its name says so: plain text under a compressed name
    would fool every reader that trusts the suffix. Gzipped, each batch's flush writes a whole gzip
    member, so even after kill -9 the file reads to its last batch."""
    if gzipped_output(path):
        return GzipMembers(path)
    return open(path, "wb")  # noqa: SIM115 - closed by cli_main


def _output_is_input(inputs: list[str], rejected: str | None) -> str | None:
    """Which output is also an input file, if one is: ``--rejected`` by path, stdout by the file
    it was redirected to (``filter a.jsonl >> a.jsonl`` would read its own output for ever)."""
    if rejected and output_is_input(rejected, inputs):
        return f"--rejected {rejected} is also an input"
    return "standard output is also an input" if output_is_input("-", inputs) else None
