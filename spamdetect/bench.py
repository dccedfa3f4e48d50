"""Throughput and memory benchmark on real pages: ``make bench`` (``python -m spamdetect.bench``).

One run measures, side by side, on the same gzipped WARC built from the real corpus pages
(``build/bench/crawl-<N>.warc.gz``, cached):

- ``spamdetect``: ``spamdetect score <warc> --workers W -q`` through the real CLI, end to end
  (read, decode, parse, every signal, the model, write JSONL);
- ``filter``: ``spamdetect filter <jsonl> --workers W --rejected <file> > <file>``, the pipe stage
  on the same pages as JSONL (``crawl-<N>.jsonl``, their decoded HTML, built once from the WARC);
- ``trafilatura``: ``trafilatura.extract(html, url=url)`` with its defaults on every page,
  what a user would otherwise run to clean pages;
- ``parse``: the floor no scorer can beat: read and decode the WARC the same way, build the
  lexbor tree (``selectolax.lexbor.LexborHTMLParser``, as ``Page.tree`` does) and take the
  text of ``<body>`` (``tree.body.text()``).

Each runs with 1 worker and with all cores, each in its own subprocess, so wall time
includes start-up and peak RSS (the whole process tree, sampled every 0.1 s) is per run.
Every run is repeated (``--rounds``, default 3), interleaved, and the table reports each run's
median round with the range: on a shared machine one round can be a third slower than the next.
Peers read the WARC with spamdetect's reader and fan batches out to worker processes the
way ``spamdetect.batch`` does, so equal worker counts compare equal work layouts. The CPU time
of the main process and of the workers, per page, shows where each tool's time goes, and what
the main process, which all workers wait on, costs per page.
The table goes to stdout and to MLflow (experiment ``spamdetect-bench``).

``--memory-gb G`` scores a plain WARC of G GB (streamed to disk from repeated pages) and
reports peak RSS: memory must stay flat whatever the input size. ``--profile`` runs
pyinstrument over single-process scoring and prints the functions that dominate.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from io import BytesIO
from itertools import islice
from pathlib import Path

from spamdetect.config import build_dir

DEFAULT_PAGES = 2000
CRAWL_DATE = "2024-06-01T12:00:00Z"  # one fixed crawl date keeps the files byte-stable across rebuilds
BATCH = 32  # pages per task, as spamdetect.batch
TARGET_PAGES_PER_S = 200.0
TARGET_VS_TRAFILATURA = 8.0
TARGET_VS_PARSE = 1 / 3
TOOLS = ("spamdetect", "filter", "trafilatura", "parse")


def bench_dir() -> Path:
    """Where benchmark crawls and outputs go (under build/, never in the repository)."""
    return build_dir() / "bench"


def all_workers() -> int:
    """Cores this process may run on (the 'all workers' figure)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# ----- benchmark crawls --------------------------------------------------------------------

@dataclass
class CrawlInfo:
    """What a built crawl holds: response records, raw HTML bytes, file bytes."""

    path: str
    pages: int
    html_bytes: int
    file_bytes: int
    parts: list[str] = field(default_factory=list)

    @property
    def html_mb(self) -> float:
        return self.html_bytes / 1e6


def iter_corpus_pages(sources: Iterable | None = None) -> Iterator[tuple[str, bytes, str | None]]:
    """(url, raw html, charset) for the real pages, cycling forever; repeats get distinct URLs.

    ``sources`` are ``LegitRecord``-like objects (``url``, ``key``, ``read_bytes()``), by default
    the corpus manifest. The charset is the one the page declares (BOM or ``<meta>``), what a
    server would send in its Content-Type; None when the page declares none.
    """
    from spamdetect.corpus.legit import iter_manifest
    from spamdetect.charsets import sniff_charset

    copy = 0
    while True:
        n = 0
        for rec in (sources if sources is not None else iter_manifest()):
            raw = rec.read_bytes()
            url = rec.url or f"https://{rec.key.split('/')[0]}.corpus.invalid/{rec.key}"
            if copy:
                url = f"{url}{'&' if '?' in url else '?'}bench-copy={copy}"
            n += 1
            yield url, raw, sniff_charset(raw)
        if n == 0:
            raise ValueError("no corpus pages found (set SPAMDETECT_CORPUS)")
        copy += 1


def write_response(writer, url: str, raw: bytes, charset: str | None) -> None:
    """One WARC response record with HTTP headers around ``raw``, as a crawler stores it."""
    from warcio.statusandheaders import StatusAndHeaders

    ctype = f"text/html; charset={charset}" if charset else "text/html"
    http = StatusAndHeaders("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(raw)))],
                            protocol="HTTP/1.1")
    record = writer.create_warc_record(url, "response", payload=BytesIO(raw), http_headers=http,
                                       warc_headers_dict={"WARC-Date": CRAWL_DATE})
    writer.write_record(record)


def write_warc(path: Path, pages: Iterable[tuple[str, bytes, str | None]], *, gzip: bool = True,
               max_pages: int | None = None, max_bytes: int | None = None, parts: int = 0) -> CrawlInfo:
    """Stream pages into a WARC at ``path`` until ``max_pages`` records or ``max_bytes`` of file.

    With ``gzip`` every record is its own gzip member (as Common Crawl writes them). With
    ``parts`` (needs ``max_pages``) the same records are also split over that many smaller
    files in ``<path stem>-parts/``. Written to a temporary name first, so an interrupted
    build never leaves a file that looks complete.
    """
    from warcio.warcwriter import WARCWriter

    if max_pages is None and max_bytes is None:
        raise ValueError("give max_pages or max_bytes")
    if parts and max_pages is None:
        raise ValueError("parts need max_pages")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    part_dir = path.with_name(path.name.split(".warc")[0] + "-parts")
    part_paths = [part_dir / f"part-{i:05d}{''.join(path.suffixes)}" for i in range(parts)]
    if parts:
        part_dir.mkdir(parents=True, exist_ok=True)
    n = size = 0
    with tmp.open("wb") as fh:
        part_fhs = [p.with_name(p.name + ".tmp").open("wb") for p in part_paths]
        try:
            writer = WARCWriter(fh, gzip=gzip)
            part_writers = [WARCWriter(f, gzip=gzip) for f in part_fhs]
            for url, raw, charset in pages:
                if (max_pages is not None and n >= max_pages) or (max_bytes is not None and fh.tell() >= max_bytes):
                    break
                write_response(writer, url, raw, charset)
                if part_writers:
                    write_response(part_writers[n * parts // max_pages], url, raw, charset)
                n += 1
                size += len(raw)
        finally:
            for f in part_fhs:
                f.close()
    for p in part_paths:
        p.with_name(p.name + ".tmp").replace(p)
    tmp.replace(path)
    return CrawlInfo(str(path), n, size, path.stat().st_size, [str(p) for p in part_paths])


def bench_crawl(pages: int = DEFAULT_PAGES, parts: int = 4, sources: Iterable | None = None,
                directory: Path | None = None) -> CrawlInfo:
    """The benchmark crawl of ``pages`` response records (gzipped WARC), built once and cached."""
    directory = directory or bench_dir()
    path = directory / f"crawl-{pages}.warc.gz"
    meta = path.with_name(path.name + ".json")
    if path.exists() and meta.exists():
        return CrawlInfo(**{**json.loads(meta.read_text()), "path": str(path)})
    print(f"building the benchmark crawl {path} ({pages} pages)...", file=sys.stderr)
    info = write_warc(path, iter_corpus_pages(sources), max_pages=pages, parts=parts)
    meta.write_text(json.dumps(asdict(info), indent=1))
    return info


# ----- process-tree memory ------------------------------------------------------------------

def tree_rss(pid: int, per_process: dict[int, int] | None = None, cpu: dict[int, float] | None = None) -> int:
    """Resident bytes of a process and all its descendants, summed (0 once it is gone).

    Summed RSS counts pages shared between forked processes once per process: an upper
    bound on the memory the run needs, which is the safe side for a capacity figure.
    ``per_process`` (pid -> bytes) and ``cpu`` (pid -> CPU seconds so far), when given, are
    filled in too.
    """
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            rss = p.memory_info().rss
            if cpu is not None:
                times = p.cpu_times()
                cpu[p.pid] = times.user + times.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # a worker that exited between listing and reading
        total += rss
        if per_process is not None:
            per_process[p.pid] = rss
    return total


class TreeSampler:
    """Samples ``tree_rss(pid)`` every ``interval`` seconds in a thread; keeps the peak, the series,
    each process's own peak (``process_peaks``: pid -> bytes) and the CPU seconds each process had
    used when last seen (``cpu_seconds``: pid -> seconds; up to ``interval`` short at its exit)."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak = 0
        self.series: list[tuple[float, int]] = []
        self.process_peaks: dict[int, int] = {}
        self.cpu_seconds: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._t0 = time.perf_counter()

    def _run(self) -> None:
        while True:
            now: dict[int, int] = {}
            rss = tree_rss(self.pid, now, self.cpu_seconds)
            self.peak = max(self.peak, rss)
            self.series.append((time.perf_counter() - self._t0, rss))
            for pid, b in now.items():
                self.process_peaks[pid] = max(b, self.process_peaks.get(pid, 0))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def cpu_split(self) -> tuple[float, float]:
        """(CPU seconds of the sampled process itself, of all its descendants together)."""
        main = self.cpu_seconds.get(self.pid, 0.0)
        return main, sum(self.cpu_seconds.values()) - main


@dataclass
class Measurement:
    """One measured subprocess: what ran, how long, its peak memory and what it reported."""

    tool: str
    workers: int
    pages: int
    seconds: float
    peak_rss: int
    errors: int = 0
    ok: bool = True
    detail: str = ""
    series: list[tuple[float, int]] = field(default_factory=list, repr=False)
    main_cpu: float = 0.0  # CPU seconds of the main process (reads the input, writes the output)
    worker_cpu: float = 0.0  # CPU seconds of its descendants (workers, fork server)

    @classmethod
    def sampled(cls, tool: str, workers: int, pages: int, seconds: float, sampler: TreeSampler, errors: int,
                ok: bool, detail: str) -> Measurement:
        """A run measured by ``measure``: its memory and CPU figures come from the sampler."""
        return cls(tool, workers, pages, seconds, sampler.peak, errors, ok, detail, sampler.series, *sampler.cpu_split)

    @property
    def name(self) -> str:
        return f"{self.tool}_w{self.workers}"

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    @property
    def main_ms_per_page(self) -> float:
        return 1000 * self.main_cpu / self.pages if self.pages else 0.0

    @property
    def worker_ms_per_page(self) -> float:
        return 1000 * self.worker_cpu / self.pages if self.pages else 0.0


def measure(cmd: list[str], interval: float = 0.1,
            stdout: Path | None = None) -> tuple[subprocess.CompletedProcess, float, TreeSampler]:
    """Run ``cmd`` to completion while sampling its process tree; returns (result, seconds, sampler).
    Its stdout goes to the file ``stdout`` when given (the result's ``stdout`` is then None)."""
    t0 = time.perf_counter()
    with open(stdout, "wb") if stdout else contextlib.nullcontext(subprocess.PIPE) as out_to:
        proc = subprocess.Popen(cmd, stdout=out_to, stderr=subprocess.PIPE, text=True)
    with TreeSampler(proc.pid, interval) as sampler:
        out, err = proc.communicate()
    seconds = time.perf_counter() - t0
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err), seconds, sampler


# ----- the runs -----------------------------------------------------------------------------

def _cli() -> list[str]:
    """The real CLI: the installed console script beside this interpreter, else ``-m spamdetect.cli``."""
    script = Path(sys.executable).with_name("spamdetect")
    return [str(script)] if script.exists() else [sys.executable, "-m", "spamdetect.cli"]


def spamdetect_cmd(warc: str, out: str, workers: int) -> list[str]:
    return [*_cli(), "score", warc, "-o", out, "--workers", str(workers), "-q"]


def run_spamdetect(warc: str, workers: int, out_dir: Path) -> Measurement:
    out = out_dir / f"out-w{workers}.jsonl"
    out.unlink(missing_ok=True)  # the CLI will not overwrite earlier results unasked
    res, seconds, sampler = measure(spamdetect_cmd(warc, str(out), workers))
    pages, errors = _records_and_errors(out) if res.returncode == 0 and out.exists() else (0, 0)
    detail = (res.stderr.strip().splitlines() or [""])[-1]
    return Measurement.sampled("spamdetect", workers, pages, seconds, sampler, errors, res.returncode == 0, detail)


def _records_and_errors(path: Path) -> tuple[int, int]:
    """Records in a JSONL output of score or filter, and how many of them carry an ``error``."""
    records = errors = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            records += 1
            errors += json.loads(line).get("error") is not None
    return records, errors


def bench_jsonl(crawl: CrawlInfo) -> str:
    """The crawl's pages as JSONL for ``filter`` (``{"id", "url", "html"}``, the HTML decoded as
    ``score`` decodes it), built once beside the WARC."""
    path = Path(crawl.path).with_suffix("").with_suffix(".jsonl")  # crawl-N.warc.gz -> crawl-N.jsonl
    if path.exists():
        return str(path)
    from spamdetect.readers import InputReader

    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for raw in InputReader([crawl.path]):
            rec = raw.load()
            if rec.page is not None:
                out.write(json.dumps({"id": rec.id, "url": rec.url, "html": rec.page.html}, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return str(path)


def run_filter(jsonl: str, workers: int, out_dir: Path) -> Measurement:
    kept, rejected = out_dir / f"filter-kept-w{workers}.jsonl", out_dir / f"filter-rejected-w{workers}.jsonl"
    res, seconds, sampler = measure([*_cli(), "filter", jsonl, "--workers", str(workers), "--rejected", str(rejected)],
                                    stdout=kept)
    pages = errors = 0
    if res.returncode == 0:
        for path in (kept, rejected):
            n, bad = _records_and_errors(path)
            pages, errors = pages + n, errors + bad
    detail = (res.stderr.strip().splitlines() or [""])[-1]
    return Measurement.sampled("filter", workers, pages, seconds, sampler, errors, res.returncode == 0, detail)


def run_peer_subprocess(tool: str, warc: str, workers: int) -> Measurement:
    res, seconds, sampler = measure([sys.executable, "-m", "spamdetect.bench", "--peer", tool,
                                     "--input", warc, "--workers", str(workers)])
    try:
        report = json.loads(res.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return Measurement.sampled(tool, workers, 0, seconds, sampler, 0, False,
                                   (res.stderr.strip().splitlines() or ["no output"])[-1])
    return Measurement.sampled(tool, workers, report["pages"], seconds, sampler, report["errors"],
                               res.returncode == 0, f"{report['chars']:,} chars of text")


# Peers: run inside the subprocess started above (python -m spamdetect.bench --peer TOOL).
def _pages(raws: list) -> Iterator[tuple[str | None, str | bytes]]:
    """(url, html) of a batch of raw WARC records, decoded as spamdetect decodes them, in the worker."""
    for raw in raws:
        rec = raw.load()
        if rec.page is not None and rec.page.html is not None:
            yield rec.page.url, rec.page.html


def _trafilatura_batch(raws: list) -> tuple[int, int, int]:
    import trafilatura

    from spamdetect.charsets import decode_html

    n = chars = errors = 0
    for url, html in _pages(raws):
        n += 1
        try:  # bytes here carried no usable HTTP charset: decode them as spamdetect would
            text = trafilatura.extract(decode_html(html) if isinstance(html, bytes) else html, url=url)
            chars += len(text or "")
        except Exception:  # noqa: BLE001 -- a peer's failure on one page is counted, not fatal
            errors += 1
    return n, chars, errors


def _parse_batch(raws: list) -> tuple[int, int, int]:
    from selectolax.lexbor import LexborHTMLParser

    n = chars = errors = 0
    for _url, html in _pages(raws):
        n += 1
        try:  # exactly how Page.tree parses, then the text of <body>
            tree = LexborHTMLParser(html, encoding=isinstance(html, bytes))
            chars += len(tree.body.text()) if tree.body is not None else 0
        except Exception:  # noqa: BLE001
            errors += 1
    return n, chars, errors


_PEERS: dict[str, Callable] = {"trafilatura": _trafilatura_batch, "parse": _parse_batch}
_PEER_MODULES = {"trafilatura": "trafilatura", "parse": "selectolax.lexbor"}  # imported once, in the fork server


def run_peer(tool: str, warc: str, workers: int) -> dict:
    """Run a peer over every page of ``warc`` laid out as ``spamdetect score`` is: the main process
    reads raw records (spamdetect's ``InputReader``), ``workers`` processes decode and work, with
    at most 2 batches in flight per worker."""
    from spamdetect.pools import pool_context
    from spamdetect.readers import InputReader

    fn, totals = _PEERS[tool], [0, 0, 0]
    # workers start as spamdetect's do: forked from a server that imported the peer's code once
    context = pool_context(preload=("spamdetect.bench", "spamdetect.readers", _PEER_MODULES[tool]))
    raws = iter(InputReader([warc]))
    with ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=context) as pool:
        window: deque[Future] = deque()
        while batch := list(islice(raws, BATCH)):
            window.append(pool.submit(fn, batch))
            while len(window) >= 2 * workers or (window and window[0].done()):
                for i, v in enumerate(window.popleft().result()):
                    totals[i] += v
        for fut in window:
            for i, v in enumerate(fut.result()):
                totals[i] += v
    return {"tool": tool, "workers": workers, "pages": totals[0], "chars": totals[1], "errors": totals[2]}


# ----- the benchmark ------------------------------------------------------------------------

@dataclass
class BenchResult:
    """Every measurement of every round (``runs``); figures and ratios use each run's median round."""

    crawl: CrawlInfo
    runs: list[Measurement]
    workers: int

    @property
    def rounds(self) -> int:
        return max(Counter((r.tool, r.workers) for r in self.runs).values(), default=0)

    def _rounds_of(self, tool: str, workers: int) -> list[Measurement]:
        return [r for r in self.runs if r.tool == tool and r.workers == workers]

    @property
    def rows(self) -> list[Measurement]:
        """Per tool and worker count, the round with the median pages/s (all rounds must succeed)."""
        out = []
        for tool, workers in dict.fromkeys((r.tool, r.workers) for r in self.runs):
            same = self._rounds_of(tool, workers)
            failed = [r for r in same if not r.ok]
            out.append(failed[0] if failed else sorted(same, key=lambda r: r.pages_per_s)[(len(same) - 1) // 2])
        return out

    def spread(self, tool: str, workers: int) -> tuple[float, float]:
        """(lowest, highest) pages/s over the rounds."""
        rates = [r.pages_per_s for r in self._rounds_of(tool, workers)]
        return min(rates), max(rates)

    def peak_rss(self, tool: str, workers: int) -> int:
        """The highest peak RSS over the rounds (the safe side for a capacity figure)."""
        return max(r.peak_rss for r in self._rounds_of(tool, workers))

    def row(self, tool: str, workers: int) -> Measurement | None:
        return next((r for r in self.rows if r.tool == tool and r.workers == workers), None)

    def ratios(self) -> dict[str, float]:
        """spamdetect over each peer at all workers, and each tool's scaling from 1 to all workers."""
        w, out = self.workers, {}
        sd = self.row("spamdetect", w)
        for peer in ("trafilatura", "parse"):
            p = self.row(peer, w)
            if sd and p and p.pages_per_s:
                out[f"ratio_spamdetect_vs_{peer}"] = sd.pages_per_s / p.pages_per_s
        for tool in TOOLS:
            one, many = self.row(tool, 1), self.row(tool, w)
            if w > 1 and one and many and one.pages_per_s:
                out[f"ratio_scaling_{tool}"] = many.pages_per_s / one.pages_per_s
        return out

    def checks(self) -> list[tuple[str, bool]]:
        """The issue's targets, each with pass/fail."""
        sd, r = self.row("spamdetect", self.workers), self.ratios()
        return [
            (f">= {TARGET_PAGES_PER_S:.0f} pages/s end to end with {self.workers} workers",
             bool(sd and sd.ok and sd.pages_per_s >= TARGET_PAGES_PER_S)),
            (f">= {TARGET_VS_TRAFILATURA:.0f}x trafilatura's throughput at {self.workers} workers",
             r.get("ratio_spamdetect_vs_trafilatura", 0) >= TARGET_VS_TRAFILATURA),
            (f">= 1/3 of parse-only throughput at {self.workers} workers",
             r.get("ratio_spamdetect_vs_parse", 0) >= TARGET_VS_PARSE),
        ]

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.rows:
            out[f"pages_per_s_{r.name}"] = r.pages_per_s
            out[f"mb_per_s_{r.name}"] = self.crawl.html_mb / r.seconds if r.seconds else 0.0
            out[f"peak_rss_mb_{r.name}"] = self.peak_rss(r.tool, r.workers) / 1e6
            low, high = self.spread(r.tool, r.workers)
            out[f"pages_per_s_min_{r.name}"], out[f"pages_per_s_max_{r.name}"] = low, high
            out[f"seconds_{r.name}"] = r.seconds
            out[f"errors_{r.name}"] = r.errors
            out[f"cpu_ms_per_page_main_{r.name}"] = r.main_ms_per_page
            out[f"cpu_ms_per_page_workers_{r.name}"] = r.worker_ms_per_page
        out.update(self.ratios())
        return out

    def table(self) -> str:
        c = self.crawl
        lines = [f"{c.pages} pages, {c.html_mb:.1f} MB of HTML, {c.file_bytes / 1e6:.1f} MB gzipped WARC "
                 f"({c.path}); {all_workers()} cores; {self.rounds} round(s), interleaved: "
                 "each figure is the median round's, range = lowest-highest pages/s, peak RSS = highest",
                 "",
                 f"{'run':<16} {'workers':>7} {'pages/s':>9} {'range':>13} {'MB/s':>7} {'peak RSS MB':>11} "
                 f"{'seconds':>8} {'errors':>6}  note"]
        for r in self.rows:
            mbs = c.html_mb / r.seconds if r.seconds else 0.0
            note = r.detail if r.ok else f"FAILED: {r.detail}"
            low, high = self.spread(r.tool, r.workers)
            lines.append(f"{r.tool:<16} {r.workers:>7} {r.pages_per_s:>9.1f} {f'{low:.1f}-{high:.1f}':>13} "
                         f"{mbs:>7.2f} {self.peak_rss(r.tool, r.workers) / 1e6:>11.0f} "
                         f"{r.seconds:>8.2f} {r.errors:>6}  {note}")
        lines += ["", "CPU per page (ms), median round, start-up included: the main process reads the input, "
                  "hands out batches and writes results; the workers (and the fork server) decode, parse and score.",
                  f"{'run':<16} {'workers':>7} {'main':>7} {'workers':>8}"]
        lines += [f"{r.tool:<16} {r.workers:>7} {r.main_ms_per_page:>7.2f} {r.worker_ms_per_page:>8.2f}" for r in self.rows]
        lines.append("")
        for k, v in self.ratios().items():
            lines.append(f"{k:<36} {v:6.2f}x")
        lines.append("")
        for label, ok in self.checks():
            lines.append(f"[{'PASS' if ok else 'FAIL'}] {label}")
        return "\n".join(lines)


def run_benchmark(pages: int = DEFAULT_PAGES, workers: int | None = None, tools: Iterable[str] = TOOLS,
                  crawl: CrawlInfo | None = None, rounds: int = 1) -> BenchResult:
    """Build (or reuse) the crawl and measure every tool at 1 and at ``workers`` workers, ``rounds`` times.

    Rounds are interleaved (every run once, then again), so a slow spell of a shared machine
    lands on all tools alike instead of on whichever ran during it.
    """
    workers = workers or all_workers()
    crawl = crawl or bench_crawl(pages)
    out_dir = Path(crawl.path).parent
    runs = []
    for n in range(1, rounds + 1):
        for tool in ("parse", "spamdetect", "filter", "trafilatura"):  # cheapest first: a broken setup shows early
            if tool not in tools:
                continue
            for w in sorted({1, workers}):
                print(f"round {n}/{rounds}: {tool} with {w} worker(s)...", file=sys.stderr, flush=True)
                if tool == "spamdetect":
                    m = run_spamdetect(crawl.path, w, out_dir)
                elif tool == "filter":
                    m = run_filter(bench_jsonl(crawl), w, out_dir)
                else:
                    m = run_peer_subprocess(tool, crawl.path, w)
                if m.ok and m.pages != crawl.pages:
                    m.ok, m.detail = False, f"saw {m.pages} of {crawl.pages} pages; {m.detail}"
                runs.append(m)
    return BenchResult(crawl, runs, workers)


# ----- MLflow -------------------------------------------------------------------------------

def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for pkg in ("spamdetect", "trafilatura", "selectolax", "warcio", "scikit-learn"):
        try:
            out[f"version_{pkg}"] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def _git_commit() -> str | None:
    from spamdetect.config import PROJECT_DIR

    try:
        res = subprocess.run(["git", "-C", str(PROJECT_DIR), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout.strip() or None


def _signal_versions() -> dict[str, str]:
    """The signal code's version now, and the one the shipped model was trained with."""
    from spamdetect.train import signals_version

    out = {"code_signals_version": signals_version()}
    try:
        from spamdetect.loading import load_model

        out["model_signals_version"] = str((getattr(load_model(None), "meta", None) or {}).get("signals_version"))
    except Exception as exc:  # noqa: BLE001 -- a benchmark still logs without the model's metadata
        out["model_signals_version"] = f"unavailable ({type(exc).__name__})"
    return out


def log_run(run_name: str, params: dict, metrics: dict[str, float], artifacts: dict[str, str],
            tags: dict[str, str] | None = None) -> str:
    """One MLflow run in the ``spamdetect-bench`` experiment; returns its id."""
    import mlflow

    from spamdetect.tracking import setup

    setup(experiment="spamdetect-bench")
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.set_tags({"kind": "benchmark", "python": sys.version.split()[0], **_versions(), **(tags or {})})
        commit = _git_commit()
        if commit:
            mlflow.set_tag("git_commit", commit)
        mlflow.log_params(params)
        mlflow.log_metrics(metrics)
        for name, text in artifacts.items():
            mlflow.log_text(text, name)
        return run.info.run_id


def log_benchmark(result: BenchResult) -> str:
    c = result.crawl
    params = {"pages": c.pages, "html_mb": round(c.html_mb, 2), "warc_mb": round(c.file_bytes / 1e6, 2),
              "cpu_count": all_workers(), "workers": result.workers, "crawl": Path(c.path).name,
              "rounds": result.rounds, **_signal_versions()}
    series = {r.name: r.series for r in result.rows}
    data = {"crawl": asdict(c), "rounds": result.rounds,
            "runs": [{**asdict(r), "pages_per_s": r.pages_per_s, "series": None} for r in result.runs],
            "ratios": result.ratios(), "checks": result.checks()}
    return log_run(f"bench-{datetime.now():%Y-%m-%d-%H%M}", params, result.metrics(),
                   {"bench_table.txt": result.table() + "\n", "bench.json": json.dumps(data, indent=1),
                    "rss_series.json": json.dumps(series)},
                   {"bench_kind": "throughput"})


# ----- memory run ---------------------------------------------------------------------------

def memory_run(gb: float, workers: int | None = None, keep: bool = False, log: bool = True,
               directory: Path | None = None, sources: Iterable | None = None) -> dict:
    """Score a plain WARC of ``gb`` GB with all workers through the CLI; peak RSS of the process tree."""
    workers = workers or all_workers()
    directory = directory or bench_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = int(gb * 1e9)
    free = shutil.disk_usage(directory).free
    if free < target * 1.1 + 200e6:  # the WARC, plus the scores and some room for everyone else
        raise SystemExit(f"not enough disk space in {directory}: {free / 1e9:.1f} GB free, "
                         f"need about {target * 1.1 / 1e9 + 0.2:.1f} GB for a {gb} GB WARC")
    path = directory / f"memory-{gb:g}gb.warc"
    print(f"writing {path} ({gb:g} GB, uncompressed)...", file=sys.stderr, flush=True)
    info = write_warc(path, iter_corpus_pages(sources), gzip=False, max_bytes=target)
    out = directory / f"memory-{gb:g}gb-scores.jsonl"
    out.unlink(missing_ok=True)
    print(f"scoring {info.pages} pages ({info.file_bytes / 1e9:.2f} GB) with {workers} workers...",
          file=sys.stderr, flush=True)
    try:
        res, seconds, sampler = measure(spamdetect_cmd(str(path), str(out), workers))
    finally:
        if not keep:
            path.unlink(missing_ok=True)
    scored = sum(1 for _ in out.open(encoding="utf-8")) if out.exists() else 0
    # RSS by tenths of the run: flat means the input size does not reach memory.
    series = sampler.series
    deciles = [max((r for t, r in series if t <= seconds * k / 10), default=0) for k in range(1, 11)]
    report = {"gb": gb, "warc_bytes": info.file_bytes, "pages": info.pages, "scored": scored,
              "workers": workers, "seconds": seconds, "pages_per_s": scored / seconds if seconds else 0.0,
              "mb_per_s": info.html_bytes / 1e6 / seconds if seconds else 0.0,
              "peak_rss_mb": sampler.peak / 1e6,
              "process_peaks_mb": sorted((round(b / 1e6) for b in sampler.process_peaks.values()), reverse=True),
              "rss_peak_so_far_by_tenth_mb": [round(d / 1e6) for d in deciles],
              "ok": res.returncode == 0 and scored == info.pages,
              "detail": (res.stderr.strip().splitlines() or [""])[-1]}
    text = "\n".join([
        f"memory run: {info.pages} pages, {info.file_bytes / 1e9:.2f} GB plain WARC, {workers} workers",
        f"  scored {scored} pages in {seconds:.1f} s: {report['pages_per_s']:.1f} pages/s, "
        f"{report['mb_per_s']:.2f} MB/s",
        f"  peak RSS of the process tree: {report['peak_rss_mb']:.0f} MB "
        f"(each process's own peak, MB: {report['process_peaks_mb']})",
        f"  peak RSS so far, by tenth of the run (MB): {report['rss_peak_so_far_by_tenth_mb']}",
        f"  [{'PASS' if report['ok'] and report['peak_rss_mb'] < 1500 else 'FAIL'}] peak RSS under 1,500 MB "
        f"and every page scored ({report['detail']})",
    ])
    print(text)
    if log:
        run_id = log_run(f"memory-{gb:g}gb-{datetime.now():%Y-%m-%d-%H%M}",
                         {"gb": gb, "pages": info.pages, "warc_mb": round(info.file_bytes / 1e6, 1),
                          "workers": workers, "cpu_count": all_workers()},
                         {"peak_rss_mb": report["peak_rss_mb"], "pages_per_s": report["pages_per_s"],
                          "mb_per_s": report["mb_per_s"], "seconds": seconds},
                         {"memory.txt": text + "\n", "memory.json": json.dumps({**report, "series": series})},
                         {"bench_kind": "memory"})
        report["run_id"] = run_id
    return report


# ----- profile ------------------------------------------------------------------------------

def profile_scoring(pages: int = 300, top: int = 25) -> str:
    """pyinstrument over single-process scoring (read, score, write) of the first ``pages`` bench pages."""
    from pyinstrument import Profiler
    from threadpoolctl import threadpool_limits

    from spamdetect.batch import score_records
    from spamdetect.loading import load_scorer
    from spamdetect.readers import read_inputs
    from spamdetect.writers import open_writer

    crawl = bench_crawl(pages, parts=0)
    model = load_scorer(None)
    out = Path(crawl.path).parent / "profile-scores.jsonl"
    records = read_inputs([crawl.path])
    warm = list(islice(records, 8))
    # one OpenMP thread, as in a scoring worker
    with threadpool_limits(1), open_writer(str(out), "jsonl") as writer:
        for rec in score_records(model, warm):  # first use builds caches (public suffix trie, regexes)
            writer.write(rec)
        profiler = Profiler(interval=0.001)
        n, t0 = 0, time.perf_counter()
        with profiler:
            while batch := list(islice(records, BATCH)):  # in this process, so the profiler sees the scoring
                for rec in score_records(model, batch):
                    writer.write(rec)
                n += len(batch)
        seconds = time.perf_counter() - t0
    flat = _without_banner(profiler.output_text(flat=True, flat_time="self", show_all=False))
    tree = _without_banner(profiler.output_text(processor_options={"filter_threshold": 0.02}))
    return "\n".join([
        f"profile: {n} pages read, scored and written in one process in {seconds:.1f} s "
        f"({n / seconds if seconds else 0:.1f} pages/s under the profiler; {len(warm)} pages scored first to warm up)",
        "", f"top {top} functions by self time (seconds):", *flat.splitlines()[:top],
        "", "call tree (seconds; frames under 2% hidden):", tree])


def _without_banner(text: str) -> str:
    """pyinstrument's report without its logo and header lines."""
    lines = text.splitlines()
    start = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("Profile at")), 0)
    return "\n".join(ln for ln in lines[start:] if ln.strip())


# ----- command line -------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=None,
                        help=f"pages in the benchmark crawl (default {DEFAULT_PAGES}; --profile: 300)")
    parser.add_argument("--workers", type=int, default=None, help="the 'all workers' figure (default: all cores)")
    parser.add_argument("--tools", default=",".join(TOOLS), help=f"comma-separated subset of {','.join(TOOLS)}")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measure every run this many times, interleaved; report the median (default 3)")
    parser.add_argument("--no-mlflow", action="store_true", help="print only; log no MLflow run")
    parser.add_argument("--memory-gb", type=float, default=None,
                        help="memory run: score a plain WARC of this many GB and report peak RSS")
    parser.add_argument("--keep-warc", action="store_true", help="memory run: keep the big WARC afterwards")
    parser.add_argument("--profile", action="store_true", help="profile single-process scoring with pyinstrument")
    parser.add_argument("--top", type=int, default=25, help="profile: functions to list")
    # internal: one peer run, in the subprocess the benchmark starts
    parser.add_argument("--peer", choices=sorted(_PEERS), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.peer:
        print(json.dumps(run_peer(args.peer, args.input, args.workers or 1)))
        return 0
    if args.profile:
        print(profile_scoring(args.pages or 300, args.top))
        return 0
    if args.memory_gb is not None:
        report = memory_run(args.memory_gb, args.workers, keep=args.keep_warc, log=not args.no_mlflow)
        return 0 if report["ok"] else 1
    tools = [t for t in re.split(r"[,\s]+", args.tools) if t]
    unknown = set(tools) - set(TOOLS)
    if unknown:
        parser.error(f"unknown tools: {', '.join(sorted(unknown))}")
    result = run_benchmark(args.pages or DEFAULT_PAGES, args.workers, tools, rounds=max(args.rounds, 1))
    print(result.table())
    if not args.no_mlflow:
        run_id = log_benchmark(result)
        print(f"\nMLflow run {run_id} (experiment spamdetect-bench)")
    return 0  # a measurement: targets missed are printed, not an error


if __name__ == "__main__":
    raise SystemExit(main())
