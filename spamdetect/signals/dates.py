"""Date signals: the date a page is stamped with, and whether the story fits it.

Farms re-publish old stories under fresh dates: a 2025 stamp on a story whose text sits in
2024, a stamp in the future of the crawl, meta and visible dates that disagree. The stamp is
found htmldate-style: collect candidates (json-ld, meta tags, <time>, labelled visible lines,
the URL path), keep the plausible ones, prefer published over modified. The story's own time
anchors (years, weekdays, "last year") come from ``page.main_text`` in both modes.

Note for the model: ``stamp_year``, ``stamp_ordinal`` and ``story_latest_year`` are absolute
times, there so that reasons can print them; the relative features (gaps, spreads) are the ones
that should generalise.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import compress
from datetime import date, datetime, timedelta, timezone

from spamdetect.page import Page

FEATURES: tuple[str, ...] = (
    "dates.has_stamp",  # 1 when a plausible publication (or, failing that, modification) date was found
    "dates.stamp_year",
    "dates.stamp_ordinal",  # date.toordinal() of the stamp (date.fromordinal() gives it back)
    "dates.stamp_source",  # 1 json-ld, 2 meta, 3 marked element, 4 labelled line, 5 URL, 6 <time>, 7 text line, 8 modified
    "dates.story_latest_year",  # latest year the story text mentions (not after stamp/crawl year + 1)
    "dates.stamp_minus_story_year",  # stamp year - latest story year: > 0 means the story sits before its stamp
    "dates.story_latest_year_mentions",  # how often the story mentions that latest year
    "dates.story_years_distinct",  # distinct years 1900-2099 in the story
    "dates.story_stamp_year_mentions",  # how often the story mentions the stamp's year
    "dates.stamp_days_ahead",  # days the latest claimed date lies after the crawl date (0 if none)
    "dates.published_spread_days",  # days between the earliest and latest published candidates
    "dates.stamp_url_gap_days",  # stamp minus the date in the URL path, in days
    "dates.story_weekday_mentions",  # weekday names in the story (en/de/fr/es)
    "dates.story_relative_mentions",  # "yesterday", "last year", "diese Woche", "hace dos días", ...
)

NAN = float("nan")
MIN_DATE = date(1995, 1, 1)
MAX_DATE = date(2099, 12, 31)
_MAX_LINES = 400  # date lines sit in the page head or around the story, never deep in comments
_MAX_LINE_CHARS = 160
_MAX_ELEMENTS = 40
_MAX_STORY_CHARS = 100_000

# ----- month and weekday names (en, de, fr, es) -------------------------------------------

_MONTH_NAMES = {
    1: "january jan januar jänner jän janvier janv enero ene",
    2: "february feb februar feber février fevrier févr fevr febrero",
    3: "march mar märz maerz mär mars marzo",
    4: "april apr avril avr abril abr",
    5: "may mai mayo",
    6: "june jun juni juin junio",
    7: "july jul juli juillet juil julio",
    8: "august aug août aout agosto ago",
    9: "september sep sept septembre septiembre setiembre",
    10: "october oct oktober okt octobre octubre",
    11: "november nov novembre noviembre",
    12: "december dec dezember dez décembre decembre déc diciembre dic",
}
_MONTHS = {name: num for num, names in _MONTH_NAMES.items() for name in names.split()}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAYS = (
    "monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag "
    "freitag samstag sonnabend sonntag lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes "
    "miércoles miercoles jueves viernes sábado sabado domingo"
).split()

# ----- date patterns ------------------------------------------------------------------------

_Y = r"((?:19|20)\d\d)"
_ISO = re.compile(rf"(?<!\d){_Y}[-/.](0?[1-9]|1[0-2])[-/.](0?[1-9]|[12]\d|3[01])(?!\d)")
_NUMERIC = re.compile(rf"(?<![\d.])(\d{{1,2}})([./-])(\d{{1,2}})\2{_Y}(?!\d)")
_DAY_MONTH = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s*(?:de\s+)?\b({_MONTH_ALT})\b\.?,?\s+(?:de\s+)?{_Y}(?!\d)",
    re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH_ALT})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_Y}(?!\d)", re.IGNORECASE)
_HAS_YEAR = re.compile(r"(?:19|20)\d\d")
# The " 5, 2024" that closes every _MONTH_DAY match: a necessary condition that is ~10x cheaper to
# search for than the case-insensitive month alternation, which is tried at every word start.
_DAY_YEAR_TAIL = re.compile(rf"\s\d{{1,2}}(?:st|nd|rd|th)?,?\s+{_Y}(?!\d)", re.IGNORECASE)
_COMPACT = re.compile(r"^\s*((?:19|20)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?:\D|$)")
_EPOCH = re.compile(r"^\s*(1\d{9})(\d{3})?\s*$")

_URL_YMD = re.compile(rf"/{_Y}[/_-]?(0[1-9]|1[0-2]|[1-9](?=/))[/_-]?(0[1-9]|[12]\d|3[01]|[1-9](?=/))(?=[/_.-]|$)")
_URL_COMPACT = re.compile(rf"(?<![\d]){_Y}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_URL_YM = re.compile(rf"/{_Y}/(0?[1-9]|1[0-2])(?:/|$)")
_ARCHIVE = re.compile(r"^https?://web\.archive\.org/web/[^/]+/")

_LABEL = re.compile(
    r"\b(?:(published|posted|erschienen|veröffentlicht|publié|publicado|publicada|erstellt|created|date|datum|fecha|"
    r"stand)|(updated|last updated|modified|aktualisiert|geändert|mis à jour|actualizado|actualizada))\b",
    re.IGNORECASE)

# ----- story anchors ------------------------------------------------------------------------

_QUANTITY = (r"people|persons|menschen|personen|einwohner|euros?|dollars?|pounds?|francs?|km|kilometers?|"
             r"kilometres?|meters?|metres?|m|kg|tons?|tonnen|times|mal|jobs|stellen|units|stück|besucher|"
             r"visitors|fans|followers|mitglieder|members|euro|usd|chf|eur")
# A year is a bare 19xx/20xx not glued to other numbers, prices or units ("2000 people", "1999 €").
# The context is checked by hand: a lookbehind would keep the regex engine from its fast scan (5x).
_YEAR_TOKEN = re.compile(r"(?:19|20)\d\d")
_NOT_A_YEAR_BEFORE = frozenset("0123456789.,/:$€£¥#-")
_NOT_A_YEAR_AFTER = re.compile(rf"\w|[.,]\d|\s?[%€$£]|\s+(?:{_QUANTITY})\b", re.IGNORECASE)
# Weekdays and relative phrases are counted on word tokens: set look-ups are ~10x faster than
# a case-insensitive alternation regex over a long story.
_WEEKDAY_SET = frozenset(_WEEKDAYS)
_REL_SINGLE = frozenset("yesterday today tomorrow tonight gestern heute vorgestern aujourd'hui avant-hier ayer hoy".split())
_REL_PAIRS = {  # first token -> second tokens
    **dict.fromkeys(("last", "this", "next"), frozenset(
        "week month year night weekend spring summer autumn fall winter morning afternoon evening".split())),
    **dict.fromkeys(("letzte", "letzten", "vergangene", "vergangenen", "diese", "dieser", "diesen", "dieses",
                     "nächste", "nächsten", "kommende", "kommenden"),
                    frozenset("woche monat monats jahr jahres wochenende".split())),
    **dict.fromkeys(("semaine", "an", "l'an", "année", "l'année", "mois"),
                    frozenset("dernière dernier prochaine prochain passée passé".split())),
    "cette": frozenset(("semaine", "année")),
    "ce": frozenset(("mois", "week-end")),
    **dict.fromkeys(("semana", "año", "mes"), frozenset("pasado pasada próximo próxima".split())),
    "esta": frozenset(("semana",)), "este": frozenset(("año", "mes")),
}
_REL_AGO = {  # "<unit> ago" / "vor <n> <unit>" / "hace <n> <unit>" / "il y a <n> <unit>"
    "ago": frozenset("day days week weeks month months year years".split()),
}
_REL_BEFORE_N = {"vor": frozenset("tagen wochen monaten jahren".split()),
                 "hace": frozenset("días dias semanas meses años".split()),
                 "a": frozenset("jours semaines mois ans".split())}  # "il y a deux jours"
_REL_TRIGGERS = _REL_SINGLE | set(_REL_PAIRS) | set(_REL_AGO) | set(_REL_BEFORE_N)

# Ranks for the stamp decision (lower wins); stamp_source reports rank + 1.
_JSONLD, _META, _ELEMENT, _LABELLED, _URL, _TIME, _TEXT, _MODIFIED = range(8)

_META_PUBLISHED = (
    "article:published_time", "og:article:published_time", "og:published_time", "article:published",
    "datepublished", "published_time", "publishdate", "publish-date", "publish_date", "pubdate",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
    "dc.date.created", "dcterms.created", "citation_publication_date", "citation_date", "datecreated",
    "originalpublicationdate", "article.published", "article_date_original", "date", "displaydate",
    "date.available", "cxenseparse:recs:publishtime", "bt:pubdate", "og:pubdate",
)
_META_MODIFIED = (
    "article:modified_time", "og:updated_time", "og:article:modified_time", "datemodified", "modified_time",
    "dc.date.modified", "dcterms.modified", "last-modified", "lastmod", "article:modified", "revised",
    "parsely-updated-date",
)
_JSONLD_PUBLISHED = ("datePublished", "dateCreated", "uploadDate")
_ELEMENT_SELECTOR = '[itemprop="datePublished"],[itemprop="dateModified"],[itemprop="dateCreated"],time'
_PUB_CLASS = re.compile(r"publish|posted|entry-date|post-date|article-date|pubdate|dateline|byline", re.IGNORECASE)
_MOD_CLASS = re.compile(r"updated|modified", re.IGNORECASE)


def features(page: Page, *, min_date: date = MIN_DATE, max_days_after_crawl: int = 1) -> dict[str, float]:
    """Date features of ``page`` (see FEATURES); NaN where the page cannot tell."""
    out = dict.fromkeys(FEATURES, NAN)
    crawl = _as_date(page.crawl_date)
    upper = crawl + timedelta(days=max_days_after_crawl) if crawl else MAX_DATE
    us_order = _us_order(page)
    cands = candidates(page, us_order)
    valid = [c for c in cands if min_date <= c[0] <= upper]
    stamp = min(valid, key=lambda c: c[1]) if valid else None

    out["dates.has_stamp"] = float(stamp is not None)
    if stamp is not None:
        out["dates.stamp_year"] = float(stamp[0].year)
        out["dates.stamp_ordinal"] = float(stamp[0].toordinal())
        out["dates.stamp_source"] = float(stamp[1] + 1)
    claimed = [c[0] for c in cands if c[1] not in (_TIME, _TEXT) and c[0] >= min_date]
    if crawl and claimed:
        out["dates.stamp_days_ahead"] = float(max(0, (max(claimed) - crawl).days))
    published = {c[0] for c in valid if c[1] <= _LABELLED}
    if len(published) >= 2:
        out["dates.published_spread_days"] = float((max(published) - min(published)).days)
    url_date = _url_date(page.url) if page.url else None
    if url_date is not None and not min_date <= url_date[0] <= upper:
        url_date = None
    if stamp is not None and url_date is not None and stamp[1] != _URL:
        out["dates.stamp_url_gap_days"] = float(_gap_to_url(stamp[0], url_date))

    story = page.main_text[:_MAX_STORY_CHARS]
    years = story_years(story)
    out["dates.story_years_distinct"] = float(len(years))
    toks = page.story_words(_MAX_STORY_CHARS)
    out["dates.story_weekday_mentions"] = float(sum(map(_WEEKDAY_SET.__contains__, toks)))
    out["dates.story_relative_mentions"] = float(relative_mentions(toks))
    if stamp is not None:
        out["dates.story_stamp_year_mentions"] = float(years.get(stamp[0].year, 0))
    cap_year = (crawl.year if crawl else stamp[0].year if stamp else MAX_DATE.year) + 1
    recent = [y for y in years if y <= cap_year]
    if recent:
        latest = max(recent)
        out["dates.story_latest_year"] = float(latest)
        out["dates.story_latest_year_mentions"] = float(years[latest])
        if stamp is not None:
            out["dates.stamp_minus_story_year"] = float(stamp[0].year - latest)
    return out


# ----- candidates -------------------------------------------------------------------------


def candidates(page: Page, us_order: bool = False) -> list[tuple[date, int]]:
    """(date, rank) pairs the page offers, in rank order then document order (no range check)."""
    found: list[tuple[date, int]] = []
    if page.is_html:
        found += _from_json_ld(page.json_ld)
        found += _from_meta(page.meta)
        found += _from_elements(page)
    found += _from_lines(page.lines[:_MAX_LINES], us_order)
    url_date = _url_date(page.url) if page.url else None
    if url_date is not None and url_date[1]:  # a full y/m/d in the path
        found.append((url_date[0], _URL))
    found.sort(key=lambda c: c[1])  # stable: document order within a rank
    return found


def _from_json_ld(objs: list[dict]) -> list[tuple[date, int]]:
    out = []
    for obj in objs[:20]:
        for o in [obj] + [v for v in obj.values() if isinstance(v, dict)][:5]:
            for key in _JSONLD_PUBLISHED:
                d = parse_date(o.get(key))
                if d:
                    out.append((d, _JSONLD))
                    break
            d = parse_date(o.get("dateModified"))
            if d:
                out.append((d, _MODIFIED))
    return out


def _from_meta(meta: dict[str, str]) -> list[tuple[date, int]]:
    out = []
    # a page has a few of the ~40 keys: look up presence before paying for a parse_date call
    for key in filter(meta.__contains__, _META_PUBLISHED):
        d = parse_date(meta[key])
        if d:
            out.append((d, _META))
    for key in filter(meta.__contains__, _META_MODIFIED):
        d = parse_date(meta[key])
        if d:
            out.append((d, _MODIFIED))
    return out


def _from_elements(page: Page) -> list[tuple[date, int]]:
    tree = page.tree
    if tree is None or tree.body is None:
        return []
    out = []
    for node in tree.body.css(_ELEMENT_SELECTOR)[:_MAX_ELEMENTS]:
        attrs = node.attributes
        d = parse_date(attrs.get("datetime") or attrs.get("content") or node.text(deep=True)[:100])
        if d is None:
            continue
        prop = attrs.get("itemprop") or ""
        cls = f"{attrs.get('class') or ''} {(node.parent.attributes.get('class') or '') if node.parent else ''}"
        if prop == "dateModified" or (not prop and _MOD_CLASS.search(cls)):
            out.append((d, _MODIFIED))
        elif prop or "pubdate" in attrs or _PUB_CLASS.search(cls):
            out.append((d, _ELEMENT))
        else:
            out.append((d, _TIME))
    return out


def _from_lines(lines: list[str], us_order: bool) -> list[tuple[date, int]]:
    out = []
    for line in lines:
        if len(line) > _MAX_LINE_CHARS or not _HAS_YEAR.search(line):
            continue
        d = parse_text_date(line, us_order)
        if d is None:
            continue
        label = _LABEL.search(line)
        if label is None:
            if len(line) <= 80:  # a bare date line ("5. März 2024", "By Jane Doe, March 5, 2024")
                out.append((d, _TEXT))
        else:
            out.append((d, _LABELLED if label.group(1) else _MODIFIED))
    return out


def _url_date(url: str) -> tuple[date, bool] | None:
    """(date, has_day) from the URL path: /2024/03/05/, /2024-03-05-, /20240305, /2024/03/ (month only)."""
    path = _ARCHIVE.sub("", url)
    path = path.split("://", 1)[-1]
    path = path[path.find("/"):] if "/" in path else ""
    for rx in (_URL_YMD, _URL_COMPACT):
        m = rx.search(path)
        if m:
            d = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            if d:
                return d, True
    m = _URL_YM.search(path)
    if m:
        d = _make(int(m.group(1)), int(m.group(2)), 1)
        if d:
            return d, False
    return None


def _gap_to_url(stamp: date, url_date: tuple[date, bool]) -> int:
    d, has_day = url_date
    if has_day:
        return (stamp - d).days
    if (stamp.year, stamp.month) == (d.year, d.month):
        return 0
    month_end = (d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return (stamp - d).days if stamp < d else (stamp - month_end).days


# ----- parsing --------------------------------------------------------------------------


def parse_date(value: object, us_order: bool = False) -> date | None:
    """A date from a machine-readable value (ISO, RFC 822, compact, epoch) or a human one."""
    if not isinstance(value, str) or not value:
        return None
    value = value.strip()[:100]
    m = _COMPACT.match(value)
    if m:
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _EPOCH.match(value)
    if m:
        return datetime.fromtimestamp(int(m.group(1)), tz=timezone.utc).date()
    return parse_text_date(value, us_order)


def parse_text_date(text: str, us_order: bool = False) -> date | None:
    """The first full date (day, month, year) written in ``text``, in en/de/fr/es forms."""
    m = _ISO.search(text)
    if m:
        return _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DAY_MONTH.search(text)
    if m:
        return _make(int(m.group(3)), _MONTHS.get(m.group(2).lower(), 0), int(m.group(1)))
    m = _MONTH_DAY.search(text) if _DAY_YEAR_TAIL.search(text) else None
    if m:
        return _make(int(m.group(3)), _MONTHS.get(m.group(1).lower(), 0), int(m.group(2)))
    m = _NUMERIC.search(text)
    if m:
        a, sep, b, y = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        month_first = a <= 12 and (b > 12 or (sep == "/" and us_order))
        return _make(y, a, b) if month_first else _make(y, b, a)
    return None


def _make(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _as_date(value: datetime | date | None) -> date | None:
    """The crawl date as a date; None when absent or past MAX_DATE.

    A corrupt WARC-Date can parse to 9999-12-31, where ``crawl + timedelta(days=1)`` overflows;
    no real crawl lies beyond MAX_DATE, so such a date is as good as none.
    """
    if value is None:
        return None
    day = value.date() if isinstance(value, datetime) else value
    # only a real date is range-checked: pandas' NaT (a missing date in a DataFrame) is a datetime
    # whose .date() is NaT again, and it cannot be compared with a date
    return None if type(day) is date and day > MAX_DATE else day


def _us_order(page: Page) -> bool:
    """Whether 03/05/2024 means March 5: English pages outside the day-first English countries."""
    if page.lang not in ("en", None) or not page.url:
        return False
    host = _ARCHIVE.sub("", page.url).split("://", 1)[-1].split("/", 1)[0]
    return not host.endswith((".uk", ".au", ".ie", ".nz", ".in", ".za", ".de", ".fr", ".es", ".at", ".ch",
                              ".it", ".nl", ".eu"))


# ----- story anchors -----------------------------------------------------------------------


def relative_mentions(toks: list[str]) -> int:
    """Relative time phrases in a token list: 'yesterday', 'last week', 'vor drei Tagen', 'hace dos días'."""
    n = 0
    for i in compress(range(len(toks)), map(_REL_TRIGGERS.__contains__, toks)):
        tok = toks[i]
        if tok in _REL_SINGLE:
            n += 1
        elif tok in _REL_PAIRS and i + 1 < len(toks) and toks[i + 1] in _REL_PAIRS[tok]:
            n += 1
        elif tok == "ago" and i and toks[i - 1] in _REL_AGO["ago"]:
            n += 1
        elif tok in _REL_BEFORE_N and i + 2 < len(toks) and toks[i + 2] in _REL_BEFORE_N[tok]:
            n += 1
    return n


def story_years(text: str) -> Counter[int]:
    """Mentions per year (1900-2099) in running text, skipping amounts like '2000 people' or '1999 €'."""
    out: Counter[int] = Counter()
    for m in _YEAR_TOKEN.finditer(text):
        start, end = m.span()
        if start and text[start - 1] in _NOT_A_YEAR_BEFORE:
            continue
        if _NOT_A_YEAR_AFTER.match(text, end) or (end < len(text) and text[end].isdigit()):
            continue
        out[int(m.group())] += 1
    return out
