"""Site verdicts: page scores aggregated by site (registrable domain), a sites table, a blocklist.

Content farms are sites, so ingestion filters want a verdict per site, not just per page.
``spamdetect sites SCORES... -o sites.csv`` streams score files written by ``spamdetect score``
(JSONL, optionally gzipped, CSV or Parquet), groups pages by registrable domain and writes one
row per site: pages, scored, errors, flagged, trust mean and p10/p50/p90, flagged share, the most
common reason kinds, a label and its confidence.

Site = registrable domain under the public suffix list *including its private section*
(tldextract, offline snapshot): ``news.bbc.co.uk`` -> ``bbc.co.uk``, but ``a.blogspot.com`` and
``b.blogspot.com`` are two sites, since different people own them (the public section alone
would merge every Blogger, GitHub Pages or Netlify site into one).

The label rule (Beta-Binomial). A site's pages are draws of "flagged by the page model"
(page label ``farm``) with an unknown flagged share ``s``. With ``k`` flagged of ``n`` scored
pages and a Beta(a, b) prior, the posterior is Beta(a + k, b + n - k). Then:

* ``farm``   when P(s > 0.5) >= threshold; confidence = P(s > 0.5)
* ``legit``  when P(s < 0.5) >= threshold; confidence = P(s < 0.5)
* ``mixed``  when neither, but P(0.2 <= s <= 0.8) >= threshold: both kinds in earnest numbers
  (e.g. a real site hosting a farm section); confidence = that probability
* ``unknown`` otherwise (too few pages to tell) or with no scored page; confidence empty.

``p_farm`` = P(s > 0.5) is always given. Evidence grows with the page count: with the default
uniform prior Beta(1, 1) and threshold 0.9, one flagged page of one gives P = 0.75 (unknown),
3 of 3 gives 0.94 (farm), 8 of 10 gives 0.97, 40 of 50 gives 1.0 - 1e-6; a clean site needs 3
scored pages to be called legit. The page model's own false-positive rate (under 1%) leaves a
large legit site far from 0.5. ``--prior base-rate`` uses Beta(2r, 2(1 - r)) instead, with ``r``
the flagged share of all pages in the input: two pseudo-pages at the crawl's base rate, so in a
crawl where farms are rare a single flagged page is weaker evidence still. The uniform prior
keeps a site's verdict independent of what else is in the input, which a blocklist wants.

Blocklist: farm sites with confidence >= ``--block-confidence`` and at least ``--min-pages``
scored pages, one registrable domain per line, sorted, after ``#`` comment lines saying how it
was made (hosts-style, Pi-hole, Squid ``dstdomain`` files, uBlock/AdGuard lists and most
ingestion filters skip ``#`` lines; ``--no-blocklist-header`` leaves them out). A consumer must
match subdomains too: ``farm.com`` stands for ``www.farm.com`` and ``news.farm.com``.

Memory is proportional to the number of sites: per site a few counters, a reason-kind counter and
at most ``QUANTILE_SAMPLE`` trust values (a reservoir sample, Vitter's algorithm R, seeded): the
quantiles are exact for sites with up to that many scored pages and sampled estimates above it
(standard error of p10 about 0.01 in rank).
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import re
import sys
import time
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from scipy.special import betainc

from spamdetect.domains import split_host
from spamdetect.readers import output_is_input
from spamdetect.score_files import UNREADABLE, check_score_file, iter_score_rows, table_format

FARM = "farm"  # the page label ``spamdetect score`` gives flagged pages
SITE_LABELS = ("farm", "mixed", "unknown", "legit")  # also the sort order of the sites table
FARM_CUT = 0.5  # a farm site: more than half its pages flagged
MIXED_RANGE = (0.2, 0.8)
DEFAULT_THRESHOLD = 0.9
DEFAULT_BLOCK_CONFIDENCE = 0.95
DEFAULT_MIN_PAGES = 3
QUANTILE_SAMPLE = 1000  # trust values kept per site for its quantiles
TOP_REASONS = 3
# Reasons that say nothing about farming: the legit filler and notes about the input record.
_NOT_REASONS = ("no strong content-farm signs",)
_NOTE_PREFIX = "note:"
MAX_KIND_CHARS = 80
SITE_COLUMNS = ["domain", "pages", "scored", "errors", "flagged", "trust_mean", "trust_p10", "trust_p50", "trust_p90",
                "flagged_share", "top_reasons", "label", "confidence", "p_farm"]

# scheme://[user@]host[:port] followed by / ? # or the end; anything else (IPv6, oddities) goes to urlsplit
_PLAIN_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^/?#@\[\]\s]*@)?([^/?#:@\[\]\s]+)(?::\d*)?(?:[/?#]|$)")
_OTHER_SCHEME = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*:(?!\d)")  # 'mailto:x', but not 'host:8080'


# ----- sites and reasons ---------------------------------------------------------------------

def site_of(url: Any) -> str | None:
    """The site (registrable domain, lower case) of a URL; None when there is no usable host."""
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    fast = _PLAIN_URL.match(url)
    if fast:  # the common case, without urlsplit's cost (a third of the run time on millions of rows)
        return _site_of_host(fast.group(1).lower().rstrip("."))
    if "//" not in url:
        if _OTHER_SCHEME.match(url):  # mailto:, javascript:, data: ... have no host
            return None
        url = "//" + url  # a bare host or host/path
    try:
        host = urlsplit(url).hostname
    except ValueError:  # e.g. an unbalanced '[' in the netloc
        return None
    return _site_of_host(host.rstrip(".")) if host else None


@lru_cache(maxsize=262144)
def _site_of_host(host: str) -> str | None:
    if any(c.isspace() for c in host):
        return None
    try:
        return str(ipaddress.ip_address(host))  # an IP address is a site of its own
    except ValueError:
        pass
    # private=True: each blog on blogspot.com, github.io, ... is a site of its own
    _, domain, suffix = split_host(host, private=True)
    if domain and suffix:
        return f"{domain}.{suffix}"
    if suffix:  # the host is a suffix itself (blogspot.com): the platform's own site
        return suffix
    return domain or None  # single-label hosts (intranet names) are sites of their own


def reason_kind(reason: Any) -> str | None:
    """The family of a page reason: the text before ':' ("Link lists: 25 of 29 ..." -> "Link lists").

    Reasons are page-specific sentences; their lead names the signal family. None for fillers
    ("no strong content-farm signs") and input notes ("note: ..."), which say nothing about farming.
    """
    if not isinstance(reason, str):
        return None
    text = reason.strip()
    if not text or text in _NOT_REASONS or text.lower().startswith(_NOTE_PREFIX):
        return None
    kind = text.split(":", 1)[0].strip()[:MAX_KIND_CHARS]
    return sys.intern(kind) if kind else None  # one string per kind, not one per site that names it


# ----- aggregation ---------------------------------------------------------------------------

class SiteStats:
    """Running figures for one site; memory bounded by QUANTILE_SAMPLE trust values."""

    __slots__ = ("pages", "scored", "errors", "flagged", "trust_sum", "sample", "reasons")

    def __init__(self) -> None:
        self.pages = self.scored = self.errors = self.flagged = 0
        self.trust_sum = 0.0
        self.sample = array("f")
        self.reasons: Counter[str] | None = None  # created on the first reason: most sites of a crawl have none


def _valid_trust(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if 0.0 <= value <= 1.0 else None  # NaN fails both comparisons


@dataclass
class Totals:
    """Counts over every input row."""

    rows: int = 0
    scored: int = 0
    errors: int = 0  # error rows, unreadable rows and rows without a usable trust
    flagged: int = 0
    without_site: int = 0  # no url, or a url without a usable host: in the totals, in no site
    unreadable: int = 0
    inputs: list[str] = field(default_factory=list)


class SiteAggregator:
    """Feed score rows with ``add``; ``result()`` gives the sites table and the report's data."""

    def __init__(self, sample_size: int = QUANTILE_SAMPLE, seed: int = 0) -> None:
        self.sites: dict[str, SiteStats] = {}
        self.totals = Totals()
        self.reason_pages = {True: Counter(), False: Counter()}  # kind -> pages, on flagged / other pages
        self._sample_size = sample_size
        self._rng = random.Random(seed)

    def add(self, row: dict) -> None:
        t = self.totals
        t.rows += 1
        if str(row.get("error") or "").startswith(UNREADABLE):
            t.unreadable += 1
        domain = site_of(row.get("url"))
        site = None
        if domain is None:
            t.without_site += 1
        else:
            site = self.sites.get(domain)
            if site is None:
                site = self.sites[domain] = SiteStats()
            site.pages += 1
        trust = _valid_trust(row.get("trust"))
        if row.get("error") or trust is None:
            t.errors += 1
            if site is not None:
                site.errors += 1
            return
        flagged = row.get("label") == FARM
        t.scored += 1
        t.flagged += flagged
        kinds = {k for k in map(reason_kind, row.get("reasons") or ()) if k}  # a page counts once per kind
        self.reason_pages[flagged].update(kinds)
        if site is None:
            return
        site.scored += 1
        site.flagged += flagged
        site.trust_sum += trust
        if len(site.sample) < self._sample_size:
            site.sample.append(trust)
        else:  # reservoir sampling: every scored page has the same chance to be kept
            j = self._rng.randrange(site.scored)
            if j < self._sample_size:
                site.sample[j] = trust
        if kinds:
            if site.reasons is None:
                site.reasons = Counter()
            site.reasons.update(kinds)

    def add_all(self, rows: Iterable[dict]) -> None:
        for row in rows:
            self.add(row)

    def result(self, threshold: float = DEFAULT_THRESHOLD, prior: str = "uniform") -> "SiteResult":
        """The sites table (farm sites first), with the report's histogram and reason counts."""
        a, b = prior_params(prior, self.totals.flagged, self.totals.scored)
        domains = list(self.sites)
        stats = [self.sites[d] for d in domains]
        scored = np.array([s.scored for s in stats], dtype=float)
        flagged = np.array([s.flagged for s in stats], dtype=float)
        labels, confidence, p_farm = site_verdicts(flagged, scored, a, b, threshold)
        values, lengths = _samples(stats)
        quantiles = _grouped_quantiles(values, lengths, (0.1, 0.5, 0.9))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.array([s.trust_sum for s in stats], dtype=float) / scored
            share = flagged / scored
        frame = pd.DataFrame({
            "domain": domains,
            "pages": np.array([s.pages for s in stats], dtype=np.int64),
            "scored": scored.astype(np.int64),
            "errors": np.array([s.errors for s in stats], dtype=np.int64),
            "flagged": flagged.astype(np.int64),
            "trust_mean": mean.round(4),
            "trust_p10": quantiles[:, 0].round(4), "trust_p50": quantiles[:, 1].round(4),
            "trust_p90": quantiles[:, 2].round(4),
            "flagged_share": share.round(4),
            "top_reasons": [format_reasons(s.reasons) for s in stats],
            "label": labels,
            "confidence": confidence.round(6),
            "p_farm": p_farm.round(6),
        }, columns=SITE_COLUMNS)
        frame["_rank"] = frame["label"].map({lab: i for i, lab in enumerate(SITE_LABELS)})
        frame = (frame.sort_values(["_rank", "p_farm", "pages", "domain"], ascending=[True, False, False, True],
                                   na_position="last")
                 .drop(columns="_rank").reset_index(drop=True))
        label_index = {lab: i for i, lab in enumerate(SITE_LABELS)}
        site_label = np.array([label_index[lab] for lab in labels], dtype=np.int64)
        return SiteResult(frame, self.totals, _trust_histograms(values, lengths, scored, site_label), self.reason_pages,
                          {"threshold": threshold, "prior": prior, "prior_a": a, "prior_b": b})


def _samples(stats: list[SiteStats]) -> tuple[np.ndarray, np.ndarray]:
    """Every site's kept trust values, concatenated in site order, and how many each site kept."""
    joined = array("f")
    for s in stats:
        joined.extend(s.sample)
    lengths = np.fromiter((len(s.sample) for s in stats), dtype=np.int64, count=len(stats))
    return np.frombuffer(joined, dtype=np.float32).astype(float), lengths


def _grouped_quantiles(values: np.ndarray, lengths: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Per-group quantiles (numpy's default, linear interpolation) of consecutive groups of ``values``,
    all groups at once: one sort instead of a numpy call per site. NaN for empty groups."""
    out = np.full((len(lengths), len(qs)), np.nan)
    if not len(values):
        return out
    groups = np.repeat(np.arange(len(lengths)), lengths)
    ordered = values[np.lexsort((values, groups))]
    starts = np.cumsum(lengths) - lengths
    has = lengths > 0
    n, start = lengths[has], starts[has]
    for j, q in enumerate(qs):
        pos = q * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n - 1)
        low_v, high_v = ordered[start + lo], ordered[start + hi]
        out[has, j] = low_v + (high_v - low_v) * (pos - lo)
    return out


def _trust_histograms(values: np.ndarray, lengths: np.ndarray, scored: np.ndarray, site_label: np.ndarray,
                      bins: int = 40) -> dict[str, np.ndarray]:
    """Page trust histogram per site label, from the per-site samples (each value weighted by
    scored / kept, so sites above the sample cap count with all their pages)."""
    weight = np.repeat(scored / np.maximum(lengths, 1), lengths)
    which = np.clip((values * bins).astype(np.int64), 0, bins - 1)  # trust 1.0 falls in the last bin
    counts = np.bincount(np.repeat(site_label, lengths) * bins + which, weights=weight,
                         minlength=len(SITE_LABELS) * bins).reshape(len(SITE_LABELS), bins)
    return {lab: counts[i] for i, lab in enumerate(SITE_LABELS)}


@dataclass
class SiteResult:
    """What one run produced: the sites table, the totals and the report's data."""

    sites: pd.DataFrame
    totals: Totals
    trust_hist: dict[str, np.ndarray]  # site label -> page counts in 40 equal trust bins over [0, 1]
    reason_pages: dict[bool, Counter]  # flagged? -> reason kind -> pages
    rule: dict

    def label_counts(self) -> dict[str, int]:
        counts = self.sites["label"].value_counts()
        return {lab: int(counts.get(lab, 0)) for lab in SITE_LABELS}


def format_reasons(counter: Counter | None, top: int = TOP_REASONS) -> str:
    """'Link lists (12); Template (3)': the most common reason kinds with their page counts."""
    if not counter:
        return ""
    return "; ".join(f"{kind} ({n})" for kind, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top])


# ----- the rule ------------------------------------------------------------------------------

def prior_params(prior: str, flagged: int, scored: int) -> tuple[float, float]:
    """Beta prior: uniform Beta(1, 1), or 'base-rate' Beta(2r, 2(1-r)) with r the input's flagged share."""
    if prior == "uniform":
        return 1.0, 1.0
    if prior == "base-rate":
        r = min(max(flagged / scored if scored else 0.5, 1e-3), 1 - 1e-3)  # a Beta parameter must stay > 0
        return 2 * r, 2 * (1 - r)
    raise ValueError(f"unknown prior {prior!r} (expected 'uniform' or 'base-rate')")


def site_verdicts(flagged: np.ndarray, scored: np.ndarray, a: float = 1.0, b: float = 1.0,
                  threshold: float = DEFAULT_THRESHOLD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(label, confidence, p_farm) per site from flagged / scored page counts (see the module doc)."""
    flagged, scored = np.asarray(flagged, dtype=float), np.asarray(scored, dtype=float)
    post_a, post_b = a + flagged, b + scored - flagged
    cdf_cut = betainc(post_a, post_b, FARM_CUT)  # P(s <= 0.5)
    p_farm, p_legit = 1.0 - cdf_cut, cdf_cut
    p_mixed = betainc(post_a, post_b, MIXED_RANGE[1]) - betainc(post_a, post_b, MIXED_RANGE[0])
    none = scored == 0
    labels = np.select([none, p_farm >= threshold, p_legit >= threshold, p_mixed >= threshold],
                       ["unknown", "farm", "legit", "mixed"], default="unknown").astype(object)
    confidence = np.select([labels == "farm", labels == "legit", labels == "mixed"], [p_farm, p_legit, p_mixed],
                           default=np.nan)
    return labels, confidence, np.where(none, np.nan, p_farm)


def blocklist_domains(sites: pd.DataFrame, min_confidence: float = DEFAULT_BLOCK_CONFIDENCE,
                      min_pages: int = DEFAULT_MIN_PAGES) -> list[str]:
    """Sorted farm domains with confidence >= ``min_confidence`` and >= ``min_pages`` scored pages."""
    keep = (sites["label"] == "farm") & (sites["confidence"] >= min_confidence) & (sites["scored"] >= min_pages)
    return sorted(sites.loc[keep, "domain"])


# ----- writing -------------------------------------------------------------------------------

def write_sites(sites: pd.DataFrame, path: str) -> None:
    """The sites table as CSV (also for '-': stdout), JSONL or Parquet, by suffix."""
    fmt = "csv" if path == "-" else table_format(path)
    if fmt == "parquet":
        sites.to_parquet(path, index=False)
    elif fmt == "jsonl":
        sites.to_json(path, orient="records", lines=True, force_ascii=False)
    elif path == "-":
        sites.to_csv(sys.stdout, index=False)
    else:
        sites.to_csv(path, index=False)


def write_blocklist(domains: list[str], path: str, header: list[str] | None = None) -> None:
    """One domain per line; ``header`` lines are written as '# ' comments first."""
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for line in header or ():
            fh.write(f"# {line}\n")
        for domain in domains:
            fh.write(domain + "\n")


def aggregate_files(paths: list[str], sample_size: int = QUANTILE_SAMPLE) -> SiteAggregator:
    """Stream every score file into one aggregator (all are checked before the first is read)."""
    for path in paths:
        check_score_file(path, "spamdetect sites")
    agg = SiteAggregator(sample_size=sample_size)
    for path in paths:
        agg.totals.inputs.append(path)
        agg.add_all(iter_score_rows(path))
    return agg


def cli_main(args: argparse.Namespace) -> int:
    """``spamdetect sites``: sites table, and optionally the HTML report and the blocklist."""
    started = time.perf_counter()
    for output in (args.output, args.html, args.blocklist):
        if output and output_is_input(output, args.scores):
            print(f"spamdetect sites: {'standard output' if output == '-' else output} is also an input: "
                  "write the sites to another file", file=sys.stderr)
            return 2
    try:
        if args.output != "-":
            table_format(args.output)  # fail before reading millions of rows, not after
        agg = aggregate_files(args.scores)
        result = agg.result(threshold=args.threshold, prior=args.prior)
    except (OSError, ValueError) as exc:
        print(f"spamdetect sites: {exc}", file=sys.stderr)
        return 2
    t, counts = result.totals, result.label_counts()
    blocked: list[str] = []
    try:
        write_sites(result.sites, args.output)
        if args.blocklist:
            blocked = blocklist_domains(result.sites, args.block_confidence, args.min_pages)
            header = [f"spamdetect sites {datetime.now(timezone.utc):%Y-%m-%dT%H:%M:%SZ}: {len(blocked)} farm sites "
                      f"(site label farm, confidence >= {args.block_confidence}, scored pages >= {args.min_pages}; "
                      f"{args.prior} prior, label threshold {args.threshold})",
                      f"from {t.rows} score rows in {len(t.inputs)} file(s); registrable domains: match subdomains too"]
            write_blocklist(blocked, args.blocklist, header if args.blocklist_header else None)
        if args.html:
            from spamdetect.site_report import write_report

            write_report(result, args.html, max_rows=args.report_rows)
    except BrokenPipeError:  # -o - | head: cli.main ends quietly
        raise
    except OSError as exc:  # a missing directory, a full disk: one line, not a traceback
        print(f"spamdetect sites: cannot write: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"sites: {len(result.sites)} sites from {t.rows} rows ({t.scored} scored, {t.errors} errors, "
          f"{t.without_site} without a site{f', {t.unreadable} unreadable' if t.unreadable else ''}): "
          f"{counts['farm']} farm, {counts['mixed']} mixed, {counts['legit']} legit, {counts['unknown']} unknown"
          f"{f'; {len(blocked)} blocklisted' if args.blocklist else ''}; {elapsed:.1f}s", file=sys.stderr)
    return 0
