"""Headline signals: spun or doctored titles.

Farms rewrite the headline they take (paraphrase tools, a "(2024)" suffix, a copied site-name
suffix from the original publisher) and often leave the <title>, <h1> and og:title out of step.
All features are numbers for the model; none is a verdict on its own.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import compress
from pathlib import Path

from spamdetect.domains import split_host
from spamdetect.page import Page, words

FEATURES: tuple[str, ...] = (
    "headline.title_h1_jaccard",  # token Jaccard, title (site suffix removed) vs first <h1>
    "headline.title_og_jaccard",  # ... vs og:title
    "headline.h1_og_jaccard",  # <h1> vs og:title
    "headline.year_suffix",  # 1 when title/h1/og:title ends in "(2024)", "[2025]", "- 2024"
    "headline.site_suffix",  # 1 when the title has a "| Site" / "- Site" segment
    "headline.site_suffix_mismatch",  # 1 when no title segment names the page's domain
    "headline.title_words",  # words in the title without its site suffix
    "headline.title_case_share",  # share of cased title words that start upper-case
    "headline.clickbait",  # clickbait markers in the title
    "headline.template_leak",  # leaked template text in the title
    "headline.rare_word_share",  # share of English title words outside the common-word list
    "headline.spinner_in_title",  # spinner phrases in title + h1 + og:title
    "headline.spinner_per_1k",  # spinner phrases per 1000 words of main_text
)

NAN = float("nan")
_DATA = Path(__file__).resolve().parents[1] / "data"
_MAX_BODY_CHARS = 200_000  # spinner scan cap: a phrase rate is stable long before that

_YEAR_SUFFIX = re.compile(r"(?:\(\s*(?:19|20)\d\d\s*\)|\[\s*(?:19|20)\d\d\s*\]|\s[-–—|:]\s*(?:19|20)\d\d)\s*$")
# Site-name separators must be spaced: "COVID-19" or "well-known" are not separators.
_SEPARATOR = re.compile(r"\s+(?:[|·•»:]{1,2}|[-–—]{1,2}|/)\s+")
_LETTERS = re.compile(r"[^a-z0-9]+")
_TLD_TAIL = re.compile(r"\.(?:com|net|org|de|at|ch|co\.uk|uk|fr|es|it|info|online)\s*$", re.IGNORECASE)
_ARCHIVE = re.compile(r"^https?://web\.archive\.org/web/[^/]+/(.+)$")
_ARTICLES = frozenset("the a der die das le la les el los".split())
_GENERIC_SUBDOMAINS = {"www", "m", "amp", "mobile", "news", "en", "de", "fr", "es", "blog", "blogs"}

_CLICKBAIT = re.compile(
    r"you won'?’?t believe|here'?’?s (?:why|what|how)|here is (?:why|what|how)|everything you need to know|"
    r"(?:what|all) you need to know|will (?:shock|surprise|amaze|blow your mind)|what happen(?:s|ed) next|"
    r"\bthis is (?:why|what|how)\b|the (?:real )?reason why|you(?:'ll|’ll| will) never guess|"
    r"\b(?:shocking|jaw-dropping|mind-blowing|unbelievable|incredible)\b|goes viral|"
    r"(?:doctors|experts) hate|one (?:weird|simple) trick|"
    r"^\s*\d{1,3}\s+(?:\w+\s+){0,3}(?:things|ways|reasons|tips|facts|signs|photos|pictures|secrets|tricks|"
    r"mistakes|places|ideas|times|celebrities|foods)\b|\b(?:top|best)\s+\d{1,3}\b|"
    r"das (?:müssen|sollten) sie wissen|alles,? was sie (?:wissen|über)|so (?:einfach|schnell) geht|unglaublich",
    re.IGNORECASE,
)
_TEMPLATE_ANYWHERE = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|%(?:title|post_title|sitename|site_name|keyword|name)%|\[(?:title|keyword|post_title)\]|"
    r"\$\{?title\}?|just another wordpress site|lorem ipsum|\buntitled\b|\bpost title\b|\bpage title\b",
    re.IGNORECASE,
)
_TEMPLATE_WHOLE = re.compile(
    r"^(?:home|homepage|home page|startseite|title|sample page|hello world!?|new page|my blog|blog title|"
    r"site title|document|index|default|null|none|undefined)$",
    re.IGNORECASE,
)
_EN_FUNCTION = frozenset("the and of to in is that for it with was on as are be by at from this has have".split())


def features(page: Page, *, min_title_words: int = 3, min_body_words: int = 50,
             english_min_function_share: float = 0.12) -> dict[str, float]:
    """Headline features of ``page`` (see FEATURES); NaN where the page cannot tell."""
    title = page.title[:500]
    h1 = page.h1[:500] if page.is_html else None
    og = page.meta.get("og:title", "")[:500] if page.is_html else None
    segments = _SEPARATOR.split(title)
    core = _title_core(segments)
    core_words = words(core)
    heads = [x for x in (title, core, h1, og) if x]

    out = dict.fromkeys(FEATURES, NAN)
    out["headline.title_h1_jaccard"] = _jaccard(core, h1)
    out["headline.title_og_jaccard"] = _jaccard(core, og)
    out["headline.h1_og_jaccard"] = _jaccard(h1, _title_core(_SEPARATOR.split(og)) if og else og)
    if not title:
        return out

    out["headline.year_suffix"] = float(any(_YEAR_SUFFIX.search(x) for x in heads))
    has_suffix = len(segments) > 1 and not _YEAR_SUFFIX.fullmatch(" - " + segments[-1])
    out["headline.site_suffix"] = float(has_suffix)
    if page.url and has_suffix and _site_candidate(segments[-1]):
        out["headline.site_suffix_mismatch"] = float(not any(_names_site(s, page.url) for s in segments))
    out["headline.title_words"] = float(len(core_words))
    out["headline.title_case_share"] = _title_case_share(core, min_title_words)
    out["headline.clickbait"] = float(len(_CLICKBAIT.findall(core)))
    out["headline.template_leak"] = float(len(_TEMPLATE_ANYWHERE.findall(title))
                                          + bool(_TEMPLATE_WHOLE.match(core.strip(" .:-|"))))

    body = page.main_text[:_MAX_BODY_CHARS]
    body_words = page.story_words(_MAX_BODY_CHARS)
    if _is_english(page, core_words + body_words[:400], english_min_function_share):
        out["headline.rare_word_share"] = _rare_share(core_words, min_title_words)
        out["headline.spinner_in_title"] = float(sum(spinner_count(x) for x in {core, h1 or "", og or ""} if x))
        if len(body_words) >= min_body_words:
            out["headline.spinner_per_1k"] = 1000.0 * spinner_count(body, body_words) / len(body_words)
    return out


# ----- titles ---------------------------------------------------------------------------


def _title_core(segments: list[str]) -> str:
    """The headline without a short trailing (or leading) site-name segment."""
    if len(segments) < 2:
        return segments[0] if segments else ""
    first, last = segments[0], segments[-1]
    # The headline is the long part; "Site | Headline" puts the short one first.
    if len(words(first)) <= 4 and len(words(last)) > 2 * len(words(first)) + 2:
        return " - ".join(segments[1:])
    return " - ".join(segments[:-1])


def _jaccard(a: str | None, b: str | None) -> float:
    if not a or not b:
        return NAN
    sa, sb = set(words(a)), set(words(b))
    if not sa or not sb:
        return NAN
    return len(sa & sb) / len(sa | sb)


def _title_case_share(core: str, min_words: int) -> float:
    cased = [w for w in core.split() if w[:1].isalpha() and w[:1].lower() != w[:1].upper()]
    if len(cased) < min_words:
        return NAN
    return sum(w[0].isupper() for w in cased) / len(cased)


def _fold(s: str) -> str:
    """Lower-case ASCII letters and digits only ("Süddeutsche Zeitung" -> "suddeutschezeitung")."""
    s = unicodedata.normalize("NFKD", s.lower()).replace("ß", "ss")
    return _LETTERS.sub("", s.encode("ascii", "ignore").decode())


def _site_candidate(segment: str) -> bool:
    """A segment that could be a site name: some Latin letters (else we cannot compare), short."""
    folded = _fold(segment)
    letters = sum(c.isalpha() for c in folded)
    return letters >= 3 and letters >= len(folded) / 2 and len(segment.split()) <= 6


def _names_site(segment: str, url: str) -> bool:
    """Whether a title segment plausibly names the site at ``url`` (tolerant: acronyms, shared stems)."""
    segment = _TLD_TAIL.sub("", segment)  # "MZ.de" -> "MZ"
    seg = _fold(segment)
    if len(seg) < 2:
        return False
    sub, label, _ = split_host(_unwrap_archive(url))
    labels = [label] + [x for x in sub.split(".") if x and x not in _GENERIC_SUBDOMAINS]
    seg_words = [w for w in (_fold(x) for x in segment.split()) if w]
    acronyms = {"".join(w[0] for w in seg_words),
                "".join(w[0] for w in seg_words if w not in _ARTICLES)}
    for raw in labels:
        lab = _fold(raw)
        if len(lab) < 2:
            continue
        if lab in seg or (len(seg) >= 3 and seg in lab) or lab.startswith(seg):
            return True
        if any(len(a) >= 2 and (lab.startswith(a) or a.startswith(lab) or _prefix_len(a, lab) >= 3)
               for a in acronyms):
            return True
        if "-" in raw and "".join(p[0] for p in raw.split("-") if p) == seg:  # deutsche-handwerks-zeitung ~ dhz
            return True
        if _common_substring(seg, lab) >= min(5, len(lab), len(seg)):
            return True
    return False


def _prefix_len(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _unwrap_archive(url: str) -> str:
    """The archived URL inside a web.archive.org address (the page belongs to that site)."""
    m = _ARCHIVE.match(url)
    return m.group(1) if m else url


def _common_substring(a: str, b: str) -> int:
    """Length of the longest common substring (inputs are short site names)."""
    best = 0
    for i in range(len(a)):
        for j in range(i + best + 1, len(a) + 1):
            if a[i:j] in b:
                best = j - i
            else:
                break
    return best


# ----- English vocabulary: rare words and spinner phrases ----------------------------------


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """The shipped list of ~5,000 common English words (see the file header for its origin)."""
    text = (_DATA / "headline_common_words_en.txt").read_text(encoding="utf-8")
    return frozenset(ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#"))


@lru_cache(maxsize=1)
def _spinner_lexicon() -> tuple[dict[str, list[tuple[str, ...]]], re.Pattern | None]:
    """(first token -> phrase token tuples) for lower-case phrases; one regex for case-sensitive ones."""
    by_first: dict[str, list[tuple[str, ...]]] = {}
    exact: list[str] = []
    for ln in (_DATA / "headline_spinner_phrases_en.txt").read_text(encoding="utf-8").splitlines():
        phrase = ln.split("\t")[0].strip()
        if not phrase or phrase.startswith("#"):
            continue
        if phrase.startswith("="):
            exact.append(phrase[1:])
        else:
            toks = tuple(words(phrase))
            by_first.setdefault(toks[0], []).append(toks)
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in exact)
    return by_first, (re.compile(rf"(?<!\w)(?:{body})(?!\w)") if exact else None)


def spinner_phrases(text: str, toks: list[str] | None = None) -> list[str]:
    """Known spinner phrases ("regulation enforcement", "White Home") found in ``text``.

    A token scan rather than one big alternation regex: it is ~20x faster on long stories.
    ``toks`` may pass ``words(text)`` when the caller already has it.
    """
    by_first, exact = _spinner_lexicon()
    toks = words(text) if toks is None else toks
    found = []
    for i in compress(range(len(toks)), map(by_first.__contains__, toks)):
        for cand in by_first[toks[i]]:
            if tuple(toks[i:i + len(cand)]) == cand:
                found.append(" ".join(cand))
                break
    if exact is not None and ("Home" in text or "Get together" in text):
        found.extend(exact.findall(text))
    return found


def spinner_count(text: str, toks: list[str] | None = None) -> int:
    """Number of known spinner phrases in ``text``."""
    return len(spinner_phrases(text, toks))


def _is_english(page: Page, toks: list[str], min_share: float) -> bool:
    if page.lang and page.lang != "en":
        return False
    if not toks:
        return False
    return page.lang == "en" or sum(t in _EN_FUNCTION for t in toks) / len(toks) >= min_share


def _rare_share(toks: list[str], min_words: int) -> float:
    alpha = [t for t in toks if t.isalpha() or "'" in t or "’" in t]
    if len(alpha) < min_words:
        return NAN
    common = common_words()
    return sum(not _known(t, common) for t in alpha) / len(alpha)


def _known(tok: str, common: frozenset[str]) -> bool:
    """Common word, allowing plain inflections the list may hold in another form."""
    if tok in common:
        return True
    tok = tok.replace("’", "'")
    for suffix, repl in (("'s", ""), ("s", ""), ("es", ""), ("ies", "y"), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("ly", ""), ("er", ""), ("est", "")):
        if tok.endswith(suffix) and len(tok) - len(suffix) >= 3 and tok[: -len(suffix)] + repl in common:
            return True
    return False
