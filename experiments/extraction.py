"""Main-text extraction with trafilatura for the baselines, cached under build/experiments/.

HTML rows are extracted from their HTML with FineWeb's settings (Penedo et al. 2024: trafilatura,
``favor_precision=True``, no comments, ``deduplicate=True``). Text rows have no markup, so their
lines become ``<p>`` elements and trafilatura decides which of them are the main text. Extraction
costs ~40 ms a page, so the result is cached per corpus fingerprint (one parquet file).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from html import escape

import pandas as pd

from experiments.common import Data, say, work_dir


def html_of_text(text: str) -> str:
    """A minimal HTML page whose paragraphs are the lines of ``text`` (first line = title)."""
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    title = escape(lines[0]) if lines else ""
    body = "".join(f"<p>{escape(ln)}</p>" for ln in lines)
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def extract_main(html: str | None) -> str:
    """trafilatura's main text of a page ('' when it finds none or fails)."""
    import trafilatura

    if not html:
        return ""
    try:
        out = trafilatura.extract(html, favor_precision=True, include_comments=False, deduplicate=True,
                                  with_metadata=False)
    except Exception:  # noqa: BLE001 - a page trafilatura cannot read has no main text
        return ""
    return out or ""


def _work(item: tuple[str | None, str | None]) -> str:
    html, text = item
    return extract_main(html if html else html_of_text(text or ""))


def main_texts(data: Data, html: pd.Series | None = None, text: pd.Series | None = None,
               workers: int = 2) -> pd.Series:
    """trafilatura main text of every row of ``data.df`` (cached; computed on a cache miss)."""
    key = f"trafilatura-{data.fingerprint[:16]}.parquet"
    path = work_dir() / key
    ids = data.df["doc_id"] + "|" + data.df["mode"]
    if path.exists():
        cached = pd.read_parquet(path)
        lookup = dict(zip(cached["key"], cached["main_text"]))
        if all(k in lookup for k in ids):
            return pd.Series([lookup[k] for k in ids], index=data.df.index)
    else:
        lookup = {}
    html = data.df["html"] if html is None else html
    text = data.df["text"] if text is None else text
    todo = [i for i, k in enumerate(ids) if k not in lookup]
    say(f"trafilatura: extracting {len(todo)} pages with {workers} worker(s)")
    items = [(html.iloc[i], text.iloc[i]) for i in todo]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if workers > 1:
        with mp.get_context("fork").Pool(workers) as pool:
            results = pool.map(_work, items, chunksize=16)
    else:
        results = [_work(it) for it in items]
    for i, r in zip(todo, results):
        lookup[ids.iloc[i]] = r
    pd.DataFrame({"key": list(lookup), "main_text": list(lookup.values())}).to_parquet(path)
    return pd.Series([lookup[k] for k in ids], index=data.df.index)
