"""Load test of a running scoring server (``spamdetect serve``): N concurrent clients, real pages.

    python -m spamdetect.loadtest --url http://127.0.0.1:5001 --clients 8 --requests 400 --timeout 60

Each request POSTs one page as ``{"dataframe_records": [{"url": ..., "html": ...}]}`` to
``/invocations``. The run is bounded in count (``--requests``) and in time (``--timeout``
seconds, after which clients stop and the run fails). It reports requests/s, p50/p90/p99
latency, errors by kind and, given the server's ``--pid``, the resident memory of that
process and all its children (the MLflow CLI and uvicorn workers) after warm-up, at the
end and at its peak. Exit status 1 when any request failed, the time bound was hit, or a
given ``--max-p99`` / ``--max-rss-growth-mb`` was exceeded. Only for servers on this machine.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import requests

DEFAULT_PAGES = 200  # real corpus pages cycled through when no --pages file is given
WARMUP_REQUESTS = 16  # untimed: each server worker's first requests pay for lazy imports and caches


@dataclass
class Result:
    """What a run measured; ``ok`` says whether it passed its bounds."""

    requests: int
    completed: int
    seconds: float
    latencies: list[float] = field(default_factory=list, repr=False)
    errors: Counter = field(default_factory=Counter)
    rss_mb: dict[str, float] = field(default_factory=dict)
    timed_out: bool = False

    def percentile(self, q: float) -> float | None:
        return float(np.percentile(self.latencies, q)) if self.latencies else None

    def summary(self) -> dict:
        return {
            "requests": self.requests, "completed": self.completed, "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors), "seconds": round(self.seconds, 2),
            "requests_per_s": round(self.completed / self.seconds, 2) if self.seconds else None,
            **{f"p{q}_ms": round(1000 * v, 1) if (v := self.percentile(q)) is not None else None for q in (50, 90, 99)},
            "max_ms": round(1000 * max(self.latencies), 1) if self.latencies else None,
            "rss_mb": self.rss_mb, "timed_out": self.timed_out,
        }


def load_pages(path: str | None, limit: int = DEFAULT_PAGES) -> list[dict]:
    """Request records ``{"url", "html" | "text"}``: from a JSONL file, else real corpus pages."""
    if path:
        rows = []
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    rows.append({k: row[k] for k in ("url", "html", "text") if row.get(k) is not None})
        return rows
    from spamdetect.corpus.legit import iter_manifest
    from spamdetect.charsets import decode_html

    rows = []
    for rec in itertools.islice(iter_manifest(), limit):
        rows.append({"url": rec.url, "html": decode_html(rec.read_bytes())})
    if not rows:
        raise FileNotFoundError("no corpus pages found (set SPAMDETECT_CORPUS or pass --pages)")
    return rows


class RssSampler(threading.Thread):
    """Samples the resident memory of a process tree (a process and all its descendants)."""

    def __init__(self, pid: int, every: float = 0.25):
        super().__init__(daemon=True)
        import psutil

        self.root = psutil.Process(pid)
        self.every = every
        self.peak = 0.0
        self.samples: list[tuple[float, float]] = []  # (perf_counter, MB)
        self._halt = threading.Event()

    def rss_mb(self) -> float:
        import psutil

        total = 0
        for p in [self.root, *self.root.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return total / 2**20

    def run(self) -> None:
        while not self._halt.wait(self.every):
            mb = self.rss_mb()
            self.samples.append((time.perf_counter(), mb))
            self.peak = max(self.peak, mb)

    def at(self, when: float) -> float | None:
        """The sample taken closest to ``when`` (a ``time.perf_counter`` value)."""
        return min(self.samples, key=lambda s: abs(s[0] - when))[1] if self.samples else None

    def stop(self) -> None:
        self._halt.set()
        self.join()


def check_target(url: str) -> None:
    """Refuse anything but a server on this machine: a load test never leaves loopback."""
    host = urlparse(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"load tests run against loopback only (127.0.0.0/8, localhost, ::1), not {host!r}")


def run(url: str, pages: list[dict], *, clients: int = 8, requests_total: int = 400, timeout: float = 60.0,
        pid: int | None = None, warmup: int = WARMUP_REQUESTS) -> Result:
    """Send ``requests_total`` one-page requests from ``clients`` threads; stop at ``timeout`` seconds.

    ``warmup`` requests go first, untimed and just as concurrent, so every server worker has
    paid for its lazy imports and caches before memory is first measured.
    """
    check_target(url)
    endpoint = url.rstrip("/") + "/invocations"
    bodies = [json.dumps({"dataframe_records": [p]}).encode() for p in pages]
    if warmup:
        _drive(endpoint, bodies, clients, warmup, time.perf_counter() + timeout, offset=len(bodies) // 2)
    sampler = RssSampler(pid) if pid else None
    rss_start = sampler.rss_mb() if sampler else None
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    latencies, errors, stuck = _drive(endpoint, bodies, clients, requests_total, t0 + timeout)
    seconds = time.perf_counter() - t0
    result = Result(requests_total, len(latencies), seconds, latencies, errors, timed_out=seconds > timeout or stuck)
    if sampler:
        sampler.stop()
        end = sampler.rss_mb()
        mid = sampler.at(t0 + seconds / 2) or rss_start
        result.rss_mb = {"start": round(rss_start, 1), "middle": round(mid, 1), "end": round(end, 1),
                         "peak": round(max(sampler.peak, end), 1), "growth": round(end - rss_start, 1),
                         "growth_second_half": round(end - mid, 1)}
    return result


def _drive(endpoint: str, bodies: list[bytes], clients: int, total: int, deadline: float,
           offset: int = 0) -> tuple[list[float], Counter, bool]:
    """``total`` requests from ``clients`` threads, each bounded by the time left before ``deadline``.
    Returns the latencies of the scored requests, the errors by kind, and whether a client was stuck."""
    headers = {"Content-Type": "application/json"}
    counter, lock = itertools.count(), threading.Lock()
    latencies: list[float] = []
    errors: Counter = Counter()

    def client() -> None:
        with requests.Session() as session:
            while True:
                with lock:
                    i = next(counter)
                if i >= total:
                    return
                left = deadline - time.perf_counter()
                if left <= 0:
                    with lock:
                        errors["not sent: time bound reached"] += 1
                    continue
                start = time.perf_counter()
                kind = _one_request(session, endpoint, bodies[(i + offset) % len(bodies)], headers, left)
                took = time.perf_counter() - start
                with lock:
                    if kind is None:
                        latencies.append(took)
                    else:
                        errors[kind] += 1

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:  # each request is itself bounded by the time left, so this returns
        t.join(max(0.0, deadline - time.perf_counter()) + 30)
    return latencies, errors, any(t.is_alive() for t in threads)


def _one_request(session: requests.Session, endpoint: str, body: bytes, headers: dict, timeout: float) -> str | None:
    """None when the page was scored; else what went wrong, as an error kind."""
    try:
        resp = session.post(endpoint, data=body, headers=headers, timeout=timeout)
    except requests.Timeout:
        return "client timeout"
    except requests.RequestException as exc:
        return f"connection: {type(exc).__name__}"
    if resp.status_code != 200:
        return f"HTTP {resp.status_code}"
    try:
        (pred,) = resp.json()["predictions"]
    except (ValueError, KeyError, TypeError):
        return "malformed response"
    if pred.get("error") or pred.get("trust") is None:
        return "row error"
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m spamdetect.loadtest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="server base URL on loopback, e.g. http://127.0.0.1:5001")
    ap.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    ap.add_argument("--requests", type=int, default=400, help="requests in all (default 400)")
    ap.add_argument("--timeout", type=float, default=60.0, help="time bound of the whole run in seconds (default 60)")
    ap.add_argument("--pages", default=None, help="JSONL of {url, html|text} records (default: real corpus pages)")
    ap.add_argument("--warmup", type=int, default=WARMUP_REQUESTS, help=f"untimed requests first (default {WARMUP_REQUESTS})")
    ap.add_argument("--pid", type=int, default=None, help="server process id: report its tree's memory")
    ap.add_argument("--max-p99", type=float, default=None, help="fail when p99 latency exceeds this (seconds)")
    ap.add_argument("--max-rss-growth-mb", type=float, default=None, help="fail when server memory grows more")
    ap.add_argument("--json", default=None, help="also write the summary as JSON here")
    args = ap.parse_args(argv)
    try:
        pages = load_pages(args.pages)
        result = run(args.url, pages, clients=args.clients, requests_total=args.requests,
                     timeout=args.timeout, pid=args.pid, warmup=args.warmup)
    except (ValueError, OSError, requests.RequestException) as exc:
        print(f"loadtest: {exc}", file=sys.stderr)
        return 2
    summary = result.summary()
    failures = []
    if summary["errors"]:
        failures.append(f"{summary['errors']} failed requests")
    if result.timed_out:
        failures.append(f"time bound of {args.timeout:g} s reached")
    if args.max_p99 is not None and (summary["p99_ms"] or 0) > 1000 * args.max_p99:
        failures.append(f"p99 {summary['p99_ms']} ms > {1000 * args.max_p99:g} ms")
    growth = result.rss_mb.get("growth")
    if args.max_rss_growth_mb is not None and growth is not None and growth > args.max_rss_growth_mb:
        failures.append(f"server memory grew {growth} MB > {args.max_rss_growth_mb:g} MB")
    summary["failures"] = failures
    print(json.dumps(summary, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    print(f"{summary['completed']}/{summary['requests']} ok, {summary['requests_per_s']} req/s, "
          f"p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, errors {summary['errors']}"
          + (f", rss {result.rss_mb['start']} -> {result.rss_mb['end']} MB" if result.rss_mb else "")
          + (f"; FAILED: {'; '.join(failures)}" if failures else ""), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
