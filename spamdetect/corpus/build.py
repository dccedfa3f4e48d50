"""Build the labelled corpus: every real page as legit, hard-negative augmentations, and simulated farms.

One row per (document, mode): each document appears as ``mode="html"`` (html set, text None) and
``mode="text"`` (its ``Page.to_text()`` rendering, html None), sharing ``doc_id``. Splits are by
``group`` (the source article), so no story is in two splits.

    df = build_corpus(seed=0)            # cached under config.build_dir()/corpus/
    df[df.split == "train"]

Everything random flows from ``random.Random(f"{seed}|{page key}")``, so the result does not depend
on the number of workers or their scheduling.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import random
import sys
import traceback
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from spamdetect.config import build_dir, corpus_dir
from spamdetect.corpus import fakes
from spamdetect.corpus.legit import LegitRecord, corpus_available, iter_manifest, no_corpus
from spamdetect.corpus.operations import HeadlinePool
from spamdetect.corpus.story import Story, decode_html, extract_story, parse_soup, serialize
from spamdetect.corpus.templates import (DONOR_CHROME_PROB, DONOR_FAMILIES, FAMILY_WEIGHTS, TEMPLATE_FAMILIES, Doc, Donor,
                                         make_farm, make_legit_aug)
from spamdetect.page import Page
from spamdetect.progress import progress_bar

CODE_VERSION = "corpus-3"  # bump when generation changes: it keys the cache and the fingerprint
NOW = datetime(2025, 9, 1)  # latest plausible crawl date; fixed so builds are reproducible
MIN_PARAGRAPHS = 3
MIN_WORDS = 60
MAX_DONOR_CHARS = 300_000  # themes are borrowed from pages up to this size (parse time; covers ~85% of pages)
COLUMNS = ["doc_id", "group", "source", "variant", "label", "family", "operations", "n_ops", "url", "crawl_date",
           "lang", "mode", "html", "text", "split", "details"]


# ----- splits and fingerprint ----------------------------------------------------------------------

def split_of(group: str, seed: int, val: float = 0.15, test: float = 0.15) -> str:
    """Deterministic split of a group: hash of seed+group, about 70/15/15."""
    h = int(hashlib.sha256(f"{seed}|{group}".encode()).hexdigest()[:12], 16) / 16 ** 12
    return "test" if h < test else "val" if h < test + val else "train"


def fingerprint(df: pd.DataFrame, seed: int | None = None) -> str:
    """sha256 over doc ids, modes, labels, the seed and the code version: names a corpus in experiment logs."""
    seed = df.attrs.get("seed") if seed is None else seed
    h = hashlib.sha256(f"{CODE_VERSION}|{seed}|{len(df)}".encode())
    for doc_id, mode, label in sorted(zip(df["doc_id"], df["mode"], df["label"])):
        h.update(f"{doc_id}\t{mode}\t{label}\n".encode())
    return h.hexdigest()


# ----- per-page work (runs in workers) ------------------------------------------------------------------

_STATE: dict = {}


def _init_worker(state: dict) -> None:
    sys.setrecursionlimit(20_000)  # bs4 recurses on very deeply nested pages
    _STATE.clear()
    _STATE.update(state)


def _story_of(rec: LegitRecord) -> tuple[Story | None, str | None]:
    """(story, html) of a record, or (None, error)."""
    try:
        html = decode_html(rec.read_bytes())
        page = Page(html=html, url=rec.url)
        return extract_story(page, rec.key, rec.source, rec.date, rec.lang), html
    except Exception:  # a broken page costs its rows, never the build
        return None, _failure(rec.key)


def _failure(key: str) -> str:
    """The exception being handled, for the build's error list: "<key>: <traceback>"."""
    return f"{key}: {traceback.format_exc(limit=-4)}"


def _crawl_offset(rng: random.Random) -> timedelta:
    r = rng.random()
    days = rng.randint(0, 60) if r < 0.6 else rng.randint(60, 730) if r < 0.9 else rng.randint(730, 2200)
    return timedelta(days=days, hours=rng.randint(0, 23))


def _base_date(story: Story, rng: random.Random) -> datetime | None:
    if story.date:
        return story.date
    if story.year:
        return datetime(story.year, rng.randint(1, 12), rng.randint(1, 28))
    return None


def _crawl_date(doc: Doc | None, story: Story, rng: random.Random) -> datetime | None:
    """Crawled some time after the date the page shows; a restamp flagged 'after_crawl' lies in the crawl's future."""
    stamp_rec = next((o for o in doc.operations if o["op"] == "restamp_date"), None) if doc else None
    if stamp_rec:
        base = datetime.strptime(stamp_rec["stamp"], "%Y-%m-%d")
        if stamp_rec.get("after_crawl"):
            return base - timedelta(days=rng.randint(5, 300))
    else:
        base = _base_date(story, rng)
    if base is None:
        return None
    crawl = base + _crawl_offset(rng)
    cap = max(NOW, base + timedelta(days=2))
    # spread, not pile up, crawls that would land after NOW
    return crawl if crawl <= cap else base + (cap - base) * rng.random()


def _render_rows(doc_id: str, story: Story, variant: str, label: int, family: str, html: str, ops: list[dict],
                 url: str | None, crawl: datetime | None, seed: int, details: dict) -> list[dict]:
    text = Page(html=html, url=url).to_text()
    common = {"doc_id": doc_id, "group": story.key, "source": story.source, "variant": variant, "label": label,
              "family": family, "operations": json.dumps([o["op"] for o in ops]), "n_ops": len(ops), "url": url,
              "crawl_date": crawl, "lang": story.lang, "split": split_of(story.key, seed),
              "details": json.dumps({"ops": ops, **details}, ensure_ascii=False, default=str)}
    return [{**common, "mode": "html", "html": html, "text": None},
            {**common, "mode": "text", "html": None, "text": text}]


def eligible(story: Story) -> bool:
    """Enough story text to farm."""
    return len(story.paragraphs) >= MIN_PARAGRAPHS and story.n_words >= MIN_WORDS


def _docs_for(rec: LegitRecord, story: Story, original: str) -> tuple[list[dict], list[str]]:
    seed, p = _STATE["seed"], _STATE["params"]
    rng = random.Random(f"{seed}|{rec.key}")
    rows: list[dict] = []
    try:
        # the legit page goes through the same parser/serialiser as every generated page
        soup = parse_soup(original)
        html = serialize(soup)
    except Exception:
        return rows, [_failure(f"{rec.key}#legit")]
    none_p = p["url_none_prob"]
    url = None if rng.random() < none_p else rec.url
    rows += _render_rows(f"{rec.key}#legit", story, "legit", 0, "", html, [], url, _crawl_date(None, story, rng), seed, {})
    if not eligible(story):
        return rows, []
    errs = []
    if rng.random() < p["aug_prob"]:
        try:
            doc = make_legit_aug(story, rng, original)
            url = None if rng.random() < none_p else rec.url
            rows += _render_rows(f"{rec.key}#aug", story, "legit_aug", 0, "", doc.html, doc.operations, url,
                                 _crawl_date(None, story, rng), seed, {})
        except Exception:  # one failed variant costs that variant only
            errs.append(_failure(f"{rec.key}#aug"))
    weights = dict(FAMILY_WEIGHTS)
    for i in range(p["farms_per_page"]):
        fam = rng.choices(list(weights), list(weights.values()))[0]
        if len(weights) > 1:
            weights.pop(fam)  # different families for the variants of one story
        donor = None
        if fam in DONOR_FAMILIES or (fam in TEMPLATE_FAMILIES and rng.random() < DONOR_CHROME_PROB):
            donor = _pick_donor(story, rng)
            if donor is None and fam in DONOR_FAMILIES:
                fam = "cloner"  # no other page to borrow a theme from (tiny builds)
        try:
            doc = make_farm(story, fam, rng, _STATE["pool"], original, _STATE["blocklist"], donor)
            url = None if rng.random() < none_p else doc.url
            rows += _render_rows(f"{rec.key}#farm{i}", story, "farm", 1, fam, doc.html, doc.operations, url,
                                 _crawl_date(doc, story, rng), seed, {**doc.extra, "site_domain": doc.site_domain})
        except Exception:
            errs.append(_failure(f"{rec.key}#farm{i}"))
    return rows, errs


def _pick_donor(story: Story, rng: random.Random) -> Donor | None:
    """Another eligible page of the same split (same language preferred): its theme dresses the farm."""
    by_split = _STATE.get("donors", {}).get(split_of(story.key, _STATE["seed"]), [])
    cands = [d for d in by_split if d[1] == story.lang] if rng.random() < 0.7 else by_split
    cands = cands or by_split
    for _ in range(5):
        if not cands:
            return None
        key, _, dstory, html = cands[rng.randrange(len(cands))]
        if key != story.key:
            return Donor(dstory, html)
    return None


def _work(item: tuple[LegitRecord, Story, str]) -> tuple[list[dict], list[str]]:
    return _docs_for(*item)


# ----- build ---------------------------------------------------------------------------------------------

def _select(records: list[LegitRecord], limit: int | None) -> list[LegitRecord]:
    """All records, or ``limit`` of them spread evenly over the manifest (so every source is represented)."""
    if not limit or limit >= len(records):
        return records
    step = len(records) / limit
    return [records[int(i * step)] for i in range(limit)]


def _cache_path(params: dict) -> Path:
    key = hashlib.sha256(json.dumps({**params, "code": CODE_VERSION}, sort_keys=True).encode()).hexdigest()[:16]
    return build_dir() / "corpus" / f"corpus-{key}.parquet"


def build_corpus(root: str | Path | None = None, seed: int = 0, farms_per_page: int = 2, limit: int | None = None,
                 workers: int = 2, aug_prob: float = 0.5, url_none_prob: float = 0.12, cache: bool = True,
                 progress: bool = True) -> pd.DataFrame:
    """The labelled corpus as a DataFrame (columns: ``COLUMNS``), built or loaded from the cache.

    ``farms_per_page`` farm variants (distinct families) are made of every page with at least
    ``MIN_PARAGRAPHS`` prose paragraphs; ``aug_prob`` of those pages also get a hard-negative
    variant. ``url_none_prob`` of documents lose their URL so URL-less scoring is trained too.
    """
    root = Path(root) if root else corpus_dir()
    params = {"root": str(root.resolve()), "seed": seed, "farms_per_page": farms_per_page, "limit": limit,
              "aug_prob": aug_prob, "url_none_prob": url_none_prob}
    if not corpus_available(root):
        raise no_corpus(root)
    path = _cache_path(params)
    if cache and path.exists():
        return load_corpus(path)
    records = _select(list(iter_manifest(root)), limit)
    if not records:  # manifests whose pages are all missing
        raise no_corpus(root)
    errors: list[str] = []
    state = {"seed": seed, "params": params, "blocklist": fakes.load_blocklist_domains(str(root))}
    ctx = mp.get_context("fork")
    with ctx.Pool(workers, _init_worker, (state,)) if workers > 1 else _Inline(_init_worker, state) as pool:
        stories = []
        bar = progress_bar(total=2 * len(records), desc="corpus", disable=not progress)
        for rec, (story, html_or_error) in zip(records, pool.imap(_story_of, records, chunksize=8)):
            bar.update(1)
            if story is None:
                errors.append(html_or_error)
            else:
                stories.append((rec, story, html_or_error))
        state["pool"] = HeadlinePool.from_items([(s.key, s.lang, s.title) for _, s, _ in stories])
        donors: dict[str, list] = {}
        for _, s, h in stories:
            if eligible(s) and len(h) <= MAX_DONOR_CHARS:
                donors.setdefault(split_of(s.key, seed), []).append((s.key, s.lang, s, h))
        state["donors"] = donors  # workers are forked: inherited, not pickled
    rows: list[dict] = []
    with ctx.Pool(workers, _init_worker, (state,)) if workers > 1 else _Inline(_init_worker, state) as pool:
        for out, errs in pool.imap(_work, stories, chunksize=2):
            bar.update(1)
            rows.extend(out)
            errors.extend(errs)
        bar.update(len(records) - len(stories))
        bar.close()
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["crawl_date"] = pd.to_datetime(df["crawl_date"])
    df.attrs.update({"seed": seed, "code_version": CODE_VERSION, "params": params, "errors": errors[:50],
                     "n_errors": len(errors)})
    df.attrs["fingerprint"] = fingerprint(df, seed)
    if errors:
        lines = errors[0].strip().splitlines()  # see _failure: "<key>: Traceback ...", ..., "<Exception>: <message>"
        print(f"corpus: {len(errors)} page variant(s) failed and were left out, first: "
              f"{lines[0].split(': Traceback')[0]}: {lines[-1][:200]}", file=sys.stderr)
    if cache:
        save_corpus(df, path)
    return df


class _Inline:
    """Pool stand-in for workers=1 (debugging, profiling)."""

    def __init__(self, init, state):
        init(state)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, items, chunksize=1):
        return map(fn, items)


# ----- storage -------------------------------------------------------------------------------------------

_META_KEY = b"spamdetect.corpus"


def save_corpus(df: pd.DataFrame, path: str | Path) -> Path:
    """Write the corpus as parquet (zstd), its attrs (seed, params, fingerprint) in the file metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(df.attrs, default=str).encode()
    tmp = path.with_suffix(".tmp")
    pq.write_table(table.replace_schema_metadata(meta), tmp, compression="zstd")
    tmp.replace(path)
    return path


def load_corpus(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a corpus written by ``save_corpus`` (attrs restored)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=columns)
    df = table.to_pandas()
    raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    df.attrs = json.loads(raw) if raw else {}
    return df


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Document counts by variant, family and mode."""
    return df.groupby(["variant", "family", "mode"]).size().unstack("mode")


def main(argv: list[str] | None = None) -> None:
    import argparse

    ap = argparse.ArgumentParser(description="build the labelled spamdetect corpus")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--farms-per-page", type=int, default=2)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-cache", action="store_true")
    a = ap.parse_args(argv)
    df = build_corpus(seed=a.seed, farms_per_page=a.farms_per_page, limit=a.limit, workers=a.workers, cache=not a.no_cache)
    print(summary(df).to_string())
    print("fingerprint", df.attrs.get("fingerprint"))


if __name__ == "__main__":
    main()
