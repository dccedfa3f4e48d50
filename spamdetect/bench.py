"""Scoring throughput on real pages: `make bench` (python -m spamdetect.bench).

Writes the corpus pages listed in the manifests into one JSONL under build/ (never into the
repository), then runs `spamdetect score` end to end (read, parse, signals, model, write) with
1 worker and with all cores, in the same run, and prints pages/s, MB/s and the scaling ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from spamdetect.config import build_dir
from spamdetect.corpus.legit import iter_manifest


def write_pages_jsonl(path: Path, limit: int | None = None) -> tuple[int, int]:
    """The manifest pages as JSONL records with html (decoded) and url; returns (pages, bytes of html)."""
    from spamdetect.readers import decode_html

    n = size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in iter_manifest():
            if limit is not None and n >= limit:
                break
            raw = rec.read_bytes()
            fh.write(json.dumps({"id": rec.key, "url": rec.url, "html": decode_html(raw)}) + "\n")
            n += 1
            size += len(raw)
    return n, size


def run(inputs: str, workers: int) -> dict:
    from spamdetect.batch import score_to_file

    out = build_dir() / "bench" / f"scores-w{workers}.jsonl"
    t0 = time.perf_counter()
    summary = score_to_file([inputs], str(out), workers=workers, progress=False)
    return {"workers": workers, "pages": summary.pages, "errors": summary.errors,
            "seconds": round(time.perf_counter() - t0, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="pages to use (default: all listed)")
    args = parser.parse_args(argv)
    data = build_dir() / "bench" / "pages.jsonl"
    pages, size = write_pages_jsonl(data, args.limit)
    rows = [run(str(data), w) for w in sorted({1, os.cpu_count() or 1})]
    print(f"{pages} real pages, {size / 1e6:.1f} MB of HTML")
    print(f"{'workers':>8} {'pages/s':>9} {'MB/s':>7} {'errors':>7}")
    for r in rows:
        print(f"{r['workers']:>8} {r['pages'] / r['seconds']:>9.1f} {size / 1e6 / r['seconds']:>7.2f} {r['errors']:>7}")
    if len(rows) > 1:
        print(f"scaling {rows[0]['workers']} -> {rows[-1]['workers']} workers: {rows[0]['seconds'] / rows[-1]['seconds']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
