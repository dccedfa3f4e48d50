"""Domain and URL signals: what the address alone says about a page.

Content farms run on throw-away registrations: cheap TLDs, digit-and-hyphen labels
("best-news-24.xyz"), deep numeric paths, and pages whose title still names the publisher
they copied from rather than their own domain. None of these is a verdict (real sites use
.info and numeric article ids), so every feature is a number for the model to weigh.

Optional (``use_lists=True``): membership in public domain lists (content-farm blocklists,
reliable/unreliable news lists, a news-quality score), read once from
``corpus_dir()/domain-lists``; all NaN when the lists are absent or switched off.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import tldextract

from spamdetect.config import corpus_dir
from spamdetect.domains import split_host
from spamdetect.page import Page

FEATURES: tuple[str, ...] = (
    "domain.cheap_tld",
    "domain.host_is_ip",
    "domain.subdomain_depth",
    "domain.label_digits",
    "domain.label_hyphens",
    "domain.label_length",
    "domain.site_name_match",
    "domain.path_depth",
    "domain.numeric_slug",
    "domain.html_ending",
    "domain.query_length",
    "domain.in_farm_list",
    "domain.in_unreliable_list",
    "domain.in_reliable_list",
    "domain.quality_pc1",
)

NAN = float("nan")

# TLDs with a high share of abusive/spam registrations and near-free pricing, after the
# Spamhaus "most abused TLDs" tables and Interisle's phishing-landscape reports (2020-2024).
# Deliberately excludes ccTLDs with large legitimate use (cn, ru, in) and .news/.media.
CHEAP_TLDS = frozenset("""
    xyz top club online site info buzz icu live shop store fun space website tk ml ga cf gq
    pw rest bid win loan work click link monster cyou sbs cfd bond quest lol today vip ltd
    life world best beauty hair skin makeup mom uno country stream download racing review
    date faith party trade science accountant cricket men gdn host press biz ws su cam
""".split())

_WWW = re.compile(r"^www\d*$")
_HOST = re.compile(r"^[\w.\-\[\]:]+$")
_HTML_END = re.compile(r"\.s?html?$", re.I)
_EXT = re.compile(r"\.[a-z0-9]{1,5}$", re.I)
# Separators between a headline and the site name in <title>; "|" also without spaces.
_TITLE_SEP = re.compile(r"\s+[-–—·•»:]\s+|\s*\|\s*|\s+::\s+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")
_WORDS = re.compile(r"\w+")
_UMLAUT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def features(page: Page, *, use_lists: bool = False, min_name_chars: int = 3) -> dict[str, float]:
    """Domain/URL features of ``page`` (NaN without a URL; list features NaN unless ``use_lists``)."""
    out = dict.fromkeys(FEATURES, NAN)
    url = (page.url or "").strip()
    if not url:
        return out
    try:
        parts = urlsplit(url if "//" in url else "//" + url)
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:  # e.g. a malformed IPv6 literal
        return out
    if not _HOST.match(host):  # not a host name at all ("not a url", "a b")
        return out

    out.update(_path_features(parts.path, parts.query))
    if _is_ip(host):
        out["domain.host_is_ip"] = 1.0
        return out
    out["domain.host_is_ip"] = 0.0

    sub, label, suffix = split_host(host)
    out["domain.cheap_tld"] = float(suffix.rsplit(".", 1)[-1] in CHEAP_TLDS) if suffix else NAN
    out["domain.subdomain_depth"] = float(sum(1 for s in sub.split(".") if s and not _WWW.match(s)))
    if label:
        bare = label[4:] if label.startswith("xn--") else label  # punycode prefix is not a hyphen choice
        out["domain.label_digits"] = float(sum(c.isdigit() for c in bare))
        out["domain.label_hyphens"] = float(bare.count("-"))
        out["domain.label_length"] = float(len(label))
        # a site on a subdomain ("netzfueralle.blog.rosalux.de") may name itself after it
        names = [label] + [s for s in sub.split(".") if len(s) >= 4 and not _WWW.match(s)]
        out["domain.site_name_match"] = site_name_match(page, names, min_chars=min_name_chars)
    if use_lists:
        out.update(list_features(host))
    return out


# ----- URL path ----------------------------------------------------------------------------

def _path_features(path: str, query: str) -> dict[str, float]:
    segments = [s for s in path.split("/") if s]
    slug = _EXT.sub("", segments[-1]) if segments else ""
    return {
        "domain.path_depth": float(len(segments)),
        "domain.numeric_slug": float(slug.isascii() and slug.isdigit()),
        "domain.html_ending": float(bool(_HTML_END.search(path))),
        "domain.query_length": float(len(query)),
    }


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


# ----- title site name vs domain ----------------------------------------------------------

def site_name_candidates(page: Page) -> list[str]:
    """Names the page gives itself: og:site_name / application-name, and the outer title segments."""
    names = [page.meta.get("og:site_name", ""), page.meta.get("application-name", "")]
    segments = [s for s in _TITLE_SEP.split(page.title[:300]) if s.strip()]
    if len(segments) >= 2:  # the site name sits at either end: "Story | Site" or "Site - Story"
        names += [segments[-1], segments[0]]
    return [n for n in names if n]


def _letters(s: str) -> list[str]:
    """ASCII letter/digit forms of ``s``: umlauts spelled out ("sueddeutsche") and stripped ("suddeutsche")."""
    out = []
    for variant in (s.translate(_UMLAUT), s):
        folded = unicodedata.normalize("NFKD", variant).encode("ascii", "ignore").decode().lower()
        out.append(_NOT_ALNUM.sub("", folded))
    return out


def _name_score(name: str, label: str) -> float:
    """1.0 when one contains the other, else the longest common run as a share of the label."""
    if name in label or label in name:
        return 1.0
    # Longest common substring: a run of length k exists if one of k+1 does, so binary-search k
    # with ``in`` tests of the label's runs (C string search, not a Python DP over both strings).
    lo, hi = 0, min(len(name), len(label))
    while lo < hi:
        k = (lo + hi + 1) // 2
        if any(label[j:j + k] in name for j in range(len(label) - k + 1)):
            lo = k
        else:
            hi = k - 1
    return lo / len(label)


def site_name_match(page: Page, labels: list[str], *, min_chars: int = 3) -> float:
    """How well the page's own site name matches one of its host labels, in [0, 1]; NaN if it names none."""
    labels = [x for x in (_NOT_ALNUM.sub("", lab.lower()) for lab in labels) if len(x) >= 2]
    scores = []
    for name in site_name_candidates(page):
        forms = [f for f in _letters(name[:80]) if len(f) >= min_chars]
        initials = "".join(w[0] for w in _WORDS.findall(name.lower()) if w[0].isascii())
        for label in labels:
            scores.extend(_name_score(f, label) for f in forms)
            if len(initials) >= 2 and initials == label:  # "Neue Zürcher Zeitung" -> nzz.ch
                scores.append(0.9)
    return max(scores) if scores else NAN


# ----- public domain lists ------------------------------------------------------------------

@dataclass
class DomainLists:
    """Hosts by list; values are the membership strength (broad lists count half)."""

    farm: dict[str, float] = field(default_factory=dict)
    unreliable: set[str] = field(default_factory=set)
    reliable: set[str] = field(default_factory=set)
    pc1: dict[str, float] = field(default_factory=dict)


def _plain_entries(path: Path) -> list[str]:
    """Domain entries of an adblock-style list; /regex/ lines and path-specific entries are skipped."""
    out = []
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line[0] in "#!/[":
            continue
        token = line.split()[0].lower()
        if token.startswith("*://"):  # uBlock data files: *://domain/*
            token = token[4:].rstrip("/*")
        if "/" in token or ":" in token:
            continue
        out.append(token.removeprefix("www."))
    return out


# opensources types that mean "do not trust the facts here" (bias/political/satire do not).
_OPENSOURCES_BAD = {"fake", "fake news", "conspiracy", "unreliable", "junksci", "hate", "rumor", "clickbait"}


@lru_cache(maxsize=4)
def load_domain_lists(root: Path) -> DomainLists | None:
    """Read the lists under ``root`` once; None when the folder is absent."""
    if not root.is_dir():
        return None
    lists = DomainLists()
    cft = root / "content-farm-terminator"
    # Broad lists (whole platforms such as tumblr.com) count half; the allowlist counts zero
    # and, being most specific-first, overrides a farm entry for the same host.
    for name, weight in (("blocklist/extra-content-farms.txt", 0.5), ("blocklist/nearly-content-farms.txt", 0.5),
                         ("src-blocklist/content-farms-inactive.txt", 1.0), ("blocklist/content-farms.txt", 1.0),
                         ("blocklist/bad-cloners.txt", 1.0), ("src-blocklist/not-content-farms.txt", 0.0)):
        for d in _plain_entries(cft / name):
            lists.farm[d] = weight
    for d in _plain_entries(root / "uBlock-Origin-dev-filter" / "dist" / "other_format" / "domains" / "all.txt"):
        lists.farm.setdefault(d, 1.0)
    for name in ("blocklist/fake-news.txt", "blocklist/scam-sites.txt"):
        lists.unreliable.update(_plain_entries(cft / name))
    mmm = root / "machine-made-media"
    lists.unreliable.update(_plain_entries(mmm / "unreliable_domains.txt"))
    lists.reliable.update(_plain_entries(mmm / "reliable_domains.txt"))
    src = root / "opensources" / "sources.json"
    if src.exists():
        for key, info in json.loads(src.read_text(encoding="utf-8")).items():
            host, _, path = key.strip().lower().removeprefix("www.").partition("/")
            if path.strip("/#") or not host:  # section-specific entries (cato.org/blog) would taint a site
                continue
            types = {str(info.get(k, "")).strip().lower() for k in ("type", "2nd type", "3rd type")}
            if types & _OPENSOURCES_BAD:
                lists.unreliable.add(host)
            elif "reliable" in types:
                lists.reliable.add(host)
    pc1 = root / "domain-quality-ratings" / "domain_pc1.csv"
    if pc1.exists():
        with pc1.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                try:
                    lists.pc1[row["domain"].strip().lower().removeprefix("www.")] = float(row["pc1"])
                except (KeyError, ValueError, AttributeError):
                    continue
    return lists


# Lists name user sites on hosting platforms ("x.blogspot.com"); with the PSL private section,
# such a host stops at its own name instead of inheriting the platform's entry (blogspot.com).
_PRIVATE_AWARE = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=65536)
def _host_chain(host: str) -> tuple[str, ...]:
    """Host and its parents down to the registrable domain, most specific first, plus 'name.*' forms."""
    host = host.removeprefix("www.")
    ext = _PRIVATE_AWARE(host)
    if not ext.domain:
        return (host,)
    floor = (ext.top_domain_under_public_suffix if hasattr(ext, "top_domain_under_public_suffix")
             else ext.registered_domain)  # tldextract < 5.3
    if not floor:  # no public suffix ("localhost", intranet names)
        return (host,)
    labels = host.split(".")
    chain = [".".join(labels[i:]) for i in range(len(labels)) if len(".".join(labels[i:])) >= len(floor)]
    # content-farm-terminator writes some entries with a wildcard TLD: "name.blogspot.*"
    icann_suffix = split_host(host)[2]
    if icann_suffix:
        chain += [h[: -len(icann_suffix)] + "*" for h in chain if h.endswith("." + icann_suffix)]
    return tuple(chain)


def list_features(host: str, root: Path | None = None) -> dict[str, float]:
    """List-membership features of a host; all NaN when the lists are not available."""
    keys = ("domain.in_farm_list", "domain.in_unreliable_list", "domain.in_reliable_list", "domain.quality_pc1")
    lists = load_domain_lists((root or corpus_dir()) / "domain-lists")
    if lists is None:
        return dict.fromkeys(keys, NAN)
    chain = _host_chain(host.lower())
    farm = next((lists.farm[h] for h in chain if h in lists.farm), 0.0)
    return {
        "domain.in_farm_list": farm,
        "domain.in_unreliable_list": float(any(h in lists.unreliable for h in chain)),
        "domain.in_reliable_list": float(any(h in lists.reliable for h in chain)),
        "domain.quality_pc1": next((lists.pc1[h] for h in chain if h in lists.pc1), NAN),
    }
